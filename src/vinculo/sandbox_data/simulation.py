"""Day-by-day simulation of all accounts of a profile, from the first opening to `until`.

The accounts of a profile are simulated together because they pay each other: card bills
and loan instalments leave the checking account, and savings receive transfers from it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Protocol

from vinculo.sandbox_data.business import BusinessSimulation
from vinculo.sandbox_data.cards import CardCycle, Statement
from vinculo.sandbox_data.dates import days_between
from vinculo.sandbox_data.ledger import UTC_OFFSETS, Ledger, Posting
from vinculo.sandbox_data.models import AccountSpec, Dataset, UserProfile
from vinculo.sandbox_data.personal import PersonalSimulation

# Simulations kept for reuse. One entry contains every posting of one profile up to one day,
# a few thousand objects, so the cache stays small.
_CACHED_SIMULATIONS: Final = 8

_NO_STATEMENTS: Final[Mapping[date, Statement]] = MappingProxyType({})


class _DaySimulation(Protocol):
    def run_day(self, day: date) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """Everything one account booked from its opening to the simulated day."""

    account: AccountSpec
    postings: tuple[Posting, ...]
    # The postings' value dates, in the same order, for bisection.
    value_dates: tuple[date, ...]
    # The card's closed bills by cutting date. Empty for other accounts.
    statements: Mapping[date, Statement]

    @property
    def final_balance(self) -> Decimal:
        return self.postings[-1].balance if self.postings else self.account.opening_balance


def _history(ledger: Ledger, card_cycle: CardCycle | None) -> AccountHistory:
    statements = _NO_STATEMENTS
    if card_cycle is not None and card_cycle.ledger is ledger:
        statements = MappingProxyType({bill.cutting_date: bill for bill in card_cycle.statements})
    postings = tuple(ledger.postings)
    return AccountHistory(
        account=ledger.account,
        postings=postings,
        value_dates=tuple(posting.value_date for posting in postings),
        statements=statements,
    )


@functools.lru_cache(maxsize=_CACHED_SIMULATIONS)
def simulate(profile: UserProfile, until: date) -> Mapping[str, AccountHistory]:
    """Simulate every account of `profile` up to and including `until`, keyed by role.

    A day's postings depend only on the seed, the date and the balances at its start, so
    a longer simulation extends a shorter one without changing it. The result is shared by
    every caller of the cache and must not be modified.
    """
    if not profile.accounts:
        return MappingProxyType({})
    offset = UTC_OFFSETS[profile.country_code]
    ledgers = {account.role: Ledger(account, profile.seed, offset) for account in profile.accounts}
    simulation: _DaySimulation
    card_cycle: CardCycle | None = None
    if profile.dataset is Dataset.BUSINESS:
        simulation = BusinessSimulation(profile, ledgers)
    else:
        personal = PersonalSimulation(profile, ledgers)
        card_cycle = personal.card_cycle
        simulation = personal

    first_day = min(account.opened_on for account in profile.accounts)
    for day in days_between(first_day, until):
        simulation.run_day(day)
        for ledger in ledgers.values():
            ledger.close_day(day)
    return MappingProxyType(
        {role: _history(ledger, card_cycle) for role, ledger in ledgers.items()}
    )
