"""SQL for stored owners."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import owners
from vinculo.db.prepared import Prepared

UPDATED_COLUMNS = ("display_name", "email", "collected_at", "body")
INSERTED_COLUMNS = (
    "id",
    "tenant_id",
    "link_id",
    "internal_identification",
    "created_at",
    *UPDATED_COLUMNS,
)

_KNOWN = Prepared(
    select(owners.c.internal_identification, owners.c.id, owners.c.created_at).where(
        owners.c.tenant_id == bindparam("tenant_id"), owners.c.link_id == bindparam("link_id")
    )
)
_INSERT = Prepared(insert(owners).values({name: bindparam(name) for name in INSERTED_COLUMNS}))
_UPDATE = Prepared(
    update(owners)
    .where(owners.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in UPDATED_COLUMNS})
)
_BODY_BY_ID = Prepared(
    select(owners.c.body).where(
        owners.c.tenant_id == bindparam("tenant_id"), owners.c.id == bindparam("owner_id")
    )
)


async def known_owners(uow: UnitOfWork, tenant_id: str, link_id: str) -> dict[str, Any]:
    """Return the link's stored owners (`id`, `created_at`) by `internal_identification`."""
    rows = await uow.rows(_KNOWN, tenant_id=tenant_id, link_id=link_id)
    return {row.internal_identification: row for row in rows}


async def insert_owners(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    await uow.execute_many(_INSERT, rows)


async def update_owners(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite stored owners; each row names its owner by `row_id`."""
    await uow.execute_many(_UPDATE, rows)


async def get_body(uow: UnitOfWork, tenant_id: str, owner_id: str) -> bytes | None:
    body = await uow.scalar(_BODY_BY_ID, tenant_id=tenant_id, owner_id=owner_id)
    return None if body is None else bytes(body)


async def list_owners(
    uow: UnitOfWork,
    tenant_id: str,
    conditions: Sequence[ColumnElement[bool]],
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[bytes]]:
    """Return the number of matching owners and one page of their bodies, newest first."""
    where = (owners.c.tenant_id == tenant_id, *conditions)
    count = await uow.scalar(select(func.count()).select_from(owners).where(*where))
    page = (
        select(owners.c.body)
        .where(*where)
        .order_by(owners.c.created_at.desc(), owners.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return int(count or 0), [bytes(row.body) for row in await uow.rows(page)]


async def delete_owner(uow: UnitOfWork, tenant_id: str, owner_id: str) -> bool:
    statement = delete(owners).where(owners.c.tenant_id == tenant_id, owners.c.id == owner_id)
    return await uow.execute(statement) > 0
