"""SQL for the refresh schedule of links and the totals that refresh webhooks report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, select, update

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import accounts, links, owners, transactions

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


async def get_target(uow: UnitOfWork, tenant_id: str, link_id: str) -> Any:
    """Return the link with its refresh schedule, or None."""
    statement = select(*_TARGET_COLUMNS).where(
        links.c.tenant_id == tenant_id, links.c.id == link_id
    )
    return await uow.first(statement)


async def due_links(uow: UnitOfWork, now: datetime, limit: int) -> Sequence[Row[Any]]:
    """Return up to `limit` links whose refresh is due, the most overdue first."""
    statement = (
        select(links.c.tenant_id, links.c.id)
        .where(links.c.next_refresh_at <= now)
        .order_by(links.c.next_refresh_at)
        .limit(limit)
    )
    return await uow.rows(statement)


async def set_schedule(uow: UnitOfWork, tenant_id: str, link_id: str, **values: Any) -> bool:
    """Update a link's refresh columns; return whether the link exists."""
    statement = (
        update(links).where(links.c.tenant_id == tenant_id, links.c.id == link_id).values(**values)
    )
    return await uow.execute(statement) > 0


async def stored_counts(uow: UnitOfWork, tenant_id: str, link_id: str) -> dict[str, int]:
    """Count the link's stored accounts, transactions and owners."""
    counts = {}
    for name, table in (("accounts", accounts), ("transactions", transactions), ("owners", owners)):
        statement = select(func.count()).where(
            table.c.tenant_id == tenant_id, table.c.link_id == link_id
        )
        counts[name] = int(await uow.scalar(statement) or 0)
    return counts


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
