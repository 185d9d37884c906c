"""SQL for webhook endpoints, the event outbox, delivery states and the delivery log.

A `tenant_id` of None, accepted by the functions the CLI uses, means every tenant: the CLI is
an operator's tool on the whole database. The API always passes the caller's tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    bindparam,
    delete,
    insert,
    or_,
    select,
    true,
    update,
)

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
)
from vinculo.db.prepared import Prepared

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"

# Deliveries one claim takes; the delivery task sends them concurrently.
CLAIM_BATCH = 20


def _tenant_filter(column: Any, tenant_id: str | None) -> ColumnElement[bool]:
    return true() if tenant_id is None else column == tenant_id


async def insert_endpoint(uow: UnitOfWork, **values: Any) -> None:
    await uow.execute(insert(webhook_endpoints).values(**values))


async def list_endpoints(uow: UnitOfWork, tenant_id: str | None) -> Sequence[Row[Any]]:
    """Return endpoints oldest first, without their sealed secrets."""
    statement = (
        select(
            webhook_endpoints.c.id,
            webhook_endpoints.c.tenant_id,
            webhook_endpoints.c.url,
            webhook_endpoints.c.authorization_ciphertext.is_not(None).label("has_authorization"),
            webhook_endpoints.c.created_at,
        )
        .where(_tenant_filter(webhook_endpoints.c.tenant_id, tenant_id))
        .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
    )
    return await uow.rows(statement)


# Every event writes these three, so they are compiled once (see `vinculo.db.prepared`).
_ENDPOINT_IDS = Prepared(
    select(webhook_endpoints.c.id).where(webhook_endpoints.c.tenant_id == bindparam("tenant_id"))
)
_EVENT_COLUMNS = (
    "id",
    "tenant_id",
    "webhook_type",
    "webhook_code",
    "link_id",
    "body",
    "created_at",
)
_INSERT_EVENT = Prepared(
    insert(webhook_events).values({name: bindparam(name) for name in _EVENT_COLUMNS})
)
_DELIVERY_COLUMNS = (
    "id",
    "tenant_id",
    "event_id",
    "endpoint_id",
    "state",
    "attempts",
    "failures",
    "next_attempt_at",
    "lease_until",
    "lease_id",
    "delivered_at",
)
_INSERT_DELIVERY = Prepared(
    insert(webhook_deliveries).values({name: bindparam(name) for name in _DELIVERY_COLUMNS})
)


async def endpoint_ids_of_tenant(uow: UnitOfWork, tenant_id: str) -> list[str]:
    return [row.id for row in await uow.rows(_ENDPOINT_IDS, tenant_id=tenant_id)]


async def delete_endpoint(uow: UnitOfWork, tenant_id: str | None, endpoint_id: str) -> bool:
    """Delete an endpoint; its deliveries and their log go with it through the foreign keys'
    ON DELETE CASCADE. Return whether it existed."""
    statement = delete(webhook_endpoints).where(
        webhook_endpoints.c.id == endpoint_id,
        _tenant_filter(webhook_endpoints.c.tenant_id, tenant_id),
    )
    return await uow.execute(statement) > 0


async def insert_event(uow: UnitOfWork, **values: Any) -> None:
    """Insert an event; `values` names every column of `_EVENT_COLUMNS`."""
    await uow.execute(_INSERT_EVENT, **values)


async def insert_deliveries(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Insert deliveries; each row names every column of `_DELIVERY_COLUMNS`."""
    await uow.execute_many(_INSERT_DELIVERY, rows)


async def event_exists(uow: UnitOfWork, tenant_id: str | None, event_id: str) -> bool:
    statement = select(webhook_events.c.id).where(
        webhook_events.c.id == event_id, _tenant_filter(webhook_events.c.tenant_id, tenant_id)
    )
    return await uow.first(statement) is not None


async def claim_due(
    uow: UnitOfWork, *, now: datetime, real_now: datetime, lease_until: datetime, lease_id: str
) -> list[str]:
    """Lease up to `CLAIM_BATCH` due deliveries to `lease_id`; return their ids.

    A delivery is due at `now`, the sandbox's time, and its lease runs on `real_now`, which
    moving the sandbox clock does not change: a send in flight keeps its lease.

    The read locks the rows it returns until the update, and skips the rows that another
    claim has locked, so two processes never claim the same delivery. SQLite, which has no
    row locks, runs one write transaction at a time instead.
    """
    await uow.begin_row_write()
    due = (
        select(webhook_deliveries.c.id)
        .where(
            webhook_deliveries.c.state == PENDING,
            webhook_deliveries.c.next_attempt_at <= now,
            or_(
                webhook_deliveries.c.lease_until.is_(None),
                webhook_deliveries.c.lease_until <= real_now,
            ),
        )
        .order_by(webhook_deliveries.c.next_attempt_at)
        .limit(CLAIM_BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = [row.id for row in await uow.rows(due)]
    if ids:
        await uow.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(ids))
            .values(lease_until=lease_until, lease_id=lease_id)
        )
    return ids


async def deliveries_to_send(
    uow: UnitOfWork, delivery_ids: Sequence[str], lease_id: str
) -> Sequence[Any]:
    """Return what each attempt needs (event body, endpoint URL and sealed secrets), for the
    deliveries among `delivery_ids` that exist and are leased to `lease_id`."""
    if not delivery_ids:
        return []
    statement = (
        select(
            webhook_deliveries.c.id,
            webhook_deliveries.c.tenant_id,
            webhook_deliveries.c.event_id,
            webhook_deliveries.c.endpoint_id,
            webhook_deliveries.c.attempts,
            webhook_deliveries.c.failures,
            webhook_events.c.body,
            webhook_endpoints.c.url,
            webhook_endpoints.c.secret_wrapped_key,
            webhook_endpoints.c.secret_ciphertext,
            webhook_endpoints.c.authorization_wrapped_key,
            webhook_endpoints.c.authorization_ciphertext,
        )
        .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
        .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
        .where(webhook_deliveries.c.id.in_(delivery_ids), webhook_deliveries.c.lease_id == lease_id)
    )
    return await uow.rows(statement)


async def insert_attempt(uow: UnitOfWork, **values: Any) -> None:
    await uow.execute(insert(webhook_attempts).values(**values))


async def finish_attempt(uow: UnitOfWork, delivery_id: str, lease_id: str, **values: Any) -> bool:
    """Store an attempt's outcome and release the lease; return False when the lease was lost."""
    statement = (
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.lease_id == lease_id)
        .values(
            attempts=webhook_deliveries.c.attempts + 1,
            lease_until=None,
            lease_id=None,
            **values,
        )
    )
    return await uow.execute(statement) > 0


async def list_attempts(
    uow: UnitOfWork, tenant_id: str | None, *, event_id: str | None, limit: int
) -> Sequence[Row[Any]]:
    """Return the newest `limit` rows of the delivery log, newest first."""
    conditions = [_tenant_filter(webhook_attempts.c.tenant_id, tenant_id)]
    if event_id is not None:
        conditions.append(webhook_attempts.c.event_id == event_id)
    statement = (
        select(
            webhook_attempts.c.event_id,
            webhook_attempts.c.endpoint_id,
            webhook_attempts.c.attempt,
            webhook_attempts.c.status_code,
            webhook_attempts.c.error,
            webhook_attempts.c.latency_ms,
            webhook_attempts.c.attempted_at,
        )
        .where(*conditions)
        .order_by(
            webhook_attempts.c.attempted_at.desc(),
            webhook_attempts.c.attempt.desc(),
            webhook_attempts.c.id,
        )
        .limit(limit)
    )
    return await uow.rows(statement)


async def delivery_states(
    uow: UnitOfWork, tenant_id: str | None, event_id: str
) -> Sequence[Row[Any]]:
    statement = (
        select(
            webhook_deliveries.c.endpoint_id,
            webhook_deliveries.c.state,
            webhook_deliveries.c.attempts,
            webhook_deliveries.c.next_attempt_at,
            webhook_deliveries.c.delivered_at,
        )
        .where(
            webhook_deliveries.c.event_id == event_id,
            _tenant_filter(webhook_deliveries.c.tenant_id, tenant_id),
        )
        .order_by(webhook_deliveries.c.endpoint_id)
    )
    return await uow.rows(statement)


async def schedule_again(
    uow: UnitOfWork, tenant_id: str | None, event_id: str, *, now: datetime
) -> int:
    """Make every delivery of an event due now with a fresh retry budget; return how many.

    A delivery that a process is sending right now keeps its lease, so it is not sent twice at
    once, but the outcome of that attempt then replaces this schedule.
    """
    statement = (
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.event_id == event_id,
            _tenant_filter(webhook_deliveries.c.tenant_id, tenant_id),
        )
        .values(state=PENDING, failures=0, next_attempt_at=now)
    )
    return await uow.execute(statement)
