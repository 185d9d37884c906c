"""The admin API under /admin/webhooks/ and the sandbox trigger: auth, tenants, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import client_for, new_key
from tests.links.calls import UNKNOWN_LINK_ID
from tests.webhooks.calls import create_endpoint, deliveries, delivery_round, fire
from tests.webhooks.receiver import Receiver
from vinculo.app import VinculoApp, create_app
from vinculo.config import Settings
from vinculo.db.migrate import upgrade


async def test_create_returns_secret_once(client: httpx.AsyncClient) -> None:
    endpoint = await create_endpoint(client, "http://127.0.0.1:9/hook", authorization="Bearer x")

    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["has_authorization"] is True
    listed = (await client.get("/admin/webhooks/")).json()
    assert listed == [
        {
            "id": endpoint["id"],
            "url": "http://127.0.0.1:9/hook",
            "has_authorization": True,
            "created_at": endpoint["created_at"],
        }
    ]


async def test_needs_api_key(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/admin/webhooks/")

    assert response.status_code == 401
    assert response.json()[0]["code"] == "authentication_failed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "http://127.0.0.1/hook", "authorization": "Bearer a\nb"}, "authorization"),
        ({"url": "http://127.0.0.1/hook", "authorization": " "}, "authorization"),
    ],
)
async def test_invalid_endpoint_rejected(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/admin/webhooks/", json=body)

    assert response.status_code == 400
    [item] = response.json()
    assert item["code"] == "invalid"
    assert item["field"] == field


async def test_missing_url_is_required(client: httpx.AsyncClient) -> None:
    response = await client.post("/admin/webhooks/", json={})

    assert response.status_code == 400
    assert response.json()[0]["code"] == "required"


async def test_tenants_are_isolated(
    app: VinculoApp,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    receiver: Receiver,
    link: dict[str, Any],
) -> None:
    endpoint = await create_endpoint(client, receiver.url)
    other_endpoint = await create_endpoint(other_client, receiver.url)
    event_id = (await fire(client, link["id"]))["webhook_id"]
    await delivery_round(app)

    assert [item["id"] for item in (await other_client.get("/admin/webhooks/")).json()] == [
        other_endpoint["id"]
    ]
    # Tenant B's endpoint did not receive tenant A's event.
    assert len(receiver.requests) == 1
    assert await deliveries(other_client) == []
    assert await deliveries(other_client, event_id) == []
    response = await other_client.delete(f"/admin/webhooks/{endpoint['id']}/")
    assert response.status_code == 404
    response = await other_client.post(f"/admin/webhooks/events/{event_id}/redeliver/")
    assert response.status_code == 404
    response = await other_client.post(
        f"/sandbox/links/{link['id']}/webhooks/",
        json={"webhook_type": "LINK", "webhook_code": "invalid_credentials"},
    )
    assert response.status_code == 404
    assert response.json()[0]["code"] == "not_found"
    assert len(await deliveries(client, event_id)) == 1


async def test_delete_endpoint_stops_deliveries(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    endpoint = await create_endpoint(client, receiver.url)
    await fire(client, link["id"])

    response = await client.delete(f"/admin/webhooks/{endpoint['id']}/")
    assert response.status_code == 204
    assert await delivery_round(app) == 0
    assert receiver.requests == []
    assert (await client.get("/admin/webhooks/")).json() == []
    response = await client.delete(f"/admin/webhooks/{endpoint['id']}/")
    assert response.status_code == 404


async def test_trigger_unknown_link_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/sandbox/links/{UNKNOWN_LINK_ID}/webhooks/",
        json={"webhook_type": "TRANSACTIONS", "webhook_code": "historical_update"},
    )

    assert response.status_code == 404


async def test_trigger_rejects_unknown_type(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    response = await client.post(
        f"/sandbox/links/{link['id']}/webhooks/",
        json={"webhook_type": "PAYMENTS", "webhook_code": "x"},
    )

    assert response.status_code == 400
    assert response.json()[0]["field"] == "webhook_type"


async def test_default_link_data(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    await create_endpoint(client, receiver.url)
    await fire(client, link["id"], webhook_type="LINK", webhook_code="invalid_credentials")
    await delivery_round(app)

    assert b'"error_code":"login_error"' in receiver.requests[0].body
    assert b'"status":400' in receiver.requests[0].body


@pytest.fixture
async def production_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    production = settings.model_copy(update={"mode": "production"})
    upgrade(production.resolved_database_url)
    application = create_app(production)
    try:
        async with client_for(application, await new_key(application, "tenant-p")) as http:
            yield http
    finally:
        await application.context.database.aclose()


async def test_production_rejects_private_url(production_client: httpx.AsyncClient) -> None:
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.0.0.1/hook"):
        response = await production_client.post("/admin/webhooks/", json={"url": url})

        assert response.status_code == 400, url
        assert response.json()[0]["field"] == "url"


async def test_production_has_no_trigger(production_client: httpx.AsyncClient) -> None:
    response = await production_client.post(
        f"/sandbox/links/{UNKNOWN_LINK_ID}/webhooks/",
        json={"webhook_type": "TRANSACTIONS", "webhook_code": "historical_update"},
    )

    assert response.status_code == 404
    assert response.json()[0]["code"] == "not_found"
