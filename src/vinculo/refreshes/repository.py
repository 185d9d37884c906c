"""SQL for the refresh schedule of links and the totals that refresh webhooks report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    bindparam,
    case,
    column,
    exists,
    func,
    literal,
    literal_column,
    null,
    select,
    table,
    update,
)

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import accounts, links, owners, transactions
from vinculo.db.prepared import Prepared
from vinculo.institutions.repository import LINK_INSTITUTION_STATUS

_TARGET_COLUMNS = (
    links.c.id,
    links.c.tenant_id,
    links.c.institution,
    links.c.access_mode,
    links.c.status,
    links.c.refresh_rate,
    links.c.external_id,
    links.c.fetch_resources,
    links.c.credentials_storage,
    links.c.credentials_expire_at,
    links.c.next_refresh_at,
    links.c.historical_update_pending,
    links.c.refresh_request_id,
    links.c.last_refreshed_at,
    links.c.refresh_requested_at,
    links.c.refresh_count,
)


_TARGET = select(*_TARGET_COLUMNS).where(
    links.c.tenant_id == bindparam("tenant_id"), links.c.id == bindparam("link_id")
)
_TARGET_WITH_STATUS = Prepared(_TARGET.add_columns(LINK_INSTITUTION_STATUS))
_COUNTED = {"accounts": accounts, "transactions": transactions, "owners": owners}
# The link's stored rows per table, read in the statement that needs them rather than in one
# round trip each.
_COUNT_COLUMNS = tuple(
    select(func.count())
    .where(table.c.tenant_id == bindparam("tenant_id"), table.c.link_id == bindparam("link_id"))
    .scalar_subquery()
    .label(f"stored_{name}")
    for name, table in _COUNTED.items()
)
_STORED_COUNTS = Prepared(select(*_COUNT_COLUMNS))
# Only the link's row is locked. The counts are read as of the statement's start, which is
# exact because any other writer of the link's data holds its lease or runs alone.
_TARGET_FOR_UPDATE = Prepared(_TARGET.add_columns(*_COUNT_COLUMNS).with_for_update(of=links))


async def get_target(uow: UnitOfWork, tenant_id: str, link_id: str) -> Any:
    """Return the link with its refresh schedule and its `institution_status`, or None."""
    return await uow.first(_TARGET_WITH_STATUS, tenant_id=tenant_id, link_id=link_id)


async def lock_target(uow: UnitOfWork, tenant_id: str, link_id: str) -> Any:
    """Return the link with its refresh schedule and its stored counts (see `counts_of`), or
    None, and lock its row until `uow` ends, as a row write does before it writes on what it
    read (see `UnitOfWork.begin_row_write`)."""
    return await uow.first(_TARGET_FOR_UPDATE, tenant_id=tenant_id, link_id=link_id)


def counts_of(row: Any) -> dict[str, int]:
    """Return the stored counts that `lock_target` or `stored_counts` read, by table name."""
    return {name: int(getattr(row, f"stored_{name}") or 0) for name in _COUNTED}


# Procrastinate's job table, for the columns that show whether a link's refresh job waits or
# runs. Its `status` is an enum, so it is compared with literals, not bound strings.
_procrastinate_jobs = table(
    "procrastinate_jobs", column("lock"), column("queueing_lock"), column("status")
)
_REFRESH_QUEUED = exists().where(
    _procrastinate_jobs.c.queueing_lock == literal("refresh:") + links.c.id,
    _procrastinate_jobs.c.status == literal_column("'todo'"),
)
_REFRESH_RUNNING = exists().where(
    _procrastinate_jobs.c.lock == literal("link:") + links.c.id,
    _procrastinate_jobs.c.status == literal_column("'doing'"),
)


async def due_links(
    uow: UnitOfWork, now: datetime, limit: int, *, skip_queued: bool = False
) -> Sequence[Row[Any]]:
    """Return up to `limit` links whose refresh is due, the most overdue first.

    `skip_queued` leaves out the links whose refresh job waits or runs in Procrastinate's
    PostgreSQL tables: a running refresh keeps its link due until it stores its result.
    """
    statement = (
        select(links.c.tenant_id, links.c.id)
        .where(links.c.next_refresh_at <= now)
        .order_by(links.c.next_refresh_at)
        .limit(limit)
    )
    if skip_queued:
        statement = statement.where(~_REFRESH_QUEUED, ~_REFRESH_RUNNING)
    return await uow.rows(statement)


_FINISH_REFRESH = Prepared(
    update(links)
    .where(links.c.tenant_id == bindparam("tenant_id"), links.c.id == bindparam("link_id"))
    .values(
        status=bindparam("status"),
        last_accessed_at=bindparam("now"),
        updated_at=bindparam("now"),
        login_lease_until=null(),
        last_refreshed_at=bindparam("now"),
        refresh_count=bindparam("refresh_count"),
        next_refresh_at=bindparam("next_refresh_at"),
        historical_update_pending=bindparam("historical_update_pending"),
        refresh_request_id=bindparam("refresh_request_id"),
    )
)


async def finish_refresh(
    uow: UnitOfWork,
    tenant_id: str,
    link_id: str,
    *,
    status: str,
    now: datetime,
    refresh_count: int,
    next_refresh_at: datetime | None,
    historical_update_pending: bool,
    refresh_request_id: str | None,
) -> None:
    """Store a successful refresh: the link's status and access time as a login stores them
    (`vinculo.links.repository.record_login`), its new schedule, and its released lease."""
    await uow.execute(
        _FINISH_REFRESH,
        tenant_id=tenant_id,
        link_id=link_id,
        status=status,
        now=now,
        refresh_count=refresh_count,
        next_refresh_at=next_refresh_at,
        historical_update_pending=historical_update_pending,
        refresh_request_id=refresh_request_id,
    )


async def set_schedule(uow: UnitOfWork, tenant_id: str, link_id: str, **values: Any) -> bool:
    """Update a link's refresh columns; return whether the link exists."""
    statement = (
        update(links).where(links.c.tenant_id == tenant_id, links.c.id == link_id).values(**values)
    )
    return await uow.execute(statement) > 0


async def stored_counts(uow: UnitOfWork, tenant_id: str, link_id: str) -> dict[str, int]:
    """Count the link's stored accounts, transactions and owners."""
    return counts_of(await uow.first(_STORED_COUNTS, tenant_id=tenant_id, link_id=link_id))


async def transaction_totals(uow: UnitOfWork, tenant_id: str, link_id: str) -> Any:
    """Return the link's transaction count, inflows, outflows and first and last value date."""
    statement = select(
        func.count().label("total"),
        func.coalesce(func.sum(case((transactions.c.type == "INFLOW", 1), else_=0)), 0).label(
            "inflows"
        ),
        func.coalesce(func.sum(case((transactions.c.type == "OUTFLOW", 1), else_=0)), 0).label(
            "outflows"
        ),
        func.min(transactions.c.value_date).label("first_date"),
        func.max(transactions.c.value_date).label("last_date"),
    ).where(transactions.c.tenant_id == tenant_id, transactions.c.link_id == link_id)
    return await uow.first(statement)
