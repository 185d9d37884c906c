"""One day in the finances of a company with an operating account and a payroll account.

Clients pay into the operating account, and suppliers, rent, bills, taxes and bank fees
are paid from it. On the business day before each payday it tops up the payroll account,
which then pays every employee.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.dates import (
    ONE_DAY,
    is_business_day,
    month_end,
    paydays,
    previous_business_day,
)
from vinculo.sandbox_data.ledger import Ledger
from vinculo.sandbox_data.models import UserProfile
from vinculo.sandbox_data.money import ZERO
from vinculo.sandbox_data.names import last_digits
from vinculo.sandbox_data.plans import business_plan
from vinculo.sandbox_data.seeds import derive_rng
from vinculo.sandbox_data.texts import TEXTS, statement_text

# Up to this many client payments arrive per business day, each with this probability.
_CLIENT_PAYMENT_SLOTS: Final = 2
_CLIENT_PAYMENT_PROBABILITY: Final = 0.2
# Share of the monthly revenue in one client payment, in percent.
_CLIENT_PAYMENT_PERCENT: Final = (5, 18)
_SUPPLIER_PAYMENT_PROBABILITY: Final = 0.2
_SUPPLIER_PAYMENT_PERCENT: Final = (4, 12)


class BusinessSimulation:
    """Posts one day at a time on the ledgers of a company's two checking accounts."""

    def __init__(self, profile: UserProfile, ledgers: dict[str, Ledger]) -> None:
        self._seed = profile.seed
        self._plan = business_plan(profile)
        self._texts = TEXTS[profile.country_code]
        self.operating = ledgers["operating"]
        self.payroll = ledgers["payroll"]
        self._payroll_total = sum((employee.salary for employee in self._plan.employees), ZERO)

    def run_day(self, day: date) -> None:
        if not self.operating.is_open(day):
            return
        rng = derive_rng(self._seed, "business", day.toordinal())
        business_day = is_business_day(day)
        revenue = self._plan.monthly_revenue
        rules = self._plan.currency

        for slot in range(_CLIENT_PAYMENT_SLOTS):
            if business_day and rng.random() < _CLIENT_PAYMENT_PROBABILITY:
                client = self._plan.clients[rng.randrange(len(self._plan.clients))]
                low, high = _CLIENT_PAYMENT_PERCENT
                amount = rules.draw_local(rng, revenue * low / 100, revenue * high / 100)
                self.operating.post(
                    f"client-payment-{slot}",
                    "INFLOW",
                    amount,
                    description=statement_text(self._texts.client_payment, partner=client),
                    category="Income & Payments",
                )

        self._recurring(day)
        self._taxes(day, rng.randint(80, 120))
        self._fund_payroll(day)
        self._pay_employees(day)

        if business_day and rng.random() < _SUPPLIER_PAYMENT_PROBABILITY:
            supplier = self._plan.suppliers[rng.randrange(len(self._plan.suppliers))]
            low, high = _SUPPLIER_PAYMENT_PERCENT
            amount = rules.draw_local(rng, revenue * low / 100, revenue * high / 100)
            self._pay_from_operating(
                "supplier-payment",
                amount,
                statement_text(self._texts.supplier_payment, partner=supplier),
                reserve=self._payroll_total,
            )

        fee = self._plan.account_fee
        if day == month_end(day.year, day.month) and self.operating.can_pay(fee):
            self.operating.post(
                "account-fee",
                "OUTFLOW",
                fee,
                description=statement_text(self._texts.account_fee),
                category="Fees & Charges",
                subcategory="Bank Fees",
            )

    def _pay_from_operating(
        self, key: str, amount: Decimal, description: str, *, reserve: Decimal = ZERO
    ) -> None:
        if self.operating.can_pay(amount, reserve=reserve):
            self.operating.post(
                key, "OUTFLOW", amount, description=description, category="Transfers"
            )

    def _recurring(self, day: date) -> None:
        """Pay the office rent on the 1st and the utility bills on their days."""
        rent = self._plan.office_rent
        payments = (
            [(rent, statement_text(self._texts.rent, landlord=rent.counterparty))]
            if day.day == rent.day
            else []
        )
        payments += [
            (bill, statement_text(self._texts.bill, biller=bill.counterparty))
            for bill in self._plan.bills
            if day.day == bill.day
        ]
        for payment, description in payments:
            if self.operating.can_pay(payment.amount):
                self.operating.post(
                    payment.key,
                    "OUTFLOW",
                    payment.amount,
                    description=description,
                    category=payment.category,
                    subcategory=payment.subcategory,
                    merchant=payment.merchant,
                )

    def _taxes(self, day: date, percent_of_estimate: int) -> None:
        """Pay the monthly tax on the country's tax day: a share of the revenue, ±20 %."""
        if day.day != self._plan.tax_day:
            return
        estimate = self._plan.monthly_revenue * self._plan.tax_percent_of_revenue / 100
        amount = self._plan.currency.round(estimate * percent_of_estimate / 100)
        period = f"{day.month:02d}/{day.year}"
        if self.operating.can_pay(amount):
            self.operating.post(
                "tax",
                "OUTFLOW",
                amount,
                description=statement_text(self._texts.tax_payment, period=period),
                category="Taxes",
                subcategory="Income Tax",
            )

    def _fund_payroll(self, day: date) -> None:
        """On the business day before a payday, top the payroll account up to the payroll."""
        funding_days = [
            previous_business_day(payday - ONE_DAY) for payday in paydays(day.year, day.month)
        ]
        if day not in funding_days:
            return
        amount = min(self._payroll_total - self.payroll.balance, self.operating.balance)
        if amount <= 0:
            return
        self.operating.post(
            "payroll-funding",
            "OUTFLOW",
            amount,
            description=statement_text(
                self._texts.payroll_funding_out, number=last_digits(self.payroll.account.number)
            ),
            category="Transfers",
        )
        self.payroll.post(
            "payroll-funding",
            "INFLOW",
            amount,
            description=statement_text(
                self._texts.payroll_funding_in, number=last_digits(self.operating.account.number)
            ),
            category="Transfers",
        )

    def _pay_employees(self, day: date) -> None:
        if day not in paydays(day.year, day.month):
            return
        for index, employee in enumerate(self._plan.employees):
            if self.payroll.can_pay(employee.salary):
                self.payroll.post(
                    f"salary-{index}",
                    "OUTFLOW",
                    employee.salary,
                    description=statement_text(self._texts.payroll_payment, employee=employee.name),
                    category="Transfers",
                )
