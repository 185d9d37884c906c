"""Row writes run beside each other on PostgreSQL, but never beside a write that runs alone,
and a single statement commits on its own."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select, update

from tests.links.calls import create_link
from vinculo.app import VinculoApp
from vinculo.db.models import links

# Long enough for a lock wait to show, short enough to keep the test quick.
WAIT_SECONDS = 0.3


async def _hold(
    app: VinculoApp, *, row_write: bool, entered: asyncio.Event, leave: asyncio.Event
) -> None:
    async with app.context.database.unit_of_work() as uow:
        if row_write:
            await uow.begin_row_write()
        else:
            await uow.begin_write()
        entered.set()
        await leave.wait()


async def _begin_row_write(app: VinculoApp) -> None:
    async with app.context.database.unit_of_work() as uow:
        await uow.begin_row_write()


async def test_row_writes_overlap(app: VinculoApp) -> None:
    if app.context.database.kind != "postgresql":
        pytest.skip("SQLite has one writer at a time, so its row writes take turns")
    entered, leave = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(app, row_write=True, entered=entered, leave=leave))
    await entered.wait()
    try:
        await asyncio.wait_for(_begin_row_write(app), WAIT_SECONDS * 10)
    finally:
        leave.set()
        await holder


async def test_row_write_waits_for_exclusive_write(app: VinculoApp) -> None:
    entered, leave = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_hold(app, row_write=False, entered=entered, leave=leave))
    await entered.wait()
    waiting = asyncio.create_task(_begin_row_write(app))
    await asyncio.sleep(WAIT_SECONDS)
    assert not waiting.done()

    leave.set()
    await holder
    await asyncio.wait_for(waiting, WAIT_SECONDS * 10)


async def test_single_statement_commits_alone(app: VinculoApp, client: httpx.AsyncClient) -> None:
    if app.context.database.kind != "postgresql":
        pytest.skip("on SQLite a single statement runs in an ordinary unit of work")
    link_id = (await create_link(client, "user_valid"))["id"]
    external_id = select(links.c.external_id).where(links.c.id == link_id)

    async with app.context.database.single_statement() as uow:
        await uow.execute(update(links).where(links.c.id == link_id).values(external_id="seen"))
        # Still inside the block: another connection already reads the change.
        async with app.context.database.unit_of_work() as reader:
            assert await reader.scalar(external_id) == "seen"
