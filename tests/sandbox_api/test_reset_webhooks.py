"""`POST /sandbox/reset/` keeps the tenant's webhook endpoints and their pending deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.links.calls import create_link
from tests.webhooks.calls import create_endpoint, deliveries, delivery_round, fire
from tests.webhooks.receiver import Receiver
from vinculo.app import VinculoApp


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


async def test_reset_keeps_webhooks(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, receiver.url)
    link = await create_link(client, "user_valid")
    event_id = (await fire(client, link["id"]))["webhook_id"]

    response = await client.post("/sandbox/reset/")

    assert response.status_code == 200, response.text
    listed = (await client.get("/admin/webhooks/")).json()
    assert [row["id"] for row in listed] == [endpoint["id"]]
    # The event of the deleted link is still sent, and its attempt logged.
    assert await delivery_round(app) == 1
    assert [request.headers["webhook-id"] for request in receiver.requests] == [event_id]
    assert [row["attempt"] for row in await deliveries(client, event_id)] == [1]
