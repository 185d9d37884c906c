"""How a PostgreSQL unit of work uses its connection: no transaction until the first write or
row lock, a COMMIT that PostgreSQL turned into a rollback is an error, and a cancelled unit
of work leaves nothing open behind it."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from sqlalchemy import bindparam, func, select, text, update

from tests.db.test_postgres_outages import database_name, terminate_app_connections
from tests.links.calls import create_link
from tests.support.databases import (
    CONNECT_TIMEOUT_SECONDS,
    driver_url,
    selected_database,
)
from vinculo.app import VinculoApp
from vinculo.db.engine import Database, DatabaseUnavailable
from vinculo.db.models import links
from vinculo.db.prepared import Prepared

pytestmark = pytest.mark.skipif(
    selected_database() != "postgresql",
    reason="about PostgreSQL transactions; runs with VINCULO_TEST_DATABASE=postgresql",
)

# Two reads in one transaction see the same start time; two reads outside one do not.
_STARTED = select(func.transaction_timestamp())
_LINK_FOR_UPDATE = Prepared(
    select(links.c.id).where(links.c.id == bindparam("link_id")).with_for_update()
)
_LINK_NAME = Prepared(select(links.c.external_id).where(links.c.id == bindparam("link_id")))


async def _lock_is_free(app: VinculoApp, link_id: str) -> bool:
    """Whether another connection can lock the link's row without waiting."""
    probe = await asyncpg.connect(
        driver_url(app.context.database.url), timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        async with probe.transaction():
            await probe.execute("SELECT id FROM links WHERE id = $1 FOR UPDATE NOWAIT", link_id)
        return True
    except asyncpg.LockNotAvailableError:
        return False
    finally:
        await probe.close()


async def test_reads_before_write_skip_transaction(app: VinculoApp) -> None:
    database: Database = app.context.database
    async with database.unit_of_work() as uow:
        first = await uow.scalar(_STARTED)
        await asyncio.sleep(0.01)
        second = await uow.scalar(_STARTED)
        assert first != second, "a read before any write must not begin a transaction"
        await uow.begin_write()
        first = await uow.scalar(_STARTED)
        await asyncio.sleep(0.01)
        second = await uow.scalar(_STARTED)
        assert first == second, "reads after begin_write must run in its transaction"


async def test_for_update_read_holds_lock(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link_id = (await create_link(client, "for_update"))["id"]

    async with app.context.database.unit_of_work() as uow:
        assert await uow.first(_LINK_FOR_UPDATE, link_id=link_id) is not None
        locked_inside = not await _lock_is_free(app, link_id)

    assert locked_inside, "SELECT ... FOR UPDATE must begin the transaction that keeps its lock"
    assert await _lock_is_free(app, link_id)


async def test_commit_after_caught_failure_raises(
    app: VinculoApp, client: httpx.AsyncClient
) -> None:
    link_id = (await create_link(client, "caught_failure"))["id"]
    database: Database = app.context.database
    committed = []

    with pytest.raises(RuntimeError, match="rolled the transaction back"):
        async with database.unit_of_work() as uow:
            uow.after_commit(lambda: committed.append(True))
            await uow.execute(update(links).where(links.c.id == link_id).values(external_id="x"))
            with pytest.raises(asyncpg.PostgresError):
                await uow.execute(Prepared(select(text("1 / 0"))))

    async with database.unit_of_work() as uow:
        stored = await uow.scalar(_LINK_NAME, link_id=link_id)
    assert committed == []
    assert stored != "x"


async def test_cancelled_work_leaves_no_transaction(
    app: VinculoApp, client: httpx.AsyncClient
) -> None:
    link_id = (await create_link(client, "cancelled"))["id"]
    database: Database = app.context.database
    locked = asyncio.Event()

    async def hold_lock_and_sleep() -> None:
        async with database.unit_of_work() as uow:
            await uow.first(_LINK_FOR_UPDATE, link_id=link_id)
            locked.set()
            await uow.first(select(func.pg_sleep(30)))

    task = asyncio.create_task(hold_lock_and_sleep())
    await locked.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await _lock_is_free(app, link_id)
    async with database.unit_of_work() as uow:
        await uow.begin_write()
        assert await uow.scalar(_LINK_NAME, link_id=link_id) is None


async def test_lost_connection_on_prepared_statement(
    app: VinculoApp, client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    link_id = (await create_link(client, "lost_prepared"))["id"]
    database: Database = app.context.database

    with pytest.raises(DatabaseUnavailable):
        async with database.unit_of_work() as uow:
            await uow.begin_write()
            await terminate_app_connections(admin, database_name(app))
            await asyncio.sleep(0.05)
            await uow.first(_LINK_NAME, link_id=link_id)
    # The pool's other connections died too; the next unit of work takes a live one.
    async with database.unit_of_work() as uow:
        assert await uow.first(_LINK_NAME, link_id=link_id) is not None


async def test_cancelled_lock_wait_leaves_no_transaction(
    app: VinculoApp, admin: asyncpg.Connection
) -> None:
    database: Database = app.context.database
    entered, leave = asyncio.Event(), asyncio.Event()

    async def hold_write_lock() -> None:
        async with database.unit_of_work() as uow:
            await uow.begin_write()
            entered.set()
            await leave.wait()

    async def wait_for_write_lock() -> None:
        async with database.unit_of_work() as uow:
            await uow.begin_write()

    holder = asyncio.create_task(hold_write_lock())
    await entered.wait()
    waiter = asyncio.create_task(wait_for_write_lock())
    await asyncio.sleep(0.1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    leave.set()
    await holder
    await asyncio.sleep(0.1)

    idle_in_transaction = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = $1 AND state LIKE 'idle in transaction%'",
        database_name(app),
    )
    assert idle_in_transaction == 0, "the cancelled BEGIN must not leave a transaction open"
    async with asyncio.timeout(5):
        await wait_for_write_lock()
