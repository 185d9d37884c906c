"""When links are refreshed: refresh rates, and making a link due for its historical update.

Kept apart from `vinculo.refreshes.service` so that the link services, which the refresh
service itself uses, can schedule refreshes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.refreshes import repository

REFRESH_RATES = {
    "6h": timedelta(hours=6),
    "12h": timedelta(hours=12),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
# Belvo waits a day before the first refresh of a link switched to recurrent.
FIRST_REFRESH_AFTER_SWITCH = timedelta(days=1)


def refresh_interval(refresh_rate: str | None) -> timedelta | None:
    return REFRESH_RATES.get(refresh_rate) if refresh_rate is not None else None


async def schedule_historical_update(
    context: AppContext,
    uow: UnitOfWork,
    tenant_id: str,
    link_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> None:
    """Make the link due now with its historical update pending, and queue its refresh once
    `uow` commits."""
    await repository.set_schedule(
        uow,
        tenant_id,
        link_id,
        next_refresh_at=now,
        historical_update_pending=True,
        refresh_request_id=request_id,
    )
    context.jobs.refresh_after_commit(uow, tenant_id, link_id)
