"""Wire shapes of the links resource: request bodies and the `Link` object."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from vinculo.wire.query import Page

DEFAULT_REFRESH_RATE = "7d"

AccessMode = Literal["single", "recurrent"]
LinkStatusName = Literal["valid", "invalid", "unconfirmed", "token_required"]
RefreshRate = Literal["6h", "12h", "24h", "7d", "30d"]
ResourceName = Literal[
    "ACCOUNTS",
    "BALANCES",
    "INCOMES",
    "INVOICES",
    "OWNERS",
    "RECURRING_EXPENSES",
    "RISK_INSIGHTS",
    "TAX_COMPLIANCE_STATUS",
    "TAX_RETURNS",
    "TAX_STATUS",
    "TRANSACTIONS",
]

NonBlank = Annotated[str, Meta(min_length=1)]
# Patterns end with \Z, not $: in Python's `re`, `$` also matches before a final newline.
# A login field: bounded, so one request cannot store megabytes of "password".
Secret = Annotated[str, Meta(min_length=1, max_length=1024)]
# Base64 alphabet with optional padding; the padding length is not enforced because Belvo's own
# documented example (`1234567890abcd=`) is not correctly padded.
Base64Text = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=65536,
        pattern=r"^[A-Za-z0-9+/\s]+=*\s*\Z",
        extra={"message": "Enter a valid base64 value."},
    ),
]
CredentialsStorage = Annotated[
    str,
    Meta(
        pattern=r"^(store|nostore|([1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-5])d)\Z",
        extra={"message": "Enter store, nostore, or a number of days from 1d to 365d."},
    ),
]
StaleIn = Annotated[
    str,
    Meta(
        pattern=r"^([1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-5])d\Z",
        extra={"message": "Enter a number of days from 1d to 365d, such as 30d."},
    ),
]
ExternalId = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=255,
        pattern=r"^[A-Za-z0-9_-]+\Z",
        extra={"message": "Use only letters, digits, hyphens and underscores."},
    ),
]
# Checked against the institution's `username_type` choices, not here.
UsernameType = Annotated[str, Meta(min_length=1, max_length=16)]
SessionId = Annotated[
    str, Meta(pattern=r"^[a-f0-9]{32}\Z", extra={"message": "Enter a valid session id."})
]


class LinkRegisterRequest(msgspec.Struct, kw_only=True):
    """Body of `POST /api/links/`."""

    institution: Annotated[str, Meta(min_length=1, max_length=100)]
    username: Secret
    password: Secret | UnsetType = UNSET
    username2: Secret | UnsetType = UNSET
    username3: Secret | UnsetType = UNSET
    password2: Secret | UnsetType = UNSET
    token: Secret | UnsetType = UNSET
    access_mode: AccessMode = "recurrent"
    fetch_historical: bool | UnsetType = UNSET
    credentials_storage: CredentialsStorage | UnsetType = UNSET
    stale_in: StaleIn | UnsetType = UNSET
    fetch_resources: list[ResourceName] | UnsetType = UNSET
    external_id: ExternalId | None = None
    username_type: UsernameType | UnsetType = UNSET
    certificate: Base64Text | UnsetType = UNSET
    private_key: Base64Text | UnsetType = UNSET
    encryption_key: Secret | UnsetType = UNSET


class LinkUpdateRequest(msgspec.Struct, kw_only=True):
    """Body of `PUT /api/links/{id}/`: new credentials, or a token, for an existing link."""

    password: Secret | UnsetType = UNSET
    password2: Secret | UnsetType = UNSET
    token: Secret | UnsetType = UNSET
    username_type: UsernameType | UnsetType = UNSET
    certificate: Base64Text | UnsetType = UNSET
    private_key: Base64Text | UnsetType = UNSET
    encryption_key: Secret | UnsetType = UNSET


class LinkResumeRequest(msgspec.Struct, kw_only=True):
    """Body of `PATCH /api/links/`: the token that resumes a 428 challenge."""

    session: SessionId
    # Null is accepted because belvo-python always sends the key, and a QR challenge needs no
    # token.
    token: Secret | UnsetType | None = UNSET
    link: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET


class LinkModifyRequest(msgspec.Struct, kw_only=True):
    """Body of `PATCH /api/links/{id}/`: access mode and data-retention settings."""

    access_mode: AccessMode | UnsetType = UNSET
    stale_in: StaleIn | UnsetType = UNSET
    fetch_resources: list[ResourceName] | UnsetType = UNSET


class Link(msgspec.Struct, kw_only=True):
    """A link as Belvo returns it."""

    id: str
    institution: str
    access_mode: AccessMode | None
    last_accessed_at: datetime | None
    created_at: datetime
    external_id: str | None
    institution_user_id: str
    status: LinkStatusName
    created_by: str
    refresh_rate: RefreshRate | None
    credentials_storage: str
    stale_in: str | None
    fetch_resources: list[str]


class PaginatedResponseLink(Page[Link]):
    """One page of `GET /api/links/`."""


class TokenGenerationDataOut(msgspec.Struct, kw_only=True):
    instructions: str
    type: str
    value: str | None
    expects_user_input: bool


class RequestAccepted(msgspec.Struct, kw_only=True):
    """A 202 response to a refresh or an async request: the id that its webhooks carry."""

    request_id: str
