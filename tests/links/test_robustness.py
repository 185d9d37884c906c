"""Faults and odd input found by trying to break the server: each gets a clean response."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from tests.links.calls import (
    COLOMBIAN_BANK,
    create_link,
    link_body,
    single_error,
)
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import link_credentials, links, mfa_sessions
from vinculo.db.sqlite import SqliteDatabase
from vinculo.links.retention import apply_retention


@pytest.mark.sqlite_only("fills the SQLite file by lowering its max_page_count")
async def test_disk_full_then_recovers(app: VinculoApp, client: httpx.AsyncClient) -> None:
    await create_link(client, "before_full")
    backend = app.context.database.backend
    assert isinstance(backend, SqliteDatabase)
    writer = backend._writer_driver
    page_count = writer.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own limit on the file size gives the same SQLITE_FULL as a full disk.
    writer.execute(f"PRAGMA max_page_count = {page_count}")

    # Registrations fill the free space of the existing pages until one needs a new page.
    responses = []
    for index in range(500):
        response = await client.post("/api/links/", json=link_body(f"full_{index}"))
        responses.append(response)
        if response.status_code != 201:
            break
    refused = responses[-1]
    assert [r.status_code for r in responses[:-1]] == [201] * (len(responses) - 1)
    assert single_error(refused, 503)["code"] == "service_unavailable"
    assert refused.headers["retry-after"] == "5"

    writer.execute("PRAGMA max_page_count = 1073741823")
    after = await client.post("/api/links/", json=link_body("after_full"))
    assert after.status_code == 201, after.text


async def test_delete_during_login_is_404(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "login_slow")
    update_task = asyncio.create_task(
        client.put(f"/api/links/{link['id']}/", json={"password": "new"})
    )
    await asyncio.sleep(0.1)
    deleted = await client.delete(f"/api/links/{link['id']}/")
    updated = await update_task

    assert deleted.status_code == 204
    assert single_error(updated, 404)["code"] == "not_found"


async def test_update_returns_current_link(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "login_slow")
    update_task = asyncio.create_task(
        client.put(f"/api/links/{link['id']}/", json={"password": "new"})
    )
    await asyncio.sleep(0.1)
    modified = await client.patch(
        f"/api/links/{link['id']}/", json={"access_mode": "single", "stale_in": "9d"}
    )
    updated = await update_task

    assert modified.status_code == 200
    assert updated.status_code == 200, updated.text
    assert updated.json()["access_mode"] == "single"
    assert updated.json()["stale_in"] == "9d"


async def test_retention_purges_sessions(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    body = link_body("mfa_default", institution="heimdall_mx_retail")
    assert (await client.post("/api/links/", json=body)).status_code == 428

    clock.advance(timedelta(seconds=app.context.settings.mfa_session_seconds + 1))
    async with app.context.database.unit_of_work() as uow:
        result = await apply_retention(uow, clock.now())
        remaining = await uow.rows(select(mfa_sessions.c.id))

    assert result.sessions_deleted == 1
    assert remaining == []


async def test_retention_expires_credentials(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    link = await create_link(
        client, "short_storage", access_mode="single", credentials_storage="1d"
    )

    clock.advance(timedelta(days=1, seconds=1))
    refused = await client.put(f"/api/links/{link['id']}/", json={"password": "new"})
    async with app.context.database.unit_of_work() as uow:
        result = await apply_retention(uow, clock.now())
        stored = await uow.rows(select(link_credentials.c.link_id))
    fetched = await client.get(f"/api/links/{link['id']}/")

    assert single_error(refused, 400)["code"] == "validation_error"
    assert result.links_expired == 1
    assert stored == []
    assert fetched.json()["status"] == "invalid"


async def test_expired_link_cannot_turn_recurrent(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await create_link(client, "short_switch", access_mode="single", credentials_storage="1d")
    clock.advance(timedelta(days=2))

    response = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "recurrent"})

    assert single_error(response, 400)["code"] == "invalid_access_mode_switch"


@pytest.mark.parametrize(
    "query",
    [
        "page=922337203685477580",
        "created_at=9999-12-31T23:59:59-23:00",
        "created_at=0001-01-01T00:00:00%2B23:00",
        "created_at__gt=9999-12-31",
        "created_at__lte=9999-12-31",
        "created_at__in=9999-12-31",
        "created_at__range=0001-01-01,9999-12-31",
    ],
)
async def test_extreme_query_is_client_error(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/links/?{query}")

    assert response.status_code in (400, 404), response.text
    assert isinstance(response.json(), list)


@pytest.mark.parametrize("raw_id", ["%C2%B2", "%E2%91%A0", "9" * 5000])
async def test_odd_institution_id_is_404(client: httpx.AsyncClient, raw_id: str) -> None:
    response = await client.get(f"/api/institutions/{raw_id}/")

    assert single_error(response, 404)["code"] == "not_found"


async def test_deep_json_is_parse_error(client: httpx.AsyncClient) -> None:
    body = "[" * 2000 + "]" * 2000

    response = await client.post(
        "/api/links/", content=body, headers={"content-type": "application/json"}
    )

    assert single_error(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("external_id", "abc\n"),
        ("credentials_storage", "nostore\n"),
        ("stale_in", "30d\n"),
    ],
)
async def test_trailing_newline_is_rejected(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    body = link_body("newline_user", access_mode="single", **{field: value})

    response = await client.post("/api/links/", json=body)

    assert single_error(response, 400)["field"] == field


async def test_oversized_password_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/links/", json=link_body("big_user", password="x" * 5000))

    item = single_error(response, 400)
    assert item["code"] == "max_length"
    assert item["field"] == "password"


async def test_username_type_change_keeps_duplicates_out(client: httpx.AsyncClient) -> None:
    first = await create_link(client, "12345678", institution=COLOMBIAN_BANK, username_type="001")
    changed = await client.put(f"/api/links/{first['id']}/", json={"username_type": "002"})
    again = await client.post(
        "/api/links/",
        json=link_body("12345678", institution=COLOMBIAN_BANK, username_type="002"),
    )

    assert changed.status_code == 200, changed.text
    assert changed.json()["institution_user_id"] != first["institution_user_id"]
    assert single_error(again, 400)["code"] == "duplicated"


async def test_truncated_ciphertext_is_invalid_link(
    app: VinculoApp, client: httpx.AsyncClient
) -> None:
    link = await create_link(client, "truncated_user")
    async with app.context.database.unit_of_work() as uow:
        await uow.execute(
            update(link_credentials)
            .where(link_credentials.c.link_id == link["id"])
            .values(ciphertext=b"\x00")
        )

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "new"})

    assert single_error(response, 400)["code"] == "invalid_link"


async def test_failed_login_keeps_status(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "keeps_status")

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "pass_invalid"})
    async with app.context.database.unit_of_work() as uow:
        status = await uow.scalar(select(links.c.status).where(links.c.id == link["id"]))

    assert single_error(response, 400)["code"] == "login_error"
    assert status == "valid"
    assert json.loads(response.text)[0]["message"]


async def test_head_is_get_without_body(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "head_user")

    head = await client.head(f"/api/links/{link['id']}/")
    get = await client.get(f"/api/links/{link['id']}/")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["x-request-id"] != get.headers["x-request-id"]


NOSTORE = {
    "access_mode": "single",
    "credentials_storage": "nostore",
    "fetch_resources": ["ACCOUNTS"],
    "fetch_historical": True,
}


async def credential_rows(app: VinculoApp, link_id: str) -> list[object]:
    async with app.context.database.unit_of_work() as uow:
        rows = await uow.rows(
            select(link_credentials.c.client_key_salt).where(link_credentials.c.link_id == link_id)
        )
    return list(rows)


async def test_nostore_keeps_no_credentials(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "nostore_user", **NOSTORE)

    assert link["credentials_storage"] == "nostore"
    assert await credential_rows(app, link["id"]) == []


async def test_nostore_mfa_session_is_short(app: VinculoApp, client: httpx.AsyncClient) -> None:
    body = link_body("mfa_default", institution="heimdall_mx_retail", **NOSTORE)
    challenge = await client.post("/api/links/", json=body)
    item = challenge.json()[0]
    resumed = await client.patch(
        "/api/links/", json={"session": item["session"], "token": "123456"}
    )

    assert challenge.status_code == 428
    assert item["expiry"] <= 15 * 60
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "valid"
    assert await credential_rows(app, item["link"]) == []


async def test_put_mfa_keeps_encryption_key(app: VinculoApp, client: httpx.AsyncClient) -> None:
    body = link_body("mfa_default", institution="heimdall_mx_retail", access_mode="single")
    challenge = await client.post("/api/links/", json=body)
    link_id = challenge.json()[0]["link"]
    await client.patch(
        "/api/links/", json={"session": challenge.json()[0]["session"], "token": "123456"}
    )

    update = await client.put(
        f"/api/links/{link_id}/", json={"password": "new", "encryption_key": "k" * 32}
    )
    resumed = await client.patch(
        "/api/links/", json={"session": update.json()[0]["session"], "token": "123456"}
    )
    without_key = await client.put(f"/api/links/{link_id}/", json={"token": "123456"})

    assert update.status_code == 428
    assert resumed.status_code == 200, resumed.text
    rows = await credential_rows(app, link_id)
    assert len(rows) == 1
    assert rows[0][0] is not None, "the resumed update must seal with the client key"
    assert single_error(without_key, 400)["field"] == "encryption_key"


async def test_switch_during_update_keeps_rule(app: VinculoApp, client: httpx.AsyncClient) -> None:
    body = link_body("mfa_default", institution="heimdall_mx_retail", access_mode="single")
    first = (await client.post("/api/links/", json=body)).json()[0]
    await client.patch("/api/links/", json={"session": first["session"], "token": "123456"})
    update = await client.put(
        f"/api/links/{first['link']}/", json={"password": "new", "encryption_key": "k" * 32}
    )
    switched = await client.patch(f"/api/links/{first['link']}/", json={"access_mode": "recurrent"})

    resumed = await client.patch(
        "/api/links/", json={"session": update.json()[0]["session"], "token": "123456"}
    )

    assert switched.status_code == 200
    assert single_error(resumed, 400)["field"] == "encryption_key"
    rows = await credential_rows(app, first["link"])
    assert rows[0][0] is None, "the stored credentials must stay readable by the server"


async def test_expired_session_row_is_deleted(
    app: VinculoApp, client: httpx.AsyncClient, clock: Clock
) -> None:
    body = link_body("mfa_default", institution="heimdall_mx_retail")
    item = (await client.post("/api/links/", json=body)).json()[0]
    clock.advance(timedelta(seconds=item["expiry"] + 1))

    response = await client.patch("/api/links/", json={"session": item["session"], "token": "1"})
    async with app.context.database.unit_of_work() as uow:
        remaining = await uow.rows(select(mfa_sessions.c.id))

    assert single_error(response, 400)["code"] == "session_expired"
    assert remaining == []
