"""`POST /api/links/{id}/refresh/`: 202 with a request id, the cooldown, and the link's errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.links.calls import (
    FISCAL,
    REQUEST_ID,
    UNKNOWN_LINK_ID,
    create_link,
    single_error,
)
from tests.retrieval.calls import NOW, FrozenClock
from vinculo.app import VinculoApp
from vinculo.db.models import links, webhook_events


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def refresh(client: httpx.AsyncClient, link_id: str, **kwargs: Any) -> httpx.Response:
    return await client.post(f"/api/links/{link_id}/refresh/", **kwargs)


async def schedule(app: VinculoApp, link_id: str) -> Any:
    statement = select(
        links.c.next_refresh_at, links.c.historical_update_pending, links.c.refresh_request_id
    ).where(links.c.id == link_id)
    async with app.context.database.unit_of_work() as uow:
        return await uow.first(statement)


async def test_refresh_accepts_and_schedules_a_historical_update(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(client, "user_valid", access_mode="single")

    response = await refresh(client, link["id"])

    assert response.status_code == 202, response.text
    body = response.json()
    assert list(body) == ["request_id"]
    assert REQUEST_ID.match(body["request_id"])
    assert body["request_id"] == response.headers["x-request-id"]
    row = await schedule(app, link["id"])
    assert row.next_refresh_at == NOW
    assert row.historical_update_pending is True
    assert row.refresh_request_id == body["request_id"]


async def test_refresh_webhooks_carry_the_request_id(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(client, "user_valid", access_mode="single")
    request_id = (await refresh(client, link["id"])).json()["request_id"]

    report = await client.post(f"/sandbox/links/{link['id']}/refresh/")

    assert report.json()["outcome"] == "refreshed"
    statement = select(webhook_events.c.body).where(webhook_events.c.link_id == link["id"])
    async with app.context.database.unit_of_work() as uow:
        bodies = [row.body for row in await uow.rows(statement)]
    assert len(bodies) == 3
    assert all(f'"request_id":"{request_id}"'.encode() in body for body in bodies)
    # A single link is not refreshed again on its own.
    assert (await schedule(app, link["id"])).next_refresh_at is None


async def test_second_refresh_inside_cooldown_is_409(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "user_valid")
    assert (await refresh(client, link["id"])).status_code == 202

    response = await refresh(client, link["id"])

    item = single_error(response, 409)
    assert item["code"] == "link_refreshed"
    assert item["message"] == (
        "The link has already been refreshed. Please wait 10 minutes before trying again."
    )


async def test_refresh_after_cooldown_is_accepted(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "user_valid")
    assert (await refresh(client, link["id"])).status_code == 202
    moved = await client.post("/sandbox/clock/", json={"advance": "PT9M30S"})
    assert moved.status_code == 200

    early = await refresh(client, link["id"])
    assert single_error(early, 409)["message"].startswith(
        "The link has already been refreshed. Please wait 1 minute "
    )
    await client.post("/sandbox/clock/", json={"advance": "PT31S"})

    assert (await refresh(client, link["id"])).status_code == 202


@pytest.mark.parametrize("link_id", [UNKNOWN_LINK_ID, "consequa", "1"])
async def test_refresh_unknown_link_is_404(client: httpx.AsyncClient, link_id: str) -> None:
    response = await refresh(client, link_id)

    assert single_error(response, 404)["code"] == "not_found"


async def test_refresh_of_another_tenants_link_is_404(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link = await create_link(client, "user_valid")

    response = await refresh(other_client, link["id"])

    assert single_error(response, 404)["code"] == "not_found"


async def test_refresh_of_invalid_link(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "user_valid")
    forced = await client.post(f"/sandbox/links/{link['id']}/status/", json={"status": "invalid"})
    assert forced.status_code == 200, forced.text

    response = await refresh(client, link["id"])

    assert single_error(response, 400)["code"] == "invalid_link"


async def test_refresh_of_nostore_link(client: httpx.AsyncClient) -> None:
    link = await create_link(
        client,
        "user_valid",
        access_mode="single",
        credentials_storage="nostore",
        fetch_resources=["ACCOUNTS"],
        fetch_historical=True,
    )

    response = await refresh(client, link["id"])

    assert single_error(response, 404)["code"] == "expired_credentials"


async def test_refresh_of_link_sealed_with_client_key(client: httpx.AsyncClient) -> None:
    link = await create_link(
        client, "user_valid", access_mode="single", encryption_key="client-secret-key"
    )

    response = await refresh(client, link["id"])

    item = single_error(response, 400)
    assert item["code"] == "validation_error"
    assert "encryption_key" in item["message"]


async def test_refresh_without_credentials_fails_without_auth(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await refresh(anonymous, UNKNOWN_LINK_ID)

    assert single_error(response, 401)["code"] == "authentication_failed"


async def test_refresh_of_fiscal_link_is_unsupported(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "XAXX010101000", institution=FISCAL)

    response = await refresh(client, link["id"])

    assert single_error(response, 400)["code"] == "unsupported_operation"


async def test_refresh_answers_without_trailing_slash(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "user_valid")

    response = await client.post(f"/api/links/{link['id']}/refresh")

    assert response.status_code == 202, response.text


async def test_refresh_of_token_required_link(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "user_valid")
    forced = await client.post(
        f"/sandbox/links/{link['id']}/status/", json={"status": "token_required"}
    )
    assert forced.status_code == 200, forced.text

    response = await refresh(client, link["id"])

    item = single_error(response, 400)
    assert item["code"] == "validation_error"
    assert "PUT /api/links/" in item["message"]


async def test_refresh_of_owners_only_institution_is_accepted(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "gig_worker", institution="goonies_mx_gig")

    response = await refresh(client, link["id"])

    assert response.status_code == 202, response.text


async def test_refresh_of_link_fetching_only_balances_is_unsupported(
    client: httpx.AsyncClient,
) -> None:
    link = await create_link(client, "balances_only", fetch_resources=["BALANCES"])

    response = await refresh(client, link["id"])

    assert single_error(response, 400)["code"] == "unsupported_operation"


async def test_refresh_requested_while_one_runs_is_kept(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(client, "user_valid")
    await client.post(f"/sandbox/links/{link['id']}/refresh/")
    connector = app.context.connector
    original = connector.fetch
    accepted: list[str] = []

    async def fetch_and_request(*args: Any, **kwargs: Any) -> Any:
        if not accepted:
            # A client asks for a refresh while this one talks to the bank.
            response = await refresh(client, link["id"])
            accepted.append(response.json()["request_id"])
        return await original(*args, **kwargs)

    connector.fetch = fetch_and_request  # type: ignore[method-assign]
    await client.post("/sandbox/clock/", json={"advance": "P8D"})

    await client.post(f"/sandbox/links/{link['id']}/refresh/")

    row = await schedule(app, link["id"])
    assert row.historical_update_pending is True
    assert row.refresh_request_id == accepted[0]
    report = (await client.post(f"/sandbox/links/{link['id']}/refresh/")).json()
    assert report["webhooks"][0].endswith("historical_update")
    statement = select(webhook_events.c.body).where(webhook_events.c.link_id == link["id"])
    async with app.context.database.unit_of_work() as uow:
        bodies = [row.body for row in await uow.rows(statement)]
    assert sum(f'"request_id":"{accepted[0]}"'.encode() in body for body in bodies) == 3
