"""SQL for tenants and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import api_keys, tenants
from vinculo.db.prepared import Prepared


async def tenant_by_name(uow: UnitOfWork, name: str) -> Any:
    return await uow.first(select(tenants).where(tenants.c.name == name))


async def insert_tenant(uow: UnitOfWork, *, tenant_id: str, name: str, now: datetime) -> None:
    await uow.execute(insert(tenants).values(id=tenant_id, name=name, created_at=now))


async def count_tenants(uow: UnitOfWork) -> int:
    rows = await uow.rows(select(tenants.c.id).limit(1))
    return len(rows)


async def insert_api_key(
    uow: UnitOfWork,
    *,
    secret_id: str,
    tenant_id: str,
    principal_id: str,
    secret_digest: bytes,
    label: str | None,
    now: datetime,
) -> None:
    await uow.execute(
        insert(api_keys).values(
            secret_id=secret_id,
            tenant_id=tenant_id,
            principal_id=principal_id,
            secret_digest=secret_digest,
            label=label,
            created_at=now,
        )
    )


_API_KEY_BY_ID = Prepared(
    select(
        api_keys.c.tenant_id,
        api_keys.c.principal_id,
        api_keys.c.secret_digest,
        api_keys.c.revoked_at,
    ).where(api_keys.c.secret_id == bindparam("secret_id"))
)


async def api_key_by_id(uow: UnitOfWork, secret_id: str) -> Any:
    return await uow.first(_API_KEY_BY_ID, secret_id=secret_id)


async def list_api_keys(uow: UnitOfWork) -> Sequence[Row[Any]]:
    statement = (
        select(api_keys, tenants.c.name.label("tenant_name"))
        .join(tenants, tenants.c.id == api_keys.c.tenant_id)
        .order_by(api_keys.c.created_at)
    )
    return await uow.rows(statement)


async def revoke_api_key(uow: UnitOfWork, secret_id: str, now: datetime) -> int:
    statement = (
        update(api_keys)
        .where(api_keys.c.secret_id == secret_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return await uow.execute(statement)
