"""A retrieval that fails part of the way through stores nothing at all."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.links.calls import check_error, rows_for_link, single_error
from tests.retrieval.calls import DATED, RESOURCES, bank_link, count, retrieval_body, retrieve
from vinculo.app import VinculoApp
from vinculo.db.models import accounts, balances, owners, transactions
from vinculo.db.sqlite import SqliteDatabase

TABLES = (accounts, transactions, balances, owners)
NO_ROWS = {table.name: 0 for table in TABLES}


async def _rows(app: VinculoApp, link_id: str) -> dict[str, int]:
    return {table.name: await rows_for_link(app, table, link_id) for table in TABLES}


async def test_link_deleted_during_retrieval(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await bank_link(client, "login_slow")
    body = retrieval_body("transactions", link["id"], days=365)

    # The sandbox makes `login_slow` wait 0.3 s, so the delete lands while it logs in.
    retrieval = asyncio.create_task(client.post("/api/transactions/", json=body))
    await asyncio.sleep(0.1)
    deleted = await client.delete(f"/api/links/{link['id']}/")
    response = await retrieval

    assert deleted.status_code == 204, deleted.text
    check_error(
        response,
        status=400,
        code="does_not_exist",
        message=f'Invalid pk "{link["id"]}" - object does not exist.',
        field="link",
    )
    assert await _rows(app, link["id"]) == NO_ROWS
    assert (await client.get(f"/api/links/{link['id']}/")).status_code == 404


@pytest.mark.sqlite_only("fills the SQLite file by lowering its max_page_count")
async def test_disk_full_while_storing(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    backend = app.context.database.backend
    assert isinstance(backend, SqliteDatabase)
    writer = backend._writer_driver
    page_count = writer.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's limit on the file size fails a write as a full disk does. A year of
    # transactions needs new pages, so the retrieval fails after some rows were written.
    writer.execute(f"PRAGMA max_page_count = {page_count}")

    failed = await client.post(
        "/api/transactions/", json=retrieval_body("transactions", link["id"], days=365)
    )

    assert single_error(failed, 503)["code"] == "service_unavailable"
    writer.execute("PRAGMA max_page_count = 1073741823")
    assert await _rows(app, link["id"]) == NO_ROWS
    after = (await client.get(f"/api/links/{link['id']}/")).json()
    assert after["last_accessed_at"] == link["last_accessed_at"]
    # The failed retrieval released the link's login, so the next one runs.
    retried = await retrieve(client, "transactions", link["id"], days=365)
    assert await count(client, "transactions", {"link": link["id"]}) == len(retried)


# Each user fails these retrievals: 428 without a token, 400 unavailable_data, 408 past 90 days.
FAILING = [("mfa_data", RESOURCES), ("no_data", RESOURCES), ("timeout_long_range", DATED)]


async def test_failed_retrievals_leave_nothing(app: VinculoApp, client: httpx.AsyncClient) -> None:
    for username, resources in FAILING:
        link = await bank_link(client, username)

        for resource in resources:
            body = retrieval_body(resource, link["id"], days=200)
            response = await client.post(f"/api/{resource}/", json=body)

            assert response.status_code in (400, 408, 428), response.text
            assert await _rows(app, link["id"]) == NO_ROWS, (username, resource)
