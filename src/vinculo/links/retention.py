"""Retention: drop expired MFA sessions and credentials past their `credentials_storage`.

Runs every `RETENTION_INTERVAL_SECONDS` inside the server process. Credential updates and
switches to recurrent also check the period themselves, so they never use credentials past it
between two runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import and_, delete, select, update

from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.db.models import link_credentials, links, mfa_sessions
from vinculo.links.status import LinkEvent, LinkStatus, next_status
from vinculo.sandbox_api.clock import refresh_shared_clock

logger = structlog.get_logger(__name__)

RETENTION_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class RetentionResult:
    sessions_deleted: int
    links_expired: int


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
    return RetentionResult(sessions_deleted, len(expired))


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
