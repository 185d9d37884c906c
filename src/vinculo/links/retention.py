"""Retention: drop expired MFA sessions, credentials past their `credentials_storage`, and the
data of links past their `stale_in`.

Runs every `RETENTION_INTERVAL_SECONDS` inside the server process. Credential updates and
switches to recurrent also check the period themselves, so they never use credentials past it
between two runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, select, update

from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.db.models import (
    accounts,
    balances,
    link_credentials,
    links,
    mfa_sessions,
    owners,
    transactions,
)
from vinculo.links.status import LinkEvent, LinkStatus, next_status
from vinculo.sandbox_api.clock import refresh_shared_clock

logger = structlog.get_logger(__name__)

RETENTION_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RetentionResult:
    sessions_deleted: int
    links_expired: int
    links_purged: int = 0


async def apply_retention(uow: UnitOfWork, now: datetime) -> RetentionResult:
    """Delete expired MFA sessions, and the credentials of links past their period.

    A link whose credentials expire becomes `invalid`, as Belvo documents.
    """
    sessions_deleted = await uow.execute(
        delete(mfa_sessions).where(mfa_sessions.c.expires_at <= now)
    )
    expired = await uow.rows(
        select(links.c.id, links.c.tenant_id, links.c.status).where(
            links.c.credentials_expire_at <= now,
            links.c.id.in_(select(link_credentials.c.link_id)),
        )
    )
    for row in expired:
        status = next_status(LinkStatus(row.status), LinkEvent.CREDENTIALS_EXPIRED)
        await uow.execute(
            delete(link_credentials).where(
                and_(
                    link_credentials.c.tenant_id == row.tenant_id,
                    link_credentials.c.link_id == row.id,
                )
            )
        )
        await uow.execute(
            update(links)
            .where(links.c.tenant_id == row.tenant_id, links.c.id == row.id)
            .values(status=status.value, updated_at=now)
        )
        logger.info("link.credentials_expired", link_id=row.id, tenant_id=row.tenant_id)
    if sessions_deleted:
        logger.info("mfa_session.purged", count=sessions_deleted)
    purged = await purge_stale_data(uow, now)
    return RetentionResult(sessions_deleted, len(expired), purged)


async def purge_stale_data(uow: UnitOfWork, now: datetime) -> int:
    """Delete the stored data of links with `stale_in` that were not accessed within it.

    The period counts from the link's last successful login, retrieval or refresh
    (`last_accessed_at`), or from its creation. The link itself stays, and a later retrieval
    or refresh stores its data again. Returns how many links lost their data.
    """
    candidates = await uow.rows(
        select(
            links.c.id,
            links.c.tenant_id,
            links.c.stale_in,
            links.c.last_accessed_at,
            links.c.created_at,
        ).where(links.c.stale_in.is_not(None), links.c.id.in_(select(accounts.c.link_id)))
    )
    purged = 0
    for row in candidates:
        since = row.last_accessed_at or row.created_at
        if since + timedelta(days=int(row.stale_in[:-1])) > now:
            continue
        # Children first: transactions and balances refer to accounts.
        for table in (transactions, balances, owners, accounts):
            await uow.execute(
                delete(table).where(table.c.tenant_id == row.tenant_id, table.c.link_id == row.id)
            )
        purged += 1
        logger.info("link.stale_data_purged", link_id=row.id, tenant_id=row.tenant_id)
    return purged


async def run_retention_forever(context: AppContext) -> None:
    """Apply retention now and then every interval, until cancelled; failures are logged."""
    while True:
        try:
            await refresh_shared_clock(context)
            async with context.database.unit_of_work() as uow:
                await apply_retention(uow, context.clock.now())
        except Exception:
            logger.exception("retention.failed")
        await asyncio.sleep(RETENTION_INTERVAL_SECONDS)


class RetentionTask:
    """Starts and stops `run_retention_forever` with the application."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            run_retention_forever(self._context), name="retention"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
