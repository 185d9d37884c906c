"""Wire shapes of the webhook admin API and of the sandbox trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from vinculo.webhooks.payloads import ProcessType, WebhookType

WebhookCode = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z_]*\Z",
        extra={"message": "Use lowercase letters and underscores, such as historical_update."},
    ),
]


class WebhookEndpointCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of `POST /admin/webhooks/`."""

    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    # Sent verbatim as the `Authorization` header of every delivery, as Belvo does.
    authorization: str | None = None


class WebhookEndpoint(msgspec.Struct, kw_only=True):
    """A webhook endpoint; its secrets are never returned after creation."""

    id: str
    url: str
    has_authorization: bool
    created_at: datetime


class NewWebhookEndpoint(WebhookEndpoint, kw_only=True):
    """The endpoint just created, with the signing secret, which is returned this once."""

    secret: str


class WebhookAttempt(msgspec.Struct, kw_only=True):
    """One row of the delivery log."""

    event_id: str
    endpoint_id: str
    attempt: int
    # None when no response arrived; `error` then gives the reason.
    status_code: int | None
    error: str | None
    latency_ms: int
    attempted_at: datetime


class Redelivery(msgspec.Struct, kw_only=True):
    """The response to a redelivery request."""

    webhook_id: str
    deliveries: int


class SandboxWebhookRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Body of `POST /sandbox/links/{link_id}/webhooks/`."""

    webhook_type: WebhookType
    webhook_code: WebhookCode
    # Defaults per type and code; see `vinculo.webhooks.payloads.default_data`.
    data: dict[str, Any] | None = None
    # Defaults to historical_update for that code, recurrent_update for the others.
    process_type: ProcessType | None = None


class SandboxWebhookQueued(msgspec.Struct, kw_only=True):
    """The event written to the outbox, and how many endpoints will receive it."""

    webhook_id: str
    deliveries: int
