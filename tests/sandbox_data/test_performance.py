"""A smoke test of generation speed, with a limit far above the usual time.

Timed with `simulate` after `cache_clear()` on 2 shared AMD EPYC vCPUs, one profile's
whole history took 15 to 21 ms up to July 2025 and 27 to 35 ms up to December 2026. The
0.5 s limit therefore only catches a large slowdown.
"""

from __future__ import annotations

import time
from datetime import date

from vinculo.sandbox_data import profile_for, transactions_for
from vinculo.sandbox_data.simulation import simulate

LIMIT_SECONDS = 0.5


def test_two_years_of_one_account_is_fast() -> None:
    profile = profile_for("erebor_mx_retail", "bnk100")
    checking = profile.accounts[0]
    today = date(2025, 7, 31)
    simulate.cache_clear()

    started = time.perf_counter()
    history = transactions_for(profile, checking, date(2023, 7, 31), today, today=today)
    elapsed = time.perf_counter() - started

    assert len(history) > 500
    assert elapsed < LIMIT_SECONDS
