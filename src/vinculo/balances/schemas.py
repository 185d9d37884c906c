"""Wire shapes of the balances resource: the `Balance` object and its request body.

Field names follow the `Balance` schema of Belvo's OpenAPI specification 1.35.0, including
its deprecated `current_balance`, `statement` and `collected_at`, which Belvo's examples
still send.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from msgspec import UNSET, UnsetType

from vinculo.accounts.schemas import Account, ResourceId, SaveData
from vinculo.links.schemas import Secret


class Balance(msgspec.Struct, kw_only=True):
    """The end-of-day balance of one account on one day, with the account embedded in full."""

    id: str
    account: Account
    value_date: date
    balance: float
    # Deprecated copy of `balance`.
    current_balance: float | None
    # Deprecated id of the bank statement that the balance came from.
    statement: str | None = None
    collected_at: datetime | None


class BalancesRequest(msgspec.Struct, kw_only=True):
    """Body of `POST /api/balances/`: retrieve a link's daily balances of a date range.

    `date_from` and `date_to` are both included. The struct checks only their `YYYY-MM-DD`
    format. The caller checks that `date_from` is not after `date_to` and that `date_to`
    is not in the future, because both rules need the request's date.
    """

    link: ResourceId
    date_from: date
    date_to: date
    # Only this account's balances, when set.
    account: ResourceId | UnsetType = UNSET
    token: Secret | UnsetType = UNSET
    save_data: SaveData = True
    encryption_key: Secret | UnsetType = UNSET
