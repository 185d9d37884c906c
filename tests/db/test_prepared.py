"""Prepared statements store and read values exactly as SQLAlchemy does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, insert, select, text

from vinculo.db.engine import Database
from vinculo.db.migrate import upgrade
from vinculo.db.models import tenants
from vinculo.db.prepared import Prepared

INSERT_TENANT = Prepared(
    insert(tenants).values(
        id=bindparam("id"), name=bindparam("name"), created_at=bindparam("created_at")
    )
)
TENANT_BY_ID = Prepared(select(tenants).where(tenants.c.id == bindparam("id")))


async def test_prepared_matches_sqlalchemy(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)
    database = Database(url)
    whole_second = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    try:
        async with database.unit_of_work() as uow:
            await uow.execute(INSERT_TENANT, id="a", name="prepared", created_at=whole_second)
            await uow.execute(insert(tenants).values(id="b", name="core", created_at=whole_second))
        async with database.unit_of_work() as uow:
            stored = await uow.rows(
                select(text("id"), text("created_at")).select_from(tenants).order_by(text("id"))
            )
            prepared_row = await uow.first(TENANT_BY_ID, id="b")
            core_row = await uow.first(select(tenants).where(tenants.c.id == "a"))
    finally:
        await database.aclose()

    assert stored[0][1] == stored[1][1], "both paths must write the same text"
    assert prepared_row.created_at == whole_second
    assert core_row.created_at == whole_second


TENANT_PLAIN = Prepared(
    select(tenants.c.name, tenants.c.created_at).where(tenants.c.id == bindparam("id")),
    plain_rows=True,
)


async def test_plain_rows_match_named_rows(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)
    database = Database(url)
    created_at = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    try:
        async with database.unit_of_work() as uow:
            await uow.execute(INSERT_TENANT, id="a", name="plain", created_at=created_at)
        async with database.unit_of_work() as uow:
            plain = await uow.first(TENANT_PLAIN, id="a")
            named = await uow.first(TENANT_BY_ID, id="a")
    finally:
        await database.aclose()

    assert tuple(plain) == ("plain", created_at), "plain rows get the same type conversions"
    assert (named.name, named.created_at) == tuple(plain)
