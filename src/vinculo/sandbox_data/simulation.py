"""Day-by-day simulation of all accounts of a profile, from the first opening to `until`.

The accounts of a profile are simulated together because they pay each other: card bills
and loan instalments leave the checking account, and savings receive transfers from it.

A whole history costs tens of milliseconds of CPU and about 1 MB, so `simulate` caches only
a few. A server refreshes many users, though, and each refresh requests the days since
shortly before the previous one. For those requests every simulation also leaves a small
checkpoint of its profile: the state at the close of `until` and the postings of its last
`TAIL_DAYS` days. `recent_histories` resumes the simulation from that checkpoint, so a
later request simulates only the days since the previous one. A resumed simulation books
exactly what a simulation from the first opening books, because a day's postings depend
only on the seed, the date and the state carried in.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Protocol

from vinculo.sandbox_data.business import BusinessSimulation
from vinculo.sandbox_data.cards import CardCycle, Statement
from vinculo.sandbox_data.dates import ONE_DAY, days_between
from vinculo.sandbox_data.ledger import UTC_OFFSETS, Ledger, Posting
from vinculo.sandbox_data.models import AccountSpec, Dataset, UserProfile
from vinculo.sandbox_data.personal import PersonalSimulation

# Simulations kept for reuse. One entry contains every posting of one profile up to one day,
# a few thousand objects, so the cache stays small.
_CACHED_SIMULATIONS: Final = 8
# Days of postings that a checkpoint keeps, up to its day. A recurrent refresh requests the
# days from 7 days before the previous refresh, and the longest refresh rate is 30 days
# (`vinculo.refreshes.schedule`). So 40 days still serve a refresh after other requests of
# the user moved the checkpoint up to 30 days past the previous refresh.
TAIL_DAYS: Final = 40
# Profiles whose checkpoint is kept, least recently used first out. A checkpoint took 25 to
# 33 KiB (tracemalloc, 100 users each of the default, thin-file and business datasets on
# 2026-12-05), so 4,096 of them take about 130 MiB, while the whole histories of as many
# users would take 4 GB.
# NOTE: when more users than this take turns, each checkpoint is dropped before the user's
# next request, and every request simulates from the first opening again.
REMEMBERED_USERS: Final = 4096
# The bill of a card transaction also names the previous bill, which closed at most 31 days
# before the transaction's own bill.
_PREVIOUS_BILL_DAYS: Final = timedelta(days=31)

_NO_STATEMENTS: Final[Mapping[date, Statement]] = MappingProxyType({})


class _DaySimulation(Protocol):
    def run_day(self, day: date) -> None: ...


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """The postings and card bills of one account from its opening to the simulated day.

    A history from `recent_histories` may leave out the postings before `complete_from`.
    It keeps the two facts about them that the queries read: the balance they leave and
    the date of the last inflow among them.
    """

    account: AccountSpec
    # Every posting with a value date on or after `complete_from`, in statement order.
    postings: tuple[Posting, ...]
    # The postings' value dates, in the same order, for bisection.
    value_dates: tuple[date, ...]
    # The card's closed bills by cutting date, from `_PREVIOUS_BILL_DAYS` before
    # `complete_from` on. Empty for other accounts.
    statements: Mapping[date, Statement]
    # `date.min` when the history is whole.
    complete_from: date
    # The balance before the first of `postings`: the opening balance in a whole history.
    balance_before: Decimal
    # The value date of the last inflow before `complete_from`, if any.
    last_inflow_before: date | None

    @property
    def final_balance(self) -> Decimal:
        return self.postings[-1].balance if self.postings else self.balance_before

    @property
    def last_inflow_date(self) -> date | None:
        """The value date of the account's last inflow, such as a card or loan payment."""
        for posting in reversed(self.postings):
            if posting.type == "INFLOW":
                return posting.value_date
        return self.last_inflow_before


@dataclass(frozen=True, slots=True)
class _Checkpoint:
    """A profile's simulation at the close of `day`: enough to resume it on the next day.

    Each history contains the postings from `tail_start` on, and its ledger resumes at the
    history's final balance. The bills in `histories` may also belong to cached histories,
    so nothing modifies them: `CardCycle` copies the bills that it resumes with.
    """

    profile: UserProfile
    day: date
    tail_start: date
    histories: Mapping[str, AccountHistory]
    # The loan instalments paid by `day`, which number the next one.
    loan_payments: int


@dataclass(frozen=True, slots=True)
class _Resumed:
    """The histories of a resumed simulation, complete from `complete_from` on."""

    profile: UserProfile
    complete_from: date
    histories: Mapping[str, AccountHistory]


# The checkpoint of each recently simulated profile, keyed by seed, and the last few resumed
# simulations, keyed by seed and `until`. The server calls the simulation from its event
# loop and `vinculo sandbox seed` from worker processes, so the lock only keeps the two
# dictionaries consistent should a caller use threads.
_checkpoints: OrderedDict[bytes, _Checkpoint] = OrderedDict()
_resumed: OrderedDict[tuple[bytes, date], _Resumed] = OrderedDict()
_lock = threading.Lock()


def _whole_history(ledger: Ledger, card_cycle: CardCycle | None) -> AccountHistory:
    statements = _NO_STATEMENTS
    if card_cycle is not None and card_cycle.ledger is ledger:
        statements = MappingProxyType({bill.cutting_date: bill for bill in card_cycle.statements})
    postings = tuple(ledger.postings)
    return AccountHistory(
        account=ledger.account,
        postings=postings,
        value_dates=tuple(posting.value_date for posting in postings),
        statements=statements,
        complete_from=date.min,
        balance_before=ledger.account.opening_balance,
        last_inflow_before=None,
    )


def _extended_history(
    earlier: AccountHistory, ledger: Ledger, card_cycle: CardCycle | None
) -> AccountHistory:
    """Append the postings that `ledger` booked after a checkpoint to the checkpoint's."""
    statements = earlier.statements
    if card_cycle is not None and card_cycle.ledger is ledger:
        statements = MappingProxyType({bill.cutting_date: bill for bill in card_cycle.statements})
    return AccountHistory(
        account=earlier.account,
        postings=earlier.postings + tuple(ledger.postings),
        value_dates=earlier.value_dates + tuple(posting.value_date for posting in ledger.postings),
        statements=statements,
        complete_from=earlier.complete_from,
        balance_before=earlier.balance_before,
        last_inflow_before=earlier.last_inflow_before,
    )


def _trimmed_history(history: AccountHistory, first: date) -> AccountHistory:
    """Drop the postings before `first`, and the bills that no query from `first` on reads."""
    assert history.complete_from <= first, "a history cannot regain dropped postings"
    index = bisect.bisect_left(history.value_dates, first)
    balance_before = history.postings[index - 1].balance if index else history.balance_before
    last_inflow_before = history.last_inflow_before
    for position in range(index - 1, -1, -1):
        if history.postings[position].type == "INFLOW":
            last_inflow_before = history.postings[position].value_date
            break

    statements = history.statements
    if statements:
        oldest_read = first - _PREVIOUS_BILL_DAYS
        last_cut = max(statements)
        # The last bill is kept whatever its date, because the card cycle resumes from it.
        statements = MappingProxyType(
            {cut: bill for cut, bill in statements.items() if cut >= oldest_read or cut == last_cut}
        )
    return AccountHistory(
        account=history.account,
        postings=history.postings[index:],
        value_dates=history.value_dates[index:],
        statements=statements,
        complete_from=first,
        balance_before=balance_before,
        last_inflow_before=last_inflow_before,
    )


def _start(
    profile: UserProfile, ledgers: dict[str, Ledger], checkpoint: _Checkpoint | None
) -> tuple[_DaySimulation, CardCycle | None]:
    """Build the simulation of `profile` at the accounts' opening or at `checkpoint`."""
    if profile.dataset is Dataset.BUSINESS:
        return BusinessSimulation(profile, ledgers), None
    if checkpoint is None:
        personal = PersonalSimulation(profile, ledgers)
    else:
        card = checkpoint.histories.get("credit_card")
        personal = PersonalSimulation(
            profile,
            ledgers,
            statements=card.statements.values() if card is not None else (),
            loan_payments=checkpoint.loan_payments,
        )
    return personal, personal.card_cycle


def _run(simulation: _DaySimulation, ledgers: dict[str, Ledger], first: date, last: date) -> None:
    for day in days_between(first, last):
        simulation.run_day(day)
        for ledger in ledgers.values():
            ledger.close_day(day)


def _loan_payments(simulation: _DaySimulation) -> int:
    return simulation.loan_payments if isinstance(simulation, PersonalSimulation) else 0


def _remember(
    profile: UserProfile,
    until: date,
    histories: Mapping[str, AccountHistory],
    loan_payments: int,
) -> None:
    """Store the checkpoint of `profile` at `until`, in place of the one before.

    The latest request of a user, rather than the latest day, predicts its next request.
    """
    tail_start = until - timedelta(days=TAIL_DAYS - 1)
    checkpoint = _Checkpoint(
        profile=profile,
        day=until,
        tail_start=tail_start,
        histories=MappingProxyType(
            {role: _trimmed_history(history, tail_start) for role, history in histories.items()}
        ),
        loan_payments=loan_payments,
    )
    with _lock:
        _checkpoints[profile.seed] = checkpoint
        _checkpoints.move_to_end(profile.seed)
        while len(_checkpoints) > REMEMBERED_USERS:
            _checkpoints.popitem(last=False)


@functools.lru_cache(maxsize=_CACHED_SIMULATIONS)
def simulate(profile: UserProfile, until: date) -> Mapping[str, AccountHistory]:
    """Simulate every account of `profile` up to and including `until`, keyed by role.

    A day's postings depend only on the seed, the date and the balances at its start, so
    a longer simulation extends a shorter one without changing it. The result is shared by
    every caller of the cache and must not be modified. The simulation also replaces the
    profile's checkpoint for `recent_histories`.
    """
    if not profile.accounts:
        return MappingProxyType({})
    offset = UTC_OFFSETS[profile.country_code]
    ledgers = {account.role: Ledger(account, profile.seed, offset) for account in profile.accounts}
    simulation, card_cycle = _start(profile, ledgers, None)
    first_day = min(account.opened_on for account in profile.accounts)
    _run(simulation, ledgers, first_day, until)

    histories = MappingProxyType(
        {role: _whole_history(ledger, card_cycle) for role, ledger in ledgers.items()}
    )
    _remember(profile, until, histories, _loan_payments(simulation))
    return histories


def _resume(checkpoint: _Checkpoint, until: date) -> Mapping[str, AccountHistory]:
    """Simulate the days after the checkpoint up to `until`, and store the new checkpoint."""
    if until == checkpoint.day:
        return checkpoint.histories
    profile = checkpoint.profile
    offset = UTC_OFFSETS[profile.country_code]
    ledgers = {
        role: Ledger(history.account, profile.seed, offset, balance=history.final_balance)
        for role, history in checkpoint.histories.items()
    }
    simulation, card_cycle = _start(profile, ledgers, checkpoint)
    _run(simulation, ledgers, checkpoint.day + ONE_DAY, until)

    histories = MappingProxyType(
        {
            role: _extended_history(checkpoint.histories[role], ledger, card_cycle)
            for role, ledger in ledgers.items()
        }
    )
    _remember(profile, until, histories, _loan_payments(simulation))
    return histories


def recent_histories(
    profile: UserProfile, until: date, since: date
) -> Mapping[str, AccountHistory]:
    """Return the histories of `simulate(profile, until)`, possibly without the postings
    before `since`.

    When the profile's checkpoint is on or before `until` and keeps the postings from
    `since` on, the simulation resumes from it. Otherwise this is `simulate`. Each history
    has `complete_from <= since` either way, and must not be modified.
    """
    if not profile.accounts:
        return simulate(profile, until)
    key = (profile.seed, until)
    with _lock:
        resumed = _resumed.get(key)
        if resumed is not None and resumed.profile == profile and resumed.complete_from <= since:
            _resumed.move_to_end(key)
            return resumed.histories
        checkpoint = _checkpoints.get(profile.seed)

    if (
        checkpoint is None
        or checkpoint.profile != profile
        or checkpoint.day > until
        or checkpoint.tail_start > since
    ):
        return simulate(profile, until)

    histories = _resume(checkpoint, until)
    with _lock:
        _resumed[key] = _Resumed(profile, checkpoint.tail_start, histories)
        _resumed.move_to_end(key)
        while len(_resumed) > _CACHED_SIMULATIONS:
            _resumed.popitem(last=False)
    return histories


def forget_checkpoints() -> None:
    """Drop every checkpoint and resumed simulation, so that the next requests simulate
    from the first opening. `simulate.cache_clear()` drops the whole histories."""
    with _lock:
        _checkpoints.clear()
        _resumed.clear()
