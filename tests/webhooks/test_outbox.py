"""The outbox: an event commits or rolls back with the unit of work that wrote it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.webhooks.calls import create_endpoint
from vinculo.app import VinculoApp
from vinculo.db.models import webhook_deliveries, webhook_endpoints, webhook_events
from vinculo.webhooks.service import enqueue_event


async def count_rows(app: VinculoApp) -> tuple[int, int]:
    async with app.context.database.unit_of_work() as uow:
        events = await uow.scalar(select(func.count()).select_from(webhook_events))
        rows = await uow.scalar(select(func.count()).select_from(webhook_deliveries))
    return int(events), int(rows)


async def enqueue(app: VinculoApp, uow: Any, tenant_id: str) -> str:
    queued = await enqueue_event(
        uow,
        tenant_id,
        webhook_type="ACCOUNTS",
        webhook_code="historical_update",
        link_id=None,
        external_id=None,
        process_type="historical_update",
        request_id=None,
        data={"total_accounts": 1},
        now=app.context.clock.now(),
    )
    return queued.id


async def caller_tenant(app: VinculoApp, client: httpx.AsyncClient) -> str:
    """Return the tenant id of `client`, read from an endpoint it creates."""
    endpoint = await create_endpoint(client, "http://127.0.0.1:9/hook")
    async with app.context.database.unit_of_work() as uow:
        tenant_id = await uow.scalar(
            select(webhook_endpoints.c.tenant_id).where(webhook_endpoints.c.id == endpoint["id"])
        )
    return str(tenant_id)


async def test_event_rolls_back_with_work(app: VinculoApp, client: httpx.AsyncClient) -> None:
    tenant_id = await caller_tenant(app, client)

    with pytest.raises(RuntimeError, match="the change failed"):
        async with app.context.database.unit_of_work() as uow:
            await enqueue(app, uow, tenant_id)
            raise RuntimeError("the change failed")
    assert await count_rows(app) == (0, 0)

    async with app.context.database.unit_of_work() as uow:
        await enqueue(app, uow, tenant_id)
    assert await count_rows(app) == (1, 1)
