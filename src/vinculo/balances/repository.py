"""SQL for stored daily balances."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, insert, select, update
from sqlalchemy.sql.util import find_tables

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import accounts, balances
from vinculo.db.prepared import Prepared

UPDATED_COLUMNS = ("balance", "currency", "collected_at", "body")
INSERTED_COLUMNS = (
    "id",
    "tenant_id",
    "link_id",
    "account_id",
    "value_date",
    "created_at",
    *UPDATED_COLUMNS,
)

_KNOWN = Prepared(
    select(balances.c.account_id, balances.c.value_date, balances.c.id).where(
        balances.c.tenant_id == bindparam("tenant_id"),
        balances.c.link_id == bindparam("link_id"),
    )
)
_INSERT = Prepared(insert(balances).values({name: bindparam(name) for name in INSERTED_COLUMNS}))
_UPDATE = Prepared(
    update(balances)
    .where(balances.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in UPDATED_COLUMNS})
)
_BY_ID = Prepared(
    select(balances.c.account_id, balances.c.body).where(
        balances.c.tenant_id == bindparam("tenant_id"), balances.c.id == bindparam("balance_id")
    )
)


async def known_balances(uow: UnitOfWork, tenant_id: str, link_id: str) -> dict[Any, str]:
    """Return the ids of the link's stored balances by account id and value date."""
    rows = await uow.rows(_KNOWN, tenant_id=tenant_id, link_id=link_id)
    return {(row.account_id, row.value_date): row.id for row in rows}


async def insert_balances(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    await uow.execute_many(_INSERT, rows)


async def update_balances(uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite stored balances; each row names its balance by `row_id`."""
    await uow.execute_many(_UPDATE, rows)


async def get_balance(uow: UnitOfWork, tenant_id: str, balance_id: str) -> Any:
    """Return the balance's `account_id` and `body`, or None."""
    return await uow.first(_BY_ID, tenant_id=tenant_id, balance_id=balance_id)


async def list_balances(
    uow: UnitOfWork,
    tenant_id: str,
    conditions: Sequence[ColumnElement[bool]],
    *,
    offset: int,
    limit: int,
) -> tuple[int, Sequence[Any]]:
    """Return the number of matching balances and one page of (`account_id`, `body`), newest
    day first. The accounts table is joined only when a condition needs it."""
    source: Any = balances
    if any(accounts in find_tables(condition, check_columns=True) for condition in conditions):
        source = balances.join(accounts, accounts.c.id == balances.c.account_id)
    where = (balances.c.tenant_id == tenant_id, *conditions)
    count = await uow.scalar(select(func.count()).select_from(source).where(*where))
    page = (
        select(balances.c.account_id, balances.c.body)
        .select_from(source)
        .where(*where)
        .order_by(balances.c.value_date.desc(), balances.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return int(count or 0), await uow.rows(page)


async def delete_balance(uow: UnitOfWork, tenant_id: str, balance_id: str) -> bool:
    statement = delete(balances).where(
        balances.c.tenant_id == tenant_id, balances.c.id == balance_id
    )
    return await uow.execute(statement) > 0
