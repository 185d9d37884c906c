"""The same user gets the same data in every call, process and `today`."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.sandbox_data.canonical import canonical_digest
from vinculo.sandbox_data import TransactionSpec, profile_for, transactions_for
from vinculo.sandbox_data.plans import business_plan, personal_plan
from vinculo.sandbox_data.profiles import profile_for as cached_profile_for
from vinculo.sandbox_data.simulation import simulate

REPOSITORY = Path(__file__).resolve().parents[2]


def _clear_caches() -> None:
    cached_profile_for.cache_clear()
    personal_plan.cache_clear()
    business_plan.cache_clear()
    simulate.cache_clear()


def test_generation_repeats_exactly() -> None:
    _clear_caches()
    first_profile = profile_for("erebor_mx_retail", "bnk100")
    first = [
        transactions_for(
            first_profile, account, date(2023, 1, 1), date(2025, 6, 30), today=date(2025, 6, 30)
        )
        for account in first_profile.accounts
    ]
    first_digest = canonical_digest()

    _clear_caches()
    second_profile = profile_for("erebor_mx_retail", "bnk100")
    second = [
        transactions_for(
            second_profile, account, date(2023, 1, 1), date(2025, 6, 30), today=date(2025, 6, 30)
        )
        for account in second_profile.accounts
    ]

    assert first_profile is not second_profile
    assert first_profile == second_profile
    assert first == second
    assert canonical_digest() == first_digest


def _digest_in_subprocess(hash_seed: str) -> str:
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
    completed = subprocess.run(
        [sys.executable, "-m", "tests.sandbox_data.canonical"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def test_generation_is_identical_across_processes() -> None:
    expected = canonical_digest()

    assert _digest_in_subprocess("1") == expected
    assert _digest_in_subprocess("4242") == expected


def _without_today_fields(transaction: TransactionSpec) -> TransactionSpec:
    return dataclasses.replace(transaction, status="PROCESSED", credit_card_data=None)


def test_past_days_do_not_depend_on_today() -> None:
    profile = profile_for("heimdall_co_retail", "bnk100")
    for account in profile.accounts:
        earlier = transactions_for(
            profile, account, date(2024, 1, 1), date(2025, 3, 31), today=date(2025, 3, 31)
        )
        later = transactions_for(
            profile, account, date(2024, 1, 1), date(2025, 3, 31), today=date(2026, 2, 1)
        )

        assert earlier
        assert [_without_today_fields(item) for item in earlier] == [
            _without_today_fields(item) for item in later
        ]


def test_status_moves_from_pending_to_processed() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    checking = profile.accounts[0]
    day = date(2025, 5, 15)

    on_the_day = transactions_for(profile, checking, day, day, today=day)
    two_days_later = transactions_for(profile, checking, day, day, today=date(2025, 5, 17))
    three_days_later = transactions_for(profile, checking, day, day, today=date(2025, 5, 18))

    assert on_the_day
    assert {item.status for item in on_the_day} == {"PENDING"}
    assert {item.status for item in two_days_later} == {"PENDING"}
    assert {item.status for item in three_days_later} == {"PROCESSED"}
    assert [item.internal_identification for item in on_the_day] == [
        item.internal_identification for item in three_days_later
    ]
