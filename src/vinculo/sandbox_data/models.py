"""Public value types of the sandbox data.

Money is a `Decimal` with two places, dates are `datetime.date`, and timestamps are aware
UTC `datetime`s. Every type is a frozen dataclass, so a profile can key a cache.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from vinculo.sandbox_data.categories import (
    AccountCategory,
    BalanceType,
    BillStatus,
    InterestRateType,
    LoanFeeType,
    TransactionCategory,
    TransactionStatus,
    TransactionSubcategory,
    TransactionType,
)


class Dataset(enum.StrEnum):
    """The kind of data that a username gets."""

    FULL = "full"
    DEFAULT = "default"
    THIN_FILE = "thin_file"
    BUSINESS = "business"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_name: str
    website: str | None
    logo: str | None


@dataclass(frozen=True, slots=True)
class CreditCardTerms:
    """The fixed conditions of a credit card."""

    credit_limit: Decimal
    # Day of the month (1-28) on which the bill closes.
    cutting_day: int
    # Days from the cutting date to the payment due date.
    payment_due_days: int
    # The minimum payment is this percentage of the bill, but at least `minimum_payment_floor`
    # (or the whole bill when it is smaller).
    minimum_payment_percent: Decimal
    minimum_payment_floor: Decimal
    # Annual interest rate in percent. A twelfth of it is charged at the next cutting date
    # on the part of a bill that was not paid by its due date.
    interest_rate: Decimal


@dataclass(frozen=True, slots=True)
class InterestRate:
    name: str
    type: InterestRateType
    # Rate in percent for the period of `type`.
    value: Decimal


@dataclass(frozen=True, slots=True)
class LoanFee:
    type: LoanFeeType
    value: Decimal


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """The contract of an amortizing loan with fixed monthly instalments."""

    loan_type: str
    contract_number: str
    # The amount lent. The borrower receives it minus the fees.
    principal: Decimal
    # Everything the borrower repays: all instalments plus the fees.
    contract_amount: Decimal
    monthly_payment: Decimal
    # Annual rate in percent, the basis of the instalment (French amortization).
    annual_interest_rate: Decimal
    interest_rates: tuple[InterestRate, ...]
    fees: tuple[LoanFee, ...]
    number_of_installments_total: int
    # Day of the month of each instalment (1-28).
    payment_day: int
    contract_start_date: date
    contract_end_date: date


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One account of a sandbox user, with everything that does not depend on `today`."""

    # The institution's own id of the account, unique among the user's accounts.
    internal_identification: str
    # The account's stable role in the profile, such as `checking` or `credit_card`. Its
    # random draws derive from it.
    role: str
    category: AccountCategory
    balance_type: BalanceType
    # The institution's label for the kind of account, such as "Cuentas de efectivo".
    type: str
    name: str
    number: str | None
    currency: str
    public_identification_name: str | None
    public_identification_value: str | None
    opened_on: date
    # Balance on `opened_on`, before the first transaction. For a credit card it is the debt
    # and for a loan the total still to repay, both as positive amounts.
    opening_balance: Decimal
    # When set, the institution shows only the transactions of the last `history_days` days
    # up to `today`. The balances still count the older ones.
    history_days: int | None
    credit_data: CreditCardTerms | None
    loan_data: LoanTerms | None


@dataclass(frozen=True, slots=True)
class DocumentId:
    document_type: str
    document_number: str


@dataclass(frozen=True, slots=True)
class OwnerSpec:
    internal_identification: str
    display_name: str
    first_name: str | None
    last_name: str | None
    second_last_name: str | None
    email: str
    phone_number: str
    address: str
    document_id: DocumentId
    # Further documents of the owner, such as the RFC of a Mexican person whose
    # `document_id` is the CURP.
    other_documents: tuple[DocumentId, ...]


@dataclass(frozen=True, slots=True)
class UserProfile:
    """Accounts and owners of one end user of one sandbox institution."""

    institution_name: str
    username: str
    country_code: str
    currency: str
    dataset: Dataset
    # SHA-256 of `institution_name|username`, the source of every random draw.
    seed: bytes
    accounts: tuple[AccountSpec, ...]
    owners: tuple[OwnerSpec, ...]

    def account(self, internal_identification: str) -> AccountSpec:
        """Return the account with this `internal_identification`, or raise KeyError."""
        for account in self.accounts:
            if account.internal_identification == internal_identification:
                return account
        raise KeyError(
            f"no account {internal_identification!r} for user {self.username!r} "
            f"of {self.institution_name}"
        )


@dataclass(frozen=True, slots=True)
class CreditCardBill:
    """The credit card bill that a card transaction belongs to, as of `today`."""

    # Month and year of the bill's cutting date, such as `mar-2025`.
    bill_name: str
    bill_status: BillStatus
    # The bill's closing balance, or for the open bill the card's balance on `today`.
    bill_amount: Decimal
    previous_bill_total: Decimal | None


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    # The institution's own id: unique within the account and the same in every request.
    internal_identification: str
    value_date: date
    accounting_date: datetime
    # Always positive, because `type` gives the direction.
    amount: Decimal
    type: TransactionType
    status: TransactionStatus
    description: str
    observations: str | None
    reference: str
    category: TransactionCategory
    subcategory: TransactionSubcategory | None
    merchant: Merchant | None
    # The account's balance right after this transaction.
    balance: Decimal
    currency: str
    credit_card_data: CreditCardBill | None


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """The `balance` object of an account on `today`."""

    current: Decimal
    available: Decimal


@dataclass(frozen=True, slots=True)
class CreditCardStatus:
    """The `credit_data` figures of a credit card on `today`."""

    credit_limit: Decimal
    # The closing date of the open bill.
    cutting_date: date
    next_payment_date: date
    # Amounts still due by `next_payment_date`: the minimum payment, and the payment that
    # avoids interest. Both are zero once the last closed bill is paid.
    minimum_payment: Decimal
    no_interest_payment: Decimal
    interest_rate: Decimal
    last_payment_date: date | None


@dataclass(frozen=True, slots=True)
class LoanStatus:
    """The `loan_data` figures of a loan on `today`."""

    # Amount still to repay, interest included (the account's current balance).
    outstanding_balance: Decimal
    # The principal part of it, which also pays the loan off today.
    outstanding_principal: Decimal
    number_of_installments_outstanding: int
    next_payment_date: date | None
    last_payment_date: date | None
