"""`stale_in`: retention deletes the stored data of links not accessed within the period."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from tests.links.calls import create_link
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import accounts, links, owners
from vinculo.links.retention import apply_retention


async def stored_accounts(app: VinculoApp, link_id: str) -> int:
    async with app.context.database.unit_of_work() as uow:
        return int(await uow.scalar(select(func.count()).where(accounts.c.link_id == link_id)))


async def retain(app: VinculoApp, clock: Clock) -> int:
    async with app.context.database.unit_of_work() as uow:
        return (await apply_retention(uow, clock.now())).links_purged


async def test_stale_link_loses_its_data_but_stays(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    link = await create_link(client, "stale_user", access_mode="single", stale_in="2d")
    assert (await client.post("/api/accounts/", json={"link": link["id"]})).status_code == 201
    assert (await client.post("/api/owners/", json={"link": link["id"]})).status_code == 201

    clock.advance(timedelta(days=2, seconds=1))

    assert await retain(app, clock) == 1
    assert await stored_accounts(app, link["id"]) == 0
    async with app.context.database.unit_of_work() as uow:
        assert await uow.scalar(select(func.count()).where(owners.c.link_id == link["id"])) == 0
        assert await uow.scalar(select(func.count()).where(links.c.id == link["id"])) == 1
    # A later retrieval stores the data again.
    assert (await client.post("/api/accounts/", json={"link": link["id"]})).status_code == 201
    assert await stored_accounts(app, link["id"]) > 0


async def test_recently_accessed_link_keeps_its_data(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    link = await create_link(client, "fresh_user", access_mode="single", stale_in="2d")
    clock.advance(timedelta(days=1))
    assert (await client.post("/api/accounts/", json={"link": link["id"]})).status_code == 201

    clock.advance(timedelta(days=1, hours=12))

    assert await retain(app, clock) == 0
    assert await stored_accounts(app, link["id"]) > 0


async def test_link_without_stale_in_keeps_its_data(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    link = await create_link(client, "keeper", access_mode="single")
    assert (await client.post("/api/accounts/", json={"link": link["id"]})).status_code == 201

    clock.advance(timedelta(days=400))

    assert await retain(app, clock) == 0
    assert await stored_accounts(app, link["id"]) > 0
