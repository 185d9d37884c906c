"""Wire shapes of the sandbox control API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

ForcedLinkStatus = Literal["valid", "invalid", "token_required"]
InstitutionSwitch = Literal["down", "up"]


class ClockMoveRequest(msgspec.Struct, kw_only=True):
    """`POST /sandbox/clock/`: exactly one of `advance` and `set`."""

    # Seconds as a number or a string of digits, or an ISO 8601 duration such as `P1DT6H`.
    advance: float | str | UnsetType = UNSET
    # The instant the sandbox clock shows after the move; without a UTC offset it is UTC.
    set: datetime | UnsetType = UNSET


class SandboxClock(msgspec.Struct, kw_only=True):
    """The sandbox clock as the server uses it."""

    now: datetime
    # How far the sandbox clock is ahead of real time.
    offset_seconds: float


class LinkStatusRequest(msgspec.Struct, kw_only=True):
    """`POST /sandbox/links/{id}/status/`."""

    status: ForcedLinkStatus


class InstitutionStatusRequest(msgspec.Struct, kw_only=True):
    """`POST /sandbox/institutions/{name}/status/`."""

    status: InstitutionSwitch


class ResetCounts(msgspec.Struct, kw_only=True):
    """How many rows of each kind a reset deleted."""

    links: int
    accounts: int
    transactions: int
    balances: int
    owners: int
    mfa_sessions: int
    credentials: int
    institutions_down: int


class ResetResult(msgspec.Struct, kw_only=True):
    """`POST /sandbox/reset/`."""

    deleted: ResetCounts


class RefreshReport(msgspec.Struct, kw_only=True):
    """`POST /sandbox/links/{id}/refresh/`: what the refresh did.

    `outcome` is `refreshed`, `invalid` or `token_required` (the bank refused the stored
    credentials), `failed` (the bank failed; the scheduler tries again later),
    `institution_down`, or why the link cannot be refreshed (`status_invalid`,
    `no_credentials`, `credentials_expired`, ...). `webhooks` lists the events queued, as
    `TYPE.code`; `new` counts the accounts, transactions and owners that were not stored before.
    """

    link: str
    outcome: str
    webhooks: list[str]
    new: dict[str, int]
