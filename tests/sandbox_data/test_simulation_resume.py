"""Queries served by resuming a checkpoint return what a whole simulation returns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vinculo.institutions.catalogue import find_by_name
from vinculo.sandbox_data import (
    UserProfile,
    account_balance,
    balance_snapshot,
    credit_card_status,
    daily_balances,
    loan_status,
    profile_for,
    simulation,
    transactions,
    transactions_for,
)
from vinculo.sandbox_data.dates import add_months
from vinculo.sandbox_data.ledger import Ledger
from vinculo.sandbox_data.simulation import TAIL_DAYS, forget_checkpoints, simulate
from vinculo.sandbox_data.transactions import pending_inflows
from vinculo.sandbox_data.wire import account_to_wire

# One user of each dataset, spread over the three countries. The first one's loan is repaid
# in May 2026, so later requests read a last loan payment from before the checkpoint's tail.
USERS = (
    ("gringotts_mx_retail", "bnk100"),
    ("gringotts_co_retail", "someone"),
    ("heimdall_br_retail", "thin_file"),
    ("gotham_mx_business", "business"),
    ("ironbank_br_retail", "user_valid"),
)
# A recurrent refresh requests the days from 7 days before the previous refresh. The extra
# days stand for a refresh that ran a little late.
REFRESH_LOOKBACK = timedelta(days=10)
# The maximum lookback that a checkpoint serves: from the first day of its tail.
TAIL_LOOKBACK = timedelta(days=TAIL_DAYS - 1)
START = date(2026, 1, 10)


def _clear() -> None:
    simulate.cache_clear()
    forget_checkpoints()


def _observe(profile: UserProfile, date_from: date, today: date) -> str:
    """Return the `repr` of every query on every account of `profile`, as a refresh requests them.

    `repr` distinguishes `Decimal("1.0")` from `Decimal("1.00")`, which `==` does not.
    """
    institution = find_by_name(profile.institution_name)
    assert institution is not None
    collected_at = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    observed: list[object] = []
    for account in profile.accounts:
        wire = account_to_wire(
            profile,
            account,
            account_id="",
            link_id="",
            institution=institution,
            collected_at=collected_at,
            created_at=collected_at,
            today=today,
        )
        observed.append(msgspec.json.encode(wire))
        observed.append(transactions_for(profile, account, date_from, today, today=today))
        observed.append(daily_balances(profile, account, date_from, today, today=today))
        observed.append(account_balance(profile, account, today=today))
        observed.append(pending_inflows(profile, account, today=today))
        observed.append(balance_snapshot(profile, account, today=today))
        if account.credit_data is not None:
            observed.append(credit_card_status(profile, account, today=today))
        if account.loan_data is not None:
            observed.append(loan_status(profile, account, today=today))
    return repr(observed)


def _references(profile: UserProfile, windows: list[date], todays: list[date]) -> list[str]:
    """Observe `profile` on each of `todays` with every query reading a whole simulation from
    the first opening, and forget the simulations and checkpoints afterwards."""
    _clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            transactions,
            "recent_histories",
            lambda profile, until, since: simulate(profile, until),
        )
        observed = [
            _observe(profile, date_from, today)
            for date_from, today in zip(windows, todays, strict=True)
        ]
    _clear()
    return observed


@contextmanager
def _recorded_runs() -> Iterator[list[tuple[date, date]]]:
    """Record the first and last day of every stretch of days that the simulation runs."""
    runs: list[tuple[date, date]] = []
    original = simulation._run

    def recording_run(
        day_simulation: simulation._DaySimulation,
        ledgers: dict[str, Ledger],
        first: date,
        last: date,
    ) -> None:
        runs.append((first, last))
        original(day_simulation, ledgers, first, last)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulation, "_run", recording_run)
        yield runs


def _key_days(profile: UserProfile) -> list[date]:
    """Return the days around the card's cutting and due dates and the loan's payment day."""
    days: list[date] = []
    for account in profile.accounts:
        if account.credit_data is not None:
            cut = date(2026, 2, account.credit_data.cutting_day)
            due = cut + timedelta(days=account.credit_data.payment_due_days)
            days += [cut - timedelta(days=1), cut, cut + timedelta(days=1)]
            days += [due - timedelta(days=1), due, due + timedelta(days=1)]
        if account.loan_data is not None:
            payment = date(2026, 4, account.loan_data.payment_day)
            days += [payment - timedelta(days=1), payment, payment + timedelta(days=1)]
    return days


def _todays(profile: UserProfile) -> list[date]:
    """Return an increasing sequence of `today`s: day by day across the key days, then
    steps of 8, 30, 200 and 8 days."""
    todays = sorted({START, *_key_days(profile)})
    for step in (8, 30, 200, 8):
        todays.append(todays[-1] + timedelta(days=step))
    return todays


@pytest.mark.parametrize(("institution", "username"), USERS)
def test_refreshes_match_whole_simulation(institution: str, username: str) -> None:
    profile = profile_for(institution, username)
    todays = _todays(profile)
    previous = [todays[0], *todays[:-1]]
    # Every other request starts on the first day of the checkpoint's tail, where daily
    # balances read the balance from before the tail.
    windows = [
        before - (TAIL_LOOKBACK if index % 2 else REFRESH_LOOKBACK)
        for index, before in enumerate(previous)
    ]
    expected = _references(profile, windows, todays)

    with _recorded_runs() as runs:
        observed = [
            _observe(profile, date_from, today)
            for date_from, today in zip(windows, todays, strict=True)
        ]

    for today, observation, expected_observation in zip(todays, observed, expected, strict=True):
        assert observation == expected_observation, (
            f"queries on {today} differ from the whole simulation"
        )
    first_opening = min(account.opened_on for account in profile.accounts)
    assert runs[0] == (first_opening, todays[0])
    assert all(first > first_opening for first, _ in runs[1:])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    user=st.sampled_from(USERS),
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30)),
    steps=st.lists(
        st.tuples(
            st.sampled_from((0, 1, 2, 8, 30, 45, 200)),
            st.integers(min_value=0, max_value=TAIL_DAYS + 20),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_any_request_sequence_matches_whole_simulation(
    user: tuple[str, str], start: date, steps: list[tuple[int, int]]
) -> None:
    profile = profile_for(*user)
    todays = [start]
    windows = [start - timedelta(days=30)]
    for step, lookback in steps:
        windows.append(todays[-1] - timedelta(days=lookback))
        todays.append(todays[-1] + timedelta(days=step))
    expected = _references(profile, windows, todays)

    for date_from, today, expected_observation in zip(windows, todays, expected, strict=True):
        assert _observe(profile, date_from, today) == expected_observation, (
            f"queries on {today} from {date_from} differ from the whole simulation"
        )


def test_refresh_resumes_from_checkpoint() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    first_opening = min(account.opened_on for account in profile.accounts)
    first_refresh = date(2026, 3, 5)
    _clear()

    with _recorded_runs() as runs:
        _observe(profile, first_refresh - timedelta(days=365), first_refresh)
        _observe(profile, first_refresh - REFRESH_LOOKBACK, first_refresh + timedelta(days=8))
        _observe(
            profile,
            first_refresh + timedelta(days=8) - REFRESH_LOOKBACK,
            first_refresh + timedelta(days=38),
        )

    assert runs == [
        (first_opening, first_refresh),
        (first_refresh + timedelta(days=1), first_refresh + timedelta(days=8)),
        (first_refresh + timedelta(days=9), first_refresh + timedelta(days=38)),
    ]


def test_request_before_tail_simulates_whole_history() -> None:
    profile = profile_for("gringotts_co_retail", "someone")
    checking = profile.accounts[0]
    first_opening = min(account.opened_on for account in profile.accounts)
    today = date(2026, 5, 20)
    later = today + timedelta(days=8)
    _clear()

    with _recorded_runs() as runs:
        transactions_for(profile, checking, today - timedelta(days=7), today, today=today)
        transactions_for(profile, checking, today - timedelta(days=TAIL_DAYS), later, today=later)

    assert runs == [(first_opening, today), (first_opening, later)]


def test_checkpoints_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulation, "REMEMBERED_USERS", 2)
    profiles = [profile_for("erebor_mx_retail", f"bounded_{index}") for index in range(3)]
    today = date(2026, 5, 20)
    later = today + timedelta(days=8)
    _clear()

    for profile in profiles:
        simulate(profile, today)
    # The first profile's checkpoint was dropped when the third one's was stored.
    with _recorded_runs() as runs:
        for profile in reversed(profiles):
            account_balance(profile, profile.accounts[0], today=later)

    first_opening = min(account.opened_on for account in profiles[0].accounts)
    assert len(simulation._checkpoints) == 2
    assert runs[:2] == [(today + timedelta(days=1), later)] * 2
    assert runs[2] == (first_opening, later)


def test_resuming_leaves_earlier_results_unchanged() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    card = next(account for account in profile.accounts if account.credit_data is not None)
    assert card.credit_data is not None
    # The day after a cutting date, so that the resumed days pay the bill just closed.
    today = date(2026, 2, card.credit_data.cutting_day) + timedelta(days=1)
    _clear()

    whole = simulate(profile, today)
    before = repr(whole)
    later = add_months(today, 1)
    credit_card_status(profile, card, today=later)

    assert repr(simulate(profile, today)) == before
    assert simulate(profile, today) is whole
