"""SQL for the institution statuses that the sandbox control API sets per tenant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import institution_statuses, links
from vinculo.db.prepared import Prepared

# The status that the sandbox control API set for a link's institution and tenant, if any, to
# read in the statement that reads the link.
LINK_INSTITUTION_STATUS = (
    select(institution_statuses.c.status)
    .where(
        institution_statuses.c.tenant_id == links.c.tenant_id,
        institution_statuses.c.institution == links.c.institution,
    )
    .scalar_subquery()
    .label("institution_status")
)
_STATUS_OF = Prepared(
    select(institution_statuses.c.status).where(
        institution_statuses.c.tenant_id == bindparam("tenant_id"),
        institution_statuses.c.institution == bindparam("institution"),
    )
)


async def get_status(uow: UnitOfWork, tenant_id: str, institution: str) -> str | None:
    """Return the stored status of one institution for the tenant, or None when none is set."""
    status: str | None = await uow.scalar(_STATUS_OF, tenant_id=tenant_id, institution=institution)
    return status


async def statuses(uow: UnitOfWork, tenant_id: str) -> dict[str, str]:
    """Return the tenant's stored statuses by institution name."""
    rows = await uow.rows(
        select(institution_statuses.c.institution, institution_statuses.c.status).where(
            institution_statuses.c.tenant_id == tenant_id
        )
    )
    return {row.institution: row.status for row in rows}


async def set_status(
    uow: UnitOfWork, tenant_id: str, institution: str, status: str, *, now: datetime
) -> None:
    """Store an institution's status for the tenant, replacing any stored one."""
    where = (
        institution_statuses.c.tenant_id == tenant_id,
        institution_statuses.c.institution == institution,
    )
    changed = await uow.execute(
        update(institution_statuses).where(*where).values(status=status, updated_at=now)
    )
    if changed == 0:
        await uow.execute(
            insert(institution_statuses).values(
                tenant_id=tenant_id, institution=institution, status=status, updated_at=now
            )
        )


async def clear_status(uow: UnitOfWork, tenant_id: str, institution: str) -> None:
    await uow.execute(
        delete(institution_statuses).where(
            institution_statuses.c.tenant_id == tenant_id,
            institution_statuses.c.institution == institution,
        )
    )


async def clear_all(uow: UnitOfWork, tenant_id: str) -> int:
    """Delete every stored status of the tenant; return how many there were."""
    return await uow.execute(
        delete(institution_statuses).where(institution_statuses.c.tenant_id == tenant_id)
    )
