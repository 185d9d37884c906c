"""Wire shapes of the balances resource: the `Balance` object and its request body.

Field names follow the `Balance` schema of Belvo's OpenAPI specification 1.35.0, including
its deprecated `current_balance`, `statement` and `collected_at`, which Belvo's examples
still send.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from vinculo.accounts.schemas import Account
from vinculo.transactions.schemas import TransactionsRequest
from vinculo.wire.query import Page


class BalanceFields(msgspec.Struct, kw_only=True):
    """The end-of-day balance of one account on one day, without the account."""

    id: str
    value_date: date
    balance: float
    # Deprecated copy of `balance`.
    current_balance: float | None
    # Deprecated id of the bank statement that the balance came from.
    statement: str | None = None
    collected_at: datetime | None


class Balance(BalanceFields, kw_only=True):
    """A daily balance as Belvo returns it, with its account embedded in full."""

    account: Account


class BalancesRequest(TransactionsRequest, kw_only=True):
    """Body of `POST /api/balances/`: the same fields as a transactions request.

    `account`, when set, limits the response to that account's daily balances.
    """


class PaginatedResponseBalance(Page[Balance]):
    """One page of `GET /api/balances/`."""
