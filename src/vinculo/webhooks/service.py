"""Webhook endpoints, the event outbox and redelivery; services call `enqueue_event`.

Fan-out: an event is one `webhook_events` row, and it gets one `webhook_deliveries` row per
endpoint its tenant has when it is enqueued. Each delivery is retried on its own, and every
delivery of an event sends the same body with the same `webhook-id`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Row

from vinculo.db.engine import UnitOfWork
from vinculo.security.vault import Sealed, Vault
from vinculo.webhooks import repository
from vinculo.webhooks.payloads import WebhookPayload, encode_payload
from vinculo.webhooks.signing import new_signing_secret
from vinculo.webhooks.urls import UnsafeWebhookUrl, check_webhook_url
from vinculo.wire.errors import InvalidValue, NotFound

logger = structlog.get_logger(__name__)

SECRET_KIND = "webhook_secret"
AUTHORIZATION_KIND = "webhook_authorization"


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """An event written to the outbox: its `webhook_id` and its number of deliveries."""

    id: str
    deliveries: int


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    """A created endpoint; `secret` exists only here, and is stored sealed."""

    id: str
    tenant_id: str
    url: str
    has_authorization: bool
    created_at: datetime
    secret: str


def check_authorization(value: str) -> None:
    """Reject an `Authorization` value that cannot be sent as one HTTP header line."""
    if not value.strip():
        raise InvalidValue("This field may not be blank.", field="authorization")
    if len(value) > 4096:
        raise InvalidValue(
            "Ensure this field has no more than 4096 characters.", field="authorization"
        )
    if any(ord(character) < 0x20 or ord(character) > 0x7E for character in value):
        raise InvalidValue(
            "Use printable ASCII only, such as 'Bearer <token>' or 'Basic <base64>'.",
            field="authorization",
        )


async def create_endpoint(
    uow: UnitOfWork,
    vault: Vault,
    tenant_id: str,
    *,
    url: str,
    authorization: str | None,
    allow_private: bool,
    now: datetime,
) -> NewEndpoint:
    """Check and store an endpoint with a new signing secret; raise `InvalidValue` for a URL
    or authorization value that cannot be used."""
    try:
        await check_webhook_url(url, allow_private=allow_private)
    except UnsafeWebhookUrl as exc:
        raise InvalidValue(str(exc), field="url") from None
    if authorization is not None:
        check_authorization(authorization)
    endpoint_id = str(uuid.uuid4())
    secret = new_signing_secret()
    sealed_secret = vault.seal(
        secret.encode(), tenant_id=tenant_id, kind=SECRET_KIND, record_id=endpoint_id
    )
    sealed_authorization = None
    if authorization is not None:
        sealed_authorization = vault.seal(
            authorization.encode(),
            tenant_id=tenant_id,
            kind=AUTHORIZATION_KIND,
            record_id=endpoint_id,
        )
    await repository.insert_endpoint(
        uow,
        id=endpoint_id,
        tenant_id=tenant_id,
        url=url,
        secret_wrapped_key=sealed_secret.wrapped_key,
        secret_ciphertext=sealed_secret.ciphertext,
        authorization_wrapped_key=sealed_authorization and sealed_authorization.wrapped_key,
        authorization_ciphertext=sealed_authorization and sealed_authorization.ciphertext,
        created_at=now,
    )
    logger.info("webhook.endpoint_created", endpoint_id=endpoint_id, tenant_id=tenant_id)
    return NewEndpoint(endpoint_id, tenant_id, url, authorization is not None, now, secret=secret)


def open_secret(vault: Vault, row: Any) -> str:
    sealed = Sealed(row.secret_wrapped_key, row.secret_ciphertext, None)
    raw = vault.open(sealed, tenant_id=row.tenant_id, kind=SECRET_KIND, record_id=row.endpoint_id)
    return raw.decode()


def open_authorization(vault: Vault, row: Any) -> str | None:
    if row.authorization_ciphertext is None:
        return None
    sealed = Sealed(row.authorization_wrapped_key, row.authorization_ciphertext, None)
    raw = vault.open(
        sealed, tenant_id=row.tenant_id, kind=AUTHORIZATION_KIND, record_id=row.endpoint_id
    )
    return raw.decode()


async def list_endpoints(uow: UnitOfWork, tenant_id: str | None) -> Sequence[Row[Any]]:
    return await repository.list_endpoints(uow, tenant_id)


async def delete_endpoint(uow: UnitOfWork, tenant_id: str | None, endpoint_id: str) -> None:
    """Delete an endpoint, its pending deliveries and their log; raise `NotFound`."""
    if not await repository.delete_endpoint(uow, tenant_id, endpoint_id):
        raise NotFound()
    logger.info("webhook.endpoint_deleted", endpoint_id=endpoint_id, tenant_id=tenant_id)


async def enqueue_event(
    uow: UnitOfWork,
    tenant_id: str,
    *,
    webhook_type: str,
    webhook_code: str,
    link_id: str | None,
    external_id: str | None,
    process_type: str | None,
    request_id: str | None,
    data: dict[str, Any],
    now: datetime,
) -> QueuedEvent:
    """Write an event to the outbox with one delivery per endpoint of the tenant.

    Call it inside the unit of work that makes the change the event describes: the event then
    commits, or rolls back, with that change. The delivery task sends it after the commit.
    """
    event_id = uuid.uuid4().hex
    payload = WebhookPayload(
        webhook_id=event_id,
        webhook_type=webhook_type,
        webhook_code=webhook_code,
        link_id=link_id,
        request_id=request_id,
        external_id=external_id,
        process_type=process_type,
        data=data,
    )
    await repository.insert_event(
        uow,
        id=event_id,
        tenant_id=tenant_id,
        webhook_type=webhook_type,
        webhook_code=webhook_code,
        link_id=link_id,
        body=encode_payload(payload),
        created_at=now,
    )
    endpoint_ids = await repository.endpoint_ids_of_tenant(uow, tenant_id)
    await repository.insert_deliveries(
        uow,
        [
            {
                "id": str(uuid.uuid4()),
                "tenant_id": tenant_id,
                "event_id": event_id,
                "endpoint_id": endpoint_id,
                "state": repository.PENDING,
                "attempts": 0,
                "failures": 0,
                "next_attempt_at": now,
                "lease_until": None,
                "lease_id": None,
                "delivered_at": None,
            }
            for endpoint_id in endpoint_ids
        ],
    )
    logger.info(
        "webhook.enqueued",
        event_id=event_id,
        tenant_id=tenant_id,
        link_id=link_id,
        webhook_type=webhook_type,
        webhook_code=webhook_code,
        endpoints=len(endpoint_ids),
    )
    return QueuedEvent(event_id, len(endpoint_ids))


async def list_attempts(
    uow: UnitOfWork, tenant_id: str | None, *, event_id: str | None, limit: int
) -> Sequence[Row[Any]]:
    return await repository.list_attempts(uow, tenant_id, event_id=event_id, limit=limit)


async def redeliver(uow: UnitOfWork, tenant_id: str | None, event_id: str, *, now: datetime) -> int:
    """Send an event again to each of its endpoints, with the same `webhook-id` and a fresh
    retry budget; return the number of deliveries. Raise `NotFound` for an unknown event."""
    if not await repository.event_exists(uow, tenant_id, event_id):
        raise NotFound()
    count = await repository.schedule_again(uow, tenant_id, event_id, now=now)
    logger.info("webhook.redelivery_requested", event_id=event_id, deliveries=count)
    return count
