"""The running ledger of one account during the simulation.

A ledger applies each posting to the balance at once, in the order the simulation posts
them, and turns the day's postings into `Posting`s when the day closes. Posting order is
therefore the statement order, and each `balance` follows from the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.categories import (
    TransactionCategory,
    TransactionSubcategory,
    TransactionType,
)
from vinculo.sandbox_data.models import AccountSpec, Merchant
from vinculo.sandbox_data.money import ZERO
from vinculo.sandbox_data.seeds import derive_seed

# Local business hours in which transactions are booked: from 07:00, for 11 hours. With
# the UTC offsets below, the UTC date of every booking equals its local value date.
_FIRST_BOOKING_MINUTE: Final = 7 * 60
_BOOKING_WINDOW_MINUTES: Final = 11 * 60
# Fixed offsets: Mexico and Brazil have not observed daylight saving time since 2022 and
# 2019, and Colombia does not observe it.
UTC_OFFSETS: Final = {
    "MX": timedelta(hours=-6),
    "CO": timedelta(hours=-5),
    "BR": timedelta(hours=-3),
}
_ID_LENGTH: Final = 24
_REFERENCE_DIGITS: Final = 8


@dataclass(frozen=True, slots=True)
class Posting:
    """A transaction as the simulation booked it, without the fields that depend on `today`."""

    internal_identification: str
    value_date: date
    accounting_date: datetime
    amount: Decimal
    type: TransactionType
    description: str
    observations: str | None
    reference: str
    category: TransactionCategory
    subcategory: TransactionSubcategory | None
    merchant: Merchant | None
    balance: Decimal


@dataclass(frozen=True, slots=True)
class _Draft:
    key: str
    type: TransactionType
    amount: Decimal
    balance: Decimal
    description: str
    observations: str | None
    category: TransactionCategory
    subcategory: TransactionSubcategory | None
    merchant: Merchant | None


class Ledger:
    """Balance and postings of one account.

    For an asset an inflow adds to the balance. For a liability (card, loan) the balance is
    the debt, so an inflow (a payment) lowers it and an outflow raises it.
    """

    def __init__(
        self,
        account: AccountSpec,
        seed: bytes,
        utc_offset: timedelta,
        *,
        balance: Decimal | None = None,
    ) -> None:
        """Start the ledger at the account's opening balance, or at `balance` when a
        simulation resumes after its opening."""
        self.account = account
        self.balance = account.opening_balance if balance is None else balance
        self.postings: list[Posting] = []
        self._drafts: list[_Draft] = []
        self._id_seed = derive_seed(seed, "transactions", account.role)
        self._utc_offset = utc_offset
        self._is_liability = account.balance_type == "LIABILITY"

    def is_open(self, day: date) -> bool:
        return day >= self.account.opened_on

    def can_pay(self, amount: Decimal, *, reserve: Decimal = ZERO) -> bool:
        """Check that an outflow of `amount` keeps an asset at `reserve` or more, or a card
        within its credit limit. Loans accept any outflow."""
        if not self._is_liability:
            return self.balance - amount >= reserve
        if self.account.credit_data is not None:
            return self.balance + amount <= self.account.credit_data.credit_limit
        return True

    def post(
        self,
        key: str,
        flow: TransactionType,
        amount: Decimal,
        *,
        description: str,
        category: TransactionCategory,
        subcategory: TransactionSubcategory | None = None,
        merchant: Merchant | None = None,
        observations: str | None = None,
    ) -> None:
        """Book a transaction of the current day. `key` must be unique in the account's day."""
        if amount <= 0:
            raise ValueError(f"transaction amounts are positive, got {amount} for {key!r}")
        adds = (flow == "INFLOW") != self._is_liability
        self.balance = self.balance + amount if adds else self.balance - amount
        self._drafts.append(
            _Draft(
                key,
                flow,
                amount,
                self.balance,
                description,
                observations,
                category,
                subcategory,
                merchant,
            )
        )

    def close_day(self, day: date) -> None:
        """Turn the day's drafts into postings with ids, references and booking times.

        Each posting gets one slot of the booking window, in posting order, so booking
        times increase with the statement order.
        """
        if not self._drafts:
            return
        slot_minutes = _BOOKING_WINDOW_MINUTES // len(self._drafts)
        midnight = datetime.combine(day, time(0), tzinfo=UTC) - self._utc_offset
        ordinal = day.toordinal()
        for index, draft in enumerate(self._drafts):
            digest = derive_seed(self._id_seed, ordinal, draft.key)
            offset = int.from_bytes(digest[:2], "big") % slot_minutes
            minute = _FIRST_BOOKING_MINUTE + index * slot_minutes + offset
            reference = int.from_bytes(digest[16:24], "big") % 10**_REFERENCE_DIGITS
            self.postings.append(
                Posting(
                    internal_identification=digest[: _ID_LENGTH // 2].hex().upper(),
                    value_date=day,
                    accounting_date=midnight + timedelta(minutes=minute, seconds=digest[2] % 60),
                    amount=draft.amount,
                    type=draft.type,
                    description=draft.description,
                    observations=draft.observations,
                    reference=f"{reference:0{_REFERENCE_DIGITS}d}",
                    category=draft.category,
                    subcategory=draft.subcategory,
                    merchant=draft.merchant,
                    balance=draft.balance,
                )
            )
        self._drafts.clear()
