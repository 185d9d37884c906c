"""Credit card billing cycles: bills close on the cutting day and fall due 20 days later."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from vinculo.sandbox_data.dates import add_months
from vinculo.sandbox_data.ledger import Ledger
from vinculo.sandbox_data.models import CreditCardTerms
from vinculo.sandbox_data.money import ZERO, to_money


@dataclass(slots=True)
class Statement:
    """A closed credit card bill. `paid` grows as payments arrive, up to the simulated day."""

    cutting_date: date
    due_date: date
    # The card's balance at the end of the cutting day.
    balance: Decimal
    minimum_payment: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return max(self.balance - self.paid, ZERO)


def cutting_date_on_or_after(day: date, cutting_day: int) -> date:
    """Return the first cutting date on or after `day`: the close of the bill of `day`."""
    if day.day <= cutting_day:
        return day.replace(day=cutting_day)
    return add_months(day, 1, day_of_month=cutting_day)


def minimum_payment(terms: CreditCardTerms, balance: Decimal) -> Decimal:
    """Return the minimum payment of a bill: a percentage with a floor, at most the bill."""
    percentage = to_money(balance * terms.minimum_payment_percent / 100)
    return min(balance, max(percentage, terms.minimum_payment_floor))


class CardCycle:
    """Closes the bills of one card and tracks the payments made against them."""

    def __init__(
        self,
        ledger: Ledger,
        interest_description: str,
        statements: Iterable[Statement] = (),
    ) -> None:
        """Start a cycle with no bills, or with copies of `statements` when a simulation
        resumes. The cycle adds payments to its last bill, so the caller's bills stay as
        they are."""
        terms = ledger.account.credit_data
        if terms is None:
            raise ValueError(f"account {ledger.account.role!r} has no credit card terms")
        self.ledger = ledger
        self.terms = terms
        self.statements: list[Statement] = [dataclasses.replace(bill) for bill in statements]
        self._interest_description = interest_description

    def bill_due(self, day: date) -> Statement | None:
        """Return the last bill if it falls due on `day` and is not paid in full."""
        if not self.statements:
            return None
        statement = self.statements[-1]
        if statement.due_date == day and statement.outstanding > 0:
            return statement
        return None

    def record_payment(self, statement: Statement, amount: Decimal, description: str) -> None:
        self.ledger.post(
            "payment",
            "INFLOW",
            amount,
            description=description,
            category="Credits & Loans",
            subcategory="Credit Card",
        )
        statement.paid += amount

    def close_if_cutting_day(self, day: date) -> None:
        """On the cutting day, charge interest on the unpaid part of the last bill and close
        the new bill. Call it after the day's purchases."""
        if day.day != self.terms.cutting_day or not self.ledger.is_open(day):
            return
        if self.statements:
            unpaid = self.statements[-1].outstanding
            interest = to_money(unpaid * self.terms.interest_rate / 1200)
            if interest > 0:
                self.ledger.post(
                    "interest",
                    "OUTFLOW",
                    interest,
                    description=self._interest_description,
                    category="Credits & Loans",
                    subcategory="Interest & Charges",
                )
        balance = max(self.ledger.balance, ZERO)
        self.statements.append(
            Statement(
                cutting_date=day,
                due_date=day + timedelta(days=self.terms.payment_due_days),
                balance=balance,
                minimum_payment=minimum_payment(self.terms, balance),
                paid=ZERO,
            )
        )
