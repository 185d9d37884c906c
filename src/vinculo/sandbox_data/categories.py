"""Belvo's enumerations used by the sandbox data, spelled exactly as the API sends them.

The values come from the `EnumAccountCategory`, `EnumTransactionCategory`,
`EnumTransactionSubcategory`, `EnumTransactionType`, `EnumTransactionStatus` and
`EnumTransactionBillStatus` schemas of Belvo's OpenAPI specification, version 1.35.0.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

AccountCategory = Literal["CHECKING_ACCOUNT", "SAVINGS_ACCOUNT", "CREDIT_CARD", "LOAN_ACCOUNT"]
BalanceType = Literal["ASSET", "LIABILITY"]
TransactionType = Literal["INFLOW", "OUTFLOW"]
TransactionStatus = Literal["PENDING", "PROCESSED"]
BillStatus = Literal["PAID", "CLOSED", "OPEN", "FUTURE"]
InterestRateType = Literal["MONTHLY", "YEARLY"]
LoanFeeType = Literal["OPERATION_FEE", "INSURANCE_FEE", "OTHERS"]

TransactionCategory = Literal[
    "Bills & Utilities",
    "Credits & Loans",
    "Deposits",
    "Fees & Charges",
    "Food & Groceries",
    "Home & Life",
    "Income & Payments",
    "Insurance",
    "Investments & Savings",
    "Online Platforms & Leisure",
    "Personal Shopping",
    "Taxes",
    "Transfers",
    "Transport & Travel",
    "Unknown",
    "Withdrawal & ATM",
]

# NOTE: the specification lists subcategories without saying which category each belongs
# to. The sandbox pairs them by the order of the two enumerations (Rent with Bills &
# Utilities, Salary with Income & Payments), which is a reading, not a documented rule.
TransactionSubcategory = Literal[
    "Electricity & Energy",
    "Rent",
    "Telecommunications",
    "Water",
    "Auto",
    "Credit Card",
    "Instalment",
    "Interest & Charges",
    "Mortgage",
    "Pay Advance",
    "Personal",
    "Adjustments",
    "Bank Fees",
    "Chargeback",
    "Refund",
    "Blocked Balances",
    "Alimony",
    "Alcohol & Tobacco",
    "Bakery & Coffee",
    "Bars & Nightclubs",
    "Convenience Store",
    "Delivery",
    "Groceries",
    "Restaurants",
    "Education",
    "Gyms & Fitness",
    "Hair & Beauty",
    "Health",
    "Home Decor & Appliances",
    "Laundry & Dry Cleaning",
    "Pharmacies",
    "Professional Services",
    "Veterinary Services",
    "Freelance",
    "Interest",
    "Retirement",
    "Salary",
    "Government",
    "Home Insurance",
    "Auto Insurance",
    "Health & Life Insurance",
    "Savings",
    "Fixed income",
    "Equity",
    "Investment Funds",
    "Derivatives",
    "Cryptocurrencies",
    "Apps, Software and Cloud Services",
    "Events, Parks and Museums",
    "Gambling",
    "Gaming",
    "Lottery",
    "Movie & Audio",
    "Books & News",
    "Clothing & Accessories",
    "Department Store",
    "Electronics",
    "E-commerce",
    "Gifts",
    "Office Supplies",
    "Pet Supplies",
    "Auto Tax & Fees",
    "Donation",
    "Government Fees",
    "Income Tax",
    "Real Estate Tax & Fees",
    "Tax Return",
    "Accommodation",
    "Auto Expenses",
    "Auto Rental",
    "Flights",
    "Gas",
    "Mileage Programs",
    "Parking & Tolls",
    "Public Transit",
    "Taxis & Rideshares",
    "Other",
]

TRANSACTION_CATEGORIES: Final[frozenset[str]] = frozenset(get_args(TransactionCategory))
TRANSACTION_SUBCATEGORIES: Final[frozenset[str]] = frozenset(get_args(TransactionSubcategory))
