"""Jobs inside the server process: the queue, the worker and the scheduler run together.

On SQLite the queue is in memory; on PostgreSQL it is Procrastinate's tables in the test
database, the same ones `vinculo worker` processes share.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select

from tests.links.calls import create_link
from vinculo.app import VinculoApp
from vinculo.db.models import links, webhook_events
from vinculo.jobs import queue
from vinculo.jobs.runner import JobsInServer
from vinculo.refreshes.repository import due_links
from vinculo.refreshes.service import enqueue_due_refreshes

DEADLINE_SECONDS = 20


async def wait_refreshed(app: VinculoApp, link_id: str) -> None:
    statement = select(links.c.last_refreshed_at).where(links.c.id == link_id)
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        async with app.context.database.unit_of_work() as uow:
            if await uow.scalar(statement) is not None:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"link {link_id} was not refreshed within {DEADLINE_SECONDS} s")


async def historical_events(app: VinculoApp, link_id: str) -> int:
    statement = select(func.count()).where(
        webhook_events.c.link_id == link_id, webhook_events.c.webhook_code == "historical_update"
    )
    async with app.context.database.unit_of_work() as uow:
        return int(await uow.scalar(statement))


async def test_server_runs_historical_updates(client: httpx.AsyncClient, app: VinculoApp) -> None:
    # Registered before the queue opens, so no job was sent: the scheduler finds it.
    early = await create_link(client, "user_valid")
    jobs = JobsInServer(app.context)
    await jobs.start()
    try:
        # Registered while the queue runs: its job is sent once the registration commits.
        late = await create_link(client, "bnk100")

        await wait_refreshed(app, early["id"])
        await wait_refreshed(app, late["id"])
    finally:
        await jobs.stop()

    assert await historical_events(app, early["id"]) == 3
    assert await historical_events(app, late["id"]) == 3


async def test_queue_closed_after_stop(client: httpx.AsyncClient, app: VinculoApp) -> None:
    jobs = JobsInServer(app.context)
    await jobs.start()
    await jobs.stop()

    assert app.context.jobs.is_open is False
    assert await app.context.jobs.defer_refresh("tenant", "link") is False


async def test_scheduler_queues_each_due_link_once(
    client: httpx.AsyncClient, app: VinculoApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two jobs per query: the first batch holds the link whose refresh already waits, so the
    # database refuses it and its links are queued one by one; the second goes in whole.
    monkeypatch.setattr(queue, "DEFER_BATCH", 2)
    created = [await create_link(client, f"user_{number}") for number in range(4)]
    async with app.context.database.unit_of_work() as uow:
        tenant_id = str(await uow.scalar(select(links.c.tenant_id).limit(1)))
        due = await due_links(uow, app.context.clock.now(), 100)
    assert {row.id for row in due} == {link["id"] for link in created}
    # No worker runs, so the queued jobs wait.
    await app.context.jobs.open()
    try:
        assert await app.context.jobs.defer_refresh(tenant_id, due[0].id) is True

        assert await enqueue_due_refreshes(app.context, limit=100) == 3
        assert await enqueue_due_refreshes(app.context, limit=100) == 0
    finally:
        await app.context.jobs.close()
