"""A SHA-256 digest of sandbox data, for comparing runs across processes.

`python -m tests.sandbox_data.canonical` prints the digest, so a test can compute it in a
child process with another `PYTHONHASHSEED`.
"""

from __future__ import annotations

import hashlib
from datetime import date

from vinculo.sandbox_data import (
    balance_snapshot,
    daily_balances,
    profile_for,
    transactions_for,
)

CASES = (
    ("erebor_mx_retail", "bnk100"),
    ("gringotts_co_retail", "someone"),
    ("heimdall_br_retail", "thin_file"),
    ("gotham_mx_business", "business"),
    ("goonies_br_gig", "user_valid"),
)
TODAY = date(2025, 11, 20)


def canonical_digest() -> str:
    """Return the SHA-256 of the `repr` of every profile, transaction and balance of CASES."""
    digest = hashlib.sha256()
    for institution, username in CASES:
        profile = profile_for(institution, username)
        digest.update(repr(profile).encode())
        for account in profile.accounts:
            transactions = transactions_for(profile, account, account.opened_on, TODAY, today=TODAY)
            digest.update(repr(transactions).encode())
            digest.update(repr(balance_snapshot(profile, account, today=TODAY)).encode())
            balances = daily_balances(profile, account, date(2025, 1, 1), TODAY, today=TODAY)
            digest.update(repr(balances).encode())
    return digest.hexdigest()


if __name__ == "__main__":
    print(canonical_digest())
