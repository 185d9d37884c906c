"""`X-Belvo-Request-Mode: async`: 202 with a request id, the work in a job, then a webhook."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.links.calls import REQUEST_ID, UNKNOWN_LINK_ID, create_link, single_error
from vinculo.app import VinculoApp
from vinculo.db.models import accounts, links, webhook_events
from vinculo.jobs.runner import JobsInServer

ASYNC = {"X-Belvo-Request-Mode": "async"}
DEADLINE_SECONDS = 20


@pytest.fixture
async def jobs(app: VinculoApp) -> AsyncIterator[None]:
    runner = JobsInServer(app.context)
    await runner.start()
    yield
    await runner.stop()


async def event_for(app: VinculoApp, request_id: str) -> dict[str, Any]:
    """Wait for the webhook event that carries `request_id` and return its body."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        async with app.context.database.unit_of_work() as uow:
            rows = await uow.rows(select(webhook_events.c.body))
        bodies = [json.loads(row.body) for row in rows]
        matching = [body for body in bodies if body["request_id"] == request_id]
        if matching:
            assert len(matching) == 1, matching
            found: dict[str, Any] = matching[0]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no webhook with request_id {request_id} in {DEADLINE_SECONDS} s")


def accepted(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    request_id: str = response.json()["request_id"]
    assert REQUEST_ID.match(request_id)
    assert request_id == response.headers["x-request-id"]
    return request_id


async def test_async_accounts_retrieval(
    client: httpx.AsyncClient, app: VinculoApp, jobs: None
) -> None:
    link = await create_link(client, "async_user", access_mode="single", external_id="ext-1")

    response = await client.post("/api/accounts/", json={"link": link["id"]}, headers=ASYNC)

    event = await event_for(app, accepted(response))
    async with app.context.database.unit_of_work() as uow:
        stored = await uow.scalar(select(func.count()).where(accounts.c.link_id == link["id"]))
    assert stored > 0
    assert event["webhook_type"] == "ACCOUNTS"
    assert event["webhook_code"] == "new_accounts_available"
    assert event["data"] == {"new_accounts": stored}
    assert event["link_id"] == link["id"]
    assert event["external_id"] == "ext-1"


async def test_async_transactions_retrieval(
    client: httpx.AsyncClient, app: VinculoApp, jobs: None
) -> None:
    link = await create_link(client, "async_tx", access_mode="single")
    body = {"link": link["id"], "date_from": "2026-01-01", "date_to": "2026-01-31"}

    response = await client.post("/api/transactions/", json=body, headers=ASYNC)

    event = await event_for(app, accepted(response))
    assert event["webhook_code"] == "new_transactions_available"
    assert event["data"]["new_transactions"] > 0
    listed = await client.get("/api/transactions/", params={"link": link["id"]})
    assert listed.json()["count"] == event["data"]["new_transactions"]


async def test_async_failure_sends_retrieval_failed(
    client: httpx.AsyncClient, app: VinculoApp, jobs: None
) -> None:
    link = await create_link(client, "no_data", access_mode="single")

    response = await client.post("/api/owners/", json={"link": link["id"]}, headers=ASYNC)

    event = await event_for(app, accepted(response))
    assert event["webhook_type"] == "OWNERS"
    assert event["webhook_code"] == "retrieval_failed"
    assert event["data"] == {
        "error_code": "unavailable_data",
        "error_message": "The institution did not return any data for the request.",
        "status": 400,
    }


async def test_async_checks_the_request_first(client: httpx.AsyncClient, jobs: None) -> None:
    unknown = await client.post("/api/accounts/", json={"link": UNKNOWN_LINK_ID}, headers=ASYNC)
    link = await create_link(client, "async_checks", access_mode="single")
    backwards = {"link": link["id"], "date_from": "2026-02-01", "date_to": "2026-01-01"}
    reversed_range = await client.post("/api/transactions/", json=backwards, headers=ASYNC)

    assert single_error(unknown, 400)["field"] == "link"
    assert single_error(reversed_range, 400)["field"] == "date_from"


@pytest.mark.parametrize("field", ["token", "encryption_key"])
async def test_async_rejects_secrets(client: httpx.AsyncClient, jobs: None, field: str) -> None:
    link = await create_link(client, f"async_{field}", access_mode="single")

    response = await client.post(
        "/api/accounts/", json={"link": link["id"], field: "123456"}, headers=ASYNC
    )

    item = single_error(response, 400)
    assert item["code"] == "validation_error"
    assert item["field"] == field


async def test_other_header_value_is_synchronous(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "sync_user", access_mode="single")

    response = await client.post(
        "/api/accounts/", json={"link": link["id"]}, headers={"X-Belvo-Request-Mode": "ASYNC"}
    )

    assert response.status_code == 201, response.text


async def test_async_without_a_queue_is_503(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "no_queue", access_mode="single")

    response = await client.post("/api/accounts/", json={"link": link["id"]}, headers=ASYNC)

    assert single_error(response, 503)["code"] == "service_unavailable"


async def test_async_link_deletion(client: httpx.AsyncClient, app: VinculoApp, jobs: None) -> None:
    link = await create_link(client, "delete_me", access_mode="single", external_id="ext-9")

    response = await client.delete(f"/api/links/{link['id']}/", headers=ASYNC)

    event = await event_for(app, accepted(response))
    assert event["webhook_type"] == "LINK"
    assert event["webhook_code"] == "link_deleted"
    assert event["external_id"] == "ext-9"
    async with app.context.database.unit_of_work() as uow:
        assert await uow.scalar(select(func.count()).where(links.c.id == link["id"])) == 0
    assert (await client.get(f"/api/links/{link['id']}/")).status_code == 404


async def test_async_deletion_of_unknown_link_is_404(client: httpx.AsyncClient, jobs: None) -> None:
    response = await client.delete(f"/api/links/{UNKNOWN_LINK_ID}/", headers=ASYNC)

    assert single_error(response, 404)["code"] == "not_found"


async def test_sync_deletion_still_204(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "delete_sync", access_mode="single")

    response = await client.delete(f"/api/links/{link['id']}/")

    assert response.status_code == 204
    assert response.content == b""
