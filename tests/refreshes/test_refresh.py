"""Background refreshes: historical updates, recurrent refreshes, failures and their webhooks.

The refreshes run through `POST /sandbox/links/{id}/refresh/`, which runs the same function as a
worker's job, in the request. The clock is frozen, and moved through the sandbox clock API.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.links.calls import FISCAL, UNKNOWN_LINK_ID, create_link, single_error
from tests.retrieval.calls import NOW, FrozenClock
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import accounts, links, owners, transactions, webhook_events
from vinculo.links import repository as links_repository
from vinculo.links.logins import REFRESH_HOLDER
from vinculo.refreshes.service import (
    RECURRENT_OVERLAP,
    RETRY_AFTER_BUSY,
    RETRY_AFTER_FAILURE,
    enqueue_due_refreshes,
    refresh_link,
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


async def create_recurrent(client: httpx.AsyncClient, username: str, **body: Any) -> str:
    link = await create_link(client, username, access_mode="recurrent", **body)
    return str(link["id"])


async def refresh_now(client: httpx.AsyncClient, link_id: str) -> dict[str, Any]:
    response = await client.post(f"/sandbox/links/{link_id}/refresh/")
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def move_clock(client: httpx.AsyncClient, advance: str) -> None:
    response = await client.post("/sandbox/clock/", json={"advance": advance})
    assert response.status_code == 200, response.text


async def events(app: VinculoApp, link_id: str) -> list[dict[str, Any]]:
    """Return the link's webhook bodies from the outbox, oldest first."""
    statement = (
        select(webhook_events.c.body)
        .where(webhook_events.c.link_id == link_id)
        .order_by(webhook_events.c.created_at, webhook_events.c.webhook_type)
    )
    async with app.context.database.unit_of_work() as uow:
        rows = await uow.rows(statement)
    return [json.loads(row.body) for row in rows]


async def schedule(app: VinculoApp, link_id: str) -> Any:
    statement = select(
        links.c.status,
        links.c.next_refresh_at,
        links.c.historical_update_pending,
        links.c.last_refreshed_at,
        links.c.refresh_count,
        links.c.refresh_request_id,
    ).where(links.c.id == link_id)
    async with app.context.database.unit_of_work() as uow:
        return await uow.first(statement)


async def count_rows(app: VinculoApp, table: Any, link_id: str) -> int:
    async with app.context.database.unit_of_work() as uow:
        return int(await uow.scalar(select(func.count()).where(table.c.link_id == link_id)))


async def test_recurrent_link_is_due_for_its_historical_update(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")

    row = await schedule(app, link_id)

    assert row.next_refresh_at == NOW
    assert row.historical_update_pending is True
    assert row.refresh_count == 0


async def test_single_link_is_not_scheduled(client: httpx.AsyncClient, app: VinculoApp) -> None:
    link = await create_link(client, "user_valid", access_mode="single")

    row = await schedule(app, link["id"])

    assert row.next_refresh_at is None
    assert row.historical_update_pending is False


async def test_historical_update_stores_data_and_reports_totals(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "bnk100", external_id="customer-7")

    report = await refresh_now(client, link_id)

    assert report["outcome"] == "refreshed"
    assert report["webhooks"] == [
        "ACCOUNTS.historical_update",
        "TRANSACTIONS.historical_update",
        "OWNERS.historical_update",
    ]
    sent = {event["webhook_type"]: event for event in await events(app, link_id)}
    stored_transactions = await count_rows(app, transactions, link_id)
    assert stored_transactions > 100
    assert sent["ACCOUNTS"]["data"] == {"total_accounts": await count_rows(app, accounts, link_id)}
    assert sent["OWNERS"]["data"] == {"total_owners": await count_rows(app, owners, link_id)}
    data = sent["TRANSACTIONS"]["data"]
    assert data["total_transactions"] == stored_transactions
    assert data["total_inflow_transactions"] + data["total_outflow_transactions"] == (
        stored_transactions
    )
    assert data["first_transaction_date"] >= (NOW.date() - timedelta(days=365)).isoformat()
    assert data["last_transaction_date"] <= NOW.date().isoformat()
    for event in sent.values():
        assert event["process_type"] == "historical_update"
        assert event["webhook_code"] == "historical_update"
        assert event["link_id"] == link_id
        assert event["external_id"] == "customer-7"
    # The three events of one refresh share its request id.
    assert len({event["request_id"] for event in sent.values()}) == 1


async def test_after_historical_update_the_link_waits_its_refresh_rate(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    await refresh_now(client, link_id)

    row = await schedule(app, link_id)
    result = await refresh_link(app.context, await tenant_of(app, link_id), link_id)

    assert row.historical_update_pending is False
    assert row.last_refreshed_at == NOW
    assert row.next_refresh_at == NOW + timedelta(days=7)
    assert row.refresh_count == 1
    assert result.outcome == "not_due"


async def tenant_of(app: VinculoApp, link_id: str) -> str:
    async with app.context.database.unit_of_work() as uow:
        return str(await uow.scalar(select(links.c.tenant_id).where(links.c.id == link_id)))


async def test_recurrent_refresh_sends_new_transactions(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    await refresh_now(client, link_id)
    before = await count_rows(app, transactions, link_id)
    await move_clock(client, "P8D")

    report = await refresh_now(client, link_id)

    after = await count_rows(app, transactions, link_id)
    assert after > before
    assert report["new"]["transactions"] == after - before
    assert "TRANSACTIONS.new_transactions_available" in report["webhooks"]
    news = [e for e in await events(app, link_id) if e["process_type"] == "recurrent_update"]
    transactions_event = next(e for e in news if e["webhook_type"] == "TRANSACTIONS")
    assert transactions_event["webhook_code"] == "new_transactions_available"
    assert transactions_event["data"] == {"new_transactions": after - before}
    # Accounts and owners did not change, so nothing is sent about them.
    assert {e["webhook_type"] for e in news} == {"TRANSACTIONS"}


async def test_refreshing_again_adds_no_duplicates(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    await refresh_now(client, link_id)
    await move_clock(client, "P8D")
    await refresh_now(client, link_id)
    stored = await count_rows(app, transactions, link_id)

    report = await refresh_now(client, link_id)

    assert report["new"] == {"accounts": 0, "transactions": 0, "owners": 0}
    assert report["webhooks"] == []
    assert await count_rows(app, transactions, link_id) == stored
    statement = (
        select(func.count())
        .select_from(transactions)
        .where(transactions.c.link_id == link_id)
        .group_by(transactions.c.account_id, transactions.c.internal_identification)
        .having(func.count() > 1)
    )
    async with app.context.database.unit_of_work() as uow:
        assert await uow.rows(statement) == []


async def test_recurrent_refresh_fetches_from_a_week_before_the_last(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    seen: list[Any] = []
    link_id = await create_recurrent(client, "user_valid")
    await refresh_now(client, link_id)
    connector = app.context.connector
    original = connector.fetch

    async def recording_fetch(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[2])
        return await original(*args, **kwargs)

    connector.fetch = recording_fetch  # type: ignore[method-assign]
    await move_clock(client, "P8D")

    await refresh_now(client, link_id)

    transactions_request = next(r for r in seen if r.resource == "transactions")
    assert transactions_request.date_from == NOW.date() - RECURRENT_OVERLAP
    assert transactions_request.date_to == (NOW + timedelta(days=8)).date()
    assert transactions_request.refresh == 2


async def test_invalid_credentials_on_refresh_and_put_makes_it_valid(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "invalid_on_refresh_2")
    await refresh_now(client, link_id)
    await move_clock(client, "P8D")

    report = await refresh_now(client, link_id)

    assert report["outcome"] == "invalid"
    assert report["webhooks"] == ["LINK.invalid_credentials"]
    link_event = (await events(app, link_id))[-1]
    assert link_event["webhook_type"] == "LINK"
    assert link_event["data"] == {
        "error_code": "login_error",
        "error_message": "Invalid credentials provided to login to the institution",
        "status": 400,
    }
    row = await schedule(app, link_id)
    assert row.status == "invalid"
    assert row.next_refresh_at is None
    retrieval = await client.post("/api/accounts/", json={"link": link_id})
    assert single_error(retrieval, 400)["code"] == "invalid_link"

    updated = await client.put(f"/api/links/{link_id}/", json={"password": "new-password"})

    assert updated.status_code == 200, updated.text
    assert updated.json()["status"] == "valid"
    row = await schedule(app, link_id)
    assert row.historical_update_pending is True
    assert row.next_refresh_at is not None
    # The third refresh, the historical update after the PUT, succeeds.
    assert (await refresh_now(client, link_id))["outcome"] == "refreshed"


async def test_token_required_on_refresh(client: httpx.AsyncClient, app: VinculoApp) -> None:
    link_id = await create_recurrent(client, "token_on_refresh_1")

    report = await refresh_now(client, link_id)

    assert report["outcome"] == "token_required"
    assert report["webhooks"] == ["LINK.token_required"]
    event = (await events(app, link_id))[-1]
    assert event["webhook_code"] == "token_required"
    assert event["data"]["error_code"] == "token_required"
    assert event["data"]["status"] == 428
    assert (await client.get(f"/api/links/{link_id}/")).json()["status"] == "token_required"
    # No data was stored, and no historical update was reported.
    assert await count_rows(app, transactions, link_id) == 0


async def test_institution_down_postpones_the_refresh(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    down = await client.post(
        "/sandbox/institutions/erebor_mx_retail/status/", json={"status": "down"}
    )
    assert down.status_code == 200, down.text

    report = await refresh_now(client, link_id)

    assert report["outcome"] == "institution_down"
    assert report["webhooks"] == []
    row = await schedule(app, link_id)
    assert row.status == "valid"
    assert row.historical_update_pending is True
    assert row.next_refresh_at == NOW + RETRY_AFTER_FAILURE


async def test_switch_to_recurrent_schedules_the_next_day(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(
        client, "user_valid", access_mode="single", credentials_storage="store"
    )

    switched = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "recurrent"})
    assert switched.status_code == 200, switched.text
    row = await schedule(app, link["id"])
    assert row.next_refresh_at == NOW + timedelta(days=1)
    assert row.historical_update_pending is True

    back = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "single"})
    assert back.status_code == 200, back.text
    row = await schedule(app, link["id"])
    assert row.next_refresh_at is None
    assert row.historical_update_pending is False


async def test_scheduler_finds_due_links_only(client: httpx.AsyncClient, app: VinculoApp) -> None:
    due = await create_recurrent(client, "user_valid")
    waiting = await create_recurrent(client, "bnk100")
    await refresh_now(client, waiting)
    queued: list[tuple[str, str]] = []

    async def record(links: list[tuple[str, str]]) -> int:
        queued.extend(links)
        return len(links)

    app.context.jobs.defer_refreshes = record  # type: ignore[method-assign,assignment]

    assert await enqueue_due_refreshes(app.context, limit=100) == 1
    assert [link_id for _, link_id in queued] == [due]


async def test_deleted_link_refresh_does_nothing(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    tenant_id = await tenant_of(app, link_id)
    deleted = await client.delete(f"/api/links/{link_id}/")
    assert deleted.status_code == 204

    result = await refresh_link(app.context, tenant_id, link_id)

    assert result.outcome == "gone"


async def test_sandbox_refresh_unknown_link(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/sandbox/links/{UNKNOWN_LINK_ID}/refresh/")

    assert single_error(response, 404)["code"] == "not_found"


async def test_sandbox_refresh_is_per_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link_id = await create_recurrent(client, "user_valid")

    response = await other_client.post(f"/sandbox/links/{link_id}/refresh/")

    assert single_error(response, 404)["code"] == "not_found"


async def test_fiscal_link_has_nothing_to_refresh(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(client, "XAXX010101000", institution=FISCAL)

    report = await refresh_now(client, link["id"])

    assert report["outcome"] == "unsupported"
    assert (await schedule(app, link["id"])).next_refresh_at is None


async def hold_lease(app: VinculoApp, link_id: str, holder: str) -> None:
    now = app.context.clock.real_now()
    async with app.context.database.unit_of_work() as uow:
        tenant_id = await uow.scalar(select(links.c.tenant_id).where(links.c.id == link_id))
        taken = await links_repository.take_login_lease(
            uow, tenant_id, link_id, now=now, until=now + timedelta(minutes=5), holder=holder
        )
    assert taken is not None


async def release_later(app: VinculoApp, link_id: str, seconds: float) -> None:
    await asyncio.sleep(seconds)
    async with app.context.database.unit_of_work() as uow:
        tenant_id = await uow.scalar(select(links.c.tenant_id).where(links.c.id == link_id))
        await links_repository.release_login_lease(uow, tenant_id, link_id)


async def test_request_waits_for_a_running_refresh(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(client, "user_valid")
    await hold_lease(app, link["id"], REFRESH_HOLDER)
    release = asyncio.create_task(release_later(app, link["id"], 0.3))

    response = await client.post("/api/accounts/", json={"link": link["id"]})

    await release
    assert response.status_code == 201, response.text


async def test_request_does_not_wait_for_another_request(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(client, "user_valid")
    await hold_lease(app, link["id"], "request")

    response = await client.post("/api/accounts/", json={"link": link["id"]})

    assert single_error(response, 400)["code"] == "too_many_sessions"


async def test_clock_move_keeps_login_lease(
    client: httpx.AsyncClient, app: VinculoApp, clock: Clock
) -> None:
    link = await create_link(client, "user_valid")
    await hold_lease(app, link["id"], "request")
    # Far past the 5 minutes of the lease on the sandbox clock, but not in real time.
    clock.advance(timedelta(days=8))

    response = await client.post("/api/accounts/", json={"link": link["id"]})

    assert single_error(response, 400)["code"] == "too_many_sessions"


async def test_refresh_finding_a_request_running_tries_later(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    await hold_lease(app, link_id, "request")

    result = await refresh_link(app.context, await tenant_of(app, link_id), link_id)

    assert result.outcome == "busy"
    row = await schedule(app, link_id)
    assert row.next_refresh_at == NOW + RETRY_AFTER_BUSY
    assert row.historical_update_pending is True


async def test_single_link_with_fetch_resources_gets_them(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    link = await create_link(
        client,
        "single_fetch",
        access_mode="single",
        fetch_resources=["ACCOUNTS", "OWNERS"],
        fetch_historical=True,
    )

    report = await refresh_now(client, link["id"])

    assert report["webhooks"] == ["ACCOUNTS.historical_update", "OWNERS.historical_update"]
    assert await count_rows(app, transactions, link["id"]) == 0
    assert (await schedule(app, link["id"])).next_refresh_at is None


async def test_job_takes_over_another_jobs_lease(
    client: httpx.AsyncClient, app: VinculoApp
) -> None:
    # A run that could not release the lease (its worker died, or the database was cut off)
    # left it under its job's name. The link's next job must not wait for it to expire.
    link_id = await create_recurrent(client, "user_valid")
    await hold_lease(app, link_id, "refresh:41")

    result = await refresh_link(app.context, await tenant_of(app, link_id), link_id, job_id=42)

    assert result.outcome == "refreshed"


@pytest.mark.parametrize("holder", ["request", REFRESH_HOLDER])
async def test_job_leaves_other_leases(
    client: httpx.AsyncClient, app: VinculoApp, holder: str
) -> None:
    link_id = await create_recurrent(client, "user_valid")
    await hold_lease(app, link_id, holder)

    result = await refresh_link(app.context, await tenant_of(app, link_id), link_id, job_id=42)

    assert result.outcome == "busy"
