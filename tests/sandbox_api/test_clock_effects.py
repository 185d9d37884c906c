"""What moving the sandbox clock changes: data retrieved again, MFA sessions, other servers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.conftest import client_for, new_key
from tests.links.calls import VALID_TOKEN, check_error, start_mfa
from tests.retrieval.calls import NOW, TODAY, FrozenClock, bank_link, iso, retrieve
from vinculo.app import VinculoApp, create_app
from vinculo.config import Settings

SESSION_EXPIRED = (
    "The session you are trying to resume has expired, please start again from "
    "register/retrieve endpoint"
)


async def move(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/sandbox/clock/", json=body)
    assert response.status_code == 200, response.text


async def test_pending_turn_processed(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    before = await retrieve(client, "transactions", link["id"], days=10)
    pending = {item["internal_identification"] for item in before if item["status"] == "PENDING"}
    assert pending, "the user has no PENDING transaction on the fixed date"

    await move(client, {"advance": "P5D"})
    later = TODAY + timedelta(days=5)
    after = await retrieve(client, "transactions", link["id"], days=15, today=later)

    statuses = {item["internal_identification"]: item["status"] for item in after}
    assert all(statuses[key] == "PROCESSED" for key in pending), statuses
    new = [item for item in after if item["value_date"] > TODAY.isoformat()]
    assert new, "no transaction appeared after the clock moved"
    assert all(item["collected_at"] == iso(NOW + timedelta(days=5)) for item in after)


async def test_pending_stored_rows_updated(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    await retrieve(client, "transactions", link["id"], days=10)
    query = {"link": link["id"], "status": "PENDING", "value_date__lte": TODAY.isoformat()}
    stored_pending = (await client.get("/api/transactions/", params=query)).json()["count"]
    assert stored_pending > 0

    await move(client, {"advance": "P5D"})
    await retrieve(client, "transactions", link["id"], days=15, today=TODAY + timedelta(days=5))

    left = (await client.get("/api/transactions/", params=query)).json()["count"]
    assert left == 0


async def test_date_rule_follows_clock(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    later = TODAY + timedelta(days=10)
    early = await client.post(
        "/api/transactions/",
        json={"link": link["id"], "date_from": TODAY.isoformat(), "date_to": later.isoformat()},
    )
    check_error(early, status=400, code="invalid", field="date_to")

    await move(client, {"advance": "P10D"})

    assert await retrieve(client, "transactions", link["id"], days=5, today=later)


async def test_mfa_session_expires(client: httpx.AsyncClient, settings: Settings) -> None:
    challenge = await start_mfa(client)
    await move(client, {"advance": settings.mfa_session_seconds})

    response = await client.patch(
        "/api/links/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    check_error(response, status=400, code="session_expired", message=SESSION_EXPIRED)


async def test_mfa_session_alive_before_expiry(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    challenge = await start_mfa(client)
    await move(client, {"advance": settings.mfa_session_seconds - 1})

    response = await client.patch(
        "/api/links/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


def second_app(settings: Settings, app: VinculoApp, refresh_seconds: float) -> VinculoApp:
    """Build another app on the database of `app`, like a second server process."""
    own = settings.model_copy(update={"database_url": app.context.settings.resolved_database_url})
    return create_app(own, clock=FrozenClock(refresh_seconds=refresh_seconds))


async def test_clock_shared_by_two_apps(
    app: VinculoApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    other = second_app(settings, app, refresh_seconds=0)
    try:
        async with client_for(other, await new_key(other, "tenant-c")) as other_client:
            link = await bank_link(other_client)
            await move(client, {"advance": "P2D"})

            accounts = await retrieve(other_client, "accounts", link["id"])

            assert accounts[0]["collected_at"] == iso(NOW + timedelta(days=2))
            assert other.context.clock.now() == NOW + timedelta(days=2)
    finally:
        await other.context.database.aclose()


async def test_clock_cached_for_refresh_interval(
    app: VinculoApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    other = second_app(settings, app, refresh_seconds=3600)
    try:
        async with client_for(other, await new_key(other, "tenant-c")) as other_client:
            await bank_link(other_client)
            await move(client, {"advance": "P2D"})
            await bank_link(other_client, "cached_user")
            assert other.context.clock.now() == NOW

            state = (await other_client.get("/sandbox/clock/")).json()

            assert state["offset_seconds"] == 2 * 86400
            assert other.context.clock.now() == NOW + timedelta(days=2)
    finally:
        await other.context.database.aclose()


async def test_clock_survives_restart(
    app: VinculoApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    await move(client, {"advance": "PT5H"})
    restarted = second_app(settings, app, refresh_seconds=1)
    try:
        async with client_for(restarted, await new_key(restarted, "tenant-c")) as again:
            state = (await again.get("/sandbox/clock/")).json()
    finally:
        await restarted.context.database.aclose()

    assert state == {"now": iso(NOW + timedelta(hours=5)), "offset_seconds": 5 * 3600.0}
