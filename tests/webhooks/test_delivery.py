"""Delivery: signed POSTs, retries on the schedule, the delivery log and redelivery."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import structlog
import structlog.testing
from sqlalchemy import select

from tests.webhooks.calls import (
    create_endpoint,
    deliveries,
    delivery_round,
    fire,
    verify_standard_webhook,
)
from tests.webhooks.receiver import Receiver
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import webhook_deliveries
from vinculo.webhooks import delivery, repository, service
from vinculo.webhooks.delivery import WebhookDeliveryTask

AUTHORIZATION = "Bearer canary-Webhook-Token-7f3a"


async def delivery_state(app: VinculoApp, event_id: str) -> Any:
    async with app.context.database.unit_of_work() as uow:
        return await uow.first(
            select(webhook_deliveries).where(webhook_deliveries.c.event_id == event_id)
        )


async def test_delivery_is_signed_and_authorized(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    endpoint = await create_endpoint(client, receiver.url, authorization=AUTHORIZATION)
    queued = await fire(client, link["id"])

    assert queued["deliveries"] == 1
    assert await delivery_round(app) == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.headers["authorization"] == AUTHORIZATION
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == queued["webhook_id"]
    assert verify_standard_webhook(endpoint["secret"], request.headers, request.body)
    assert not verify_standard_webhook(endpoint["secret"], request.headers, request.body + b" ")


async def test_payload_has_belvo_shape(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    await create_endpoint(client, receiver.url)
    queued = await fire(client, link["id"])
    await delivery_round(app)

    payload = json.loads(receiver.requests[0].body)
    assert set(payload) == {
        "webhook_id",
        "webhook_type",
        "webhook_code",
        "link_id",
        "request_id",
        "external_id",
        "process_type",
        "data",
    }
    assert payload["webhook_id"] == queued["webhook_id"]
    assert payload["webhook_type"] == "TRANSACTIONS"
    assert payload["webhook_code"] == "new_transactions_available"
    assert payload["link_id"] == link["id"]
    assert payload["external_id"] == "customer-42"
    assert payload["process_type"] == "recurrent_update"
    assert payload["data"] == {"new_transactions": 1}
    assert len(payload["request_id"]) == 32


async def test_given_data_is_sent(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    await create_endpoint(client, receiver.url)
    await fire(
        client,
        link["id"],
        webhook_type="ACCOUNTS",
        webhook_code="historical_update",
        data={"total_accounts": 7},
    )
    await delivery_round(app)

    payload = json.loads(receiver.requests[0].body)
    assert payload["data"] == {"total_accounts": 7}
    assert payload["process_type"] == "historical_update"


async def test_fails_three_times_then_delivers(
    app: VinculoApp,
    client: httpx.AsyncClient,
    receiver: Receiver,
    link: dict[str, Any],
    clock: Clock,
) -> None:
    receiver_statuses = [500, 503, 404]
    failing = Receiver(receiver_statuses).start()
    try:
        endpoint = await create_endpoint(client, failing.url)
        queued = await fire(client, link["id"])
        event_id = queued["webhook_id"]

        # Attempt 1 now, then the schedule's 5 s, 30 s and 120 s waits.
        assert await delivery_round(app) == 1
        for wait in (5, 30, 120):
            clock.advance(timedelta(seconds=wait - 1))
            assert await delivery_round(app) == 0, f"retried before its {wait} s wait"
            clock.advance(timedelta(seconds=1))
            assert await delivery_round(app) == 1
        assert await delivery_round(app) == 0
    finally:
        failing.stop()

    assert len(failing.requests) == 4
    assert {request.headers["webhook-id"] for request in failing.requests} == {event_id}
    bodies = {request.body for request in failing.requests}
    assert len(bodies) == 1
    for request in failing.requests:
        assert verify_standard_webhook(endpoint["secret"], request.headers, request.body)
    log = await deliveries(client, event_id)
    assert len(log) == 4
    assert [row["attempt"] for row in log] == [4, 3, 2, 1]
    assert [row["status_code"] for row in log] == [200, 404, 503, 500]
    assert all(row["latency_ms"] >= 0 for row in log)
    assert (await delivery_state(app, event_id)).state == "delivered"


async def test_clock_move_keeps_delivery_lease(
    app: VinculoApp,
    client: httpx.AsyncClient,
    receiver: Receiver,
    link: dict[str, Any],
    clock: Clock,
) -> None:
    await create_endpoint(client, receiver.url)
    await fire(client, link["id"])
    lease_until = clock.real_now() + timedelta(seconds=app.context.settings.webhook_lease_seconds)
    async with app.context.database.unit_of_work() as uow:
        # Another sender claimed the delivery and is still sending it.
        claimed = await repository.claim_due(
            uow,
            now=clock.now(),
            real_now=clock.real_now(),
            lease_until=lease_until,
            lease_id="sender-in-flight",
        )
    assert len(claimed) == 1
    clock.advance(timedelta(days=8))

    assert await delivery_round(app) == 0
    assert receiver.requests == []


async def test_gives_up_after_max_attempts(
    app: VinculoApp, client: httpx.AsyncClient, link: dict[str, Any], clock: Clock
) -> None:
    failing = Receiver([500] * 10).start()
    try:
        await create_endpoint(client, failing.url)
        event_id = (await fire(client, link["id"]))["webhook_id"]
        for _ in range(8):
            await delivery_round(app)
            clock.advance(timedelta(seconds=120))
    finally:
        failing.stop()

    assert len(failing.requests) == 5
    state = await delivery_state(app, event_id)
    assert state.state == "failed"
    assert state.attempts == 5


async def test_redirect_is_a_failure(
    app: VinculoApp, client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    redirecting = Receiver([302]).start()
    try:
        await create_endpoint(client, redirecting.url)
        event_id = (await fire(client, link["id"]))["webhook_id"]
        await delivery_round(app)
    finally:
        redirecting.stop()

    assert [request.path for request in redirecting.requests] == ["/hook"]
    log = await deliveries(client, event_id)
    assert [row["status_code"] for row in log] == [302]
    state = await delivery_state(app, event_id)
    assert state.state == "pending"
    assert state.failures == 1


async def test_unreachable_receiver_is_logged(
    app: VinculoApp, client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    closed = Receiver().start()
    url = closed.url
    closed.stop()
    await create_endpoint(client, url)
    event_id = (await fire(client, link["id"]))["webhook_id"]
    await delivery_round(app)

    [row] = await deliveries(client, event_id)
    assert row["status_code"] is None
    assert row["error"].startswith("ConnectError")


async def test_each_endpoint_gets_the_event(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    second = Receiver().start()
    try:
        await create_endpoint(client, receiver.url)
        await create_endpoint(client, second.url)
        queued = await fire(client, link["id"])
        assert queued["deliveries"] == 2
        assert await delivery_round(app) == 2
    finally:
        second.stop()

    assert [request.headers["webhook-id"] for request in receiver.requests] == [
        queued["webhook_id"]
    ]
    assert [request.headers["webhook-id"] for request in second.requests] == [queued["webhook_id"]]


async def test_redeliver_sends_same_id(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    await create_endpoint(client, receiver.url)
    event_id = (await fire(client, link["id"]))["webhook_id"]
    await delivery_round(app)
    assert await delivery_round(app) == 0

    response = await client.post(f"/admin/webhooks/events/{event_id}/redeliver/")
    assert response.status_code == 202, response.text
    assert response.json() == {"webhook_id": event_id, "deliveries": 1}
    assert await delivery_round(app) == 1

    assert [request.headers["webhook-id"] for request in receiver.requests] == [event_id] * 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert [row["attempt"] for row in await deliveries(client, event_id)] == [2, 1]


async def test_redeliver_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/admin/webhooks/events/{'0' * 32}/redeliver/")

    assert response.status_code == 404
    assert response.json()[0]["code"] == "not_found"


async def test_task_delivers_in_background(
    app: VinculoApp, client: httpx.AsyncClient, link: dict[str, Any], clock: Clock
) -> None:
    """The task started with the app claims the event and its retries on its own."""
    failing = Receiver([500]).start()
    task = WebhookDeliveryTask(app.context)
    task.start()
    try:
        await create_endpoint(client, failing.url)
        event_id = (await fire(client, link["id"]))["webhook_id"]
        await wait_for(lambda: len(failing.requests) == 1)
        clock.advance(timedelta(seconds=5))
        await wait_for(lambda: len(failing.requests) == 2)
        await wait_for_state(app, event_id, "delivered")
    finally:
        await task.stop()
        failing.stop()


async def wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {seconds} s")
        await asyncio.sleep(0.02)


async def wait_for_state(app: VinculoApp, event_id: str, state: str, seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while (await delivery_state(app, event_id)).state != state:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"delivery of {event_id} not {state} within {seconds} s")
        await asyncio.sleep(0.02)


async def test_authorization_never_logged(
    app: VinculoApp,
    client: httpx.AsyncClient,
    link: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capture = structlog.testing.LogCapture()
    for module in (delivery, service):
        monkeypatch.setattr(module, "logger", structlog.wrap_logger(None, processors=[capture]))
    failing = Receiver([500]).start()
    try:
        endpoint = await create_endpoint(client, failing.url, authorization=AUTHORIZATION)
        await fire(client, link["id"])
        await delivery_round(app)
    finally:
        failing.stop()

    events = [entry["event"] for entry in capture.entries]
    assert events == ["webhook.endpoint_created", "webhook.enqueued", "webhook.delivery_failed"]
    logged = repr(capture.entries)
    assert "canary-Webhook-Token" not in logged
    assert endpoint["secret"] not in logged
