"""Requests and checks shared by the tests of links, the wire format and security."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import Table, func, select

from tests.support.databases import stored_values
from vinculo.app import VinculoApp
from vinculo.tenants import service as tenants

REQUEST_ID = re.compile(r"^[a-f0-9]{32}$")
SESSION_ID = re.compile(r"^[a-f0-9]{32}$")

PLAIN_BANK = "erebor_mx_retail"
MFA_BANK = "heimdall_mx_retail"
COLOMBIAN_BANK = "erebor_co_retail"
FISCAL = "tatooine_mx_fiscal"
# The only MFA token the sandbox accepts (docs/sandbox.md).
VALID_TOKEN = "123456"
UNKNOWN_LINK_ID = "4f1c2a8e-0b7d-4c55-9a31-6d2e8f0b7c19"


def link_body(username: str | None = "user_valid", **overrides: Any) -> dict[str, Any]:
    """Return a register body for the plain sandbox bank. `overrides` replace or add keys."""
    body: dict[str, Any] = {
        "institution": PLAIN_BANK,
        "username": username,
        "password": "pass_valid",
    }
    body.update(overrides)
    return body


async def create_link(client: httpx.AsyncClient, username: str, **overrides: Any) -> dict[str, Any]:
    """Register a link that logs in at once and return its body."""
    response = await client.post("/api/links/", json=link_body(username, **overrides))
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


async def start_mfa(
    client: httpx.AsyncClient,
    username: str = "mfa_default",
    institution: str = MFA_BANK,
    **overrides: Any,
) -> dict[str, Any]:
    """Register a link on an MFA bank and return the 428 `token_required` error item."""
    body = link_body(username, institution=institution, **overrides)
    response = await client.post("/api/links/", json=body)
    assert response.status_code == 428, response.text
    item: dict[str, Any] = response.json()[0]
    return item


def error_items(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    """Check the envelope of an error response and return its items.

    Belvo sends every error as a JSON list of objects whose `request_id` is 32 lowercase hex
    characters. Vínculo also sends the same id in the `X-Request-Id` header.
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list), body
    assert body, "the error list is empty"
    header_id = response.headers.get("x-request-id")
    for item in body:
        assert REQUEST_ID.match(item["request_id"]), item
        assert item["request_id"] == header_id, (item, header_id)
    return body


def single_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """Check the envelope of an error response with exactly one item and return the item."""
    items = error_items(response, status)
    assert len(items) == 1, items
    return items[0]


def check_error(
    response: httpx.Response,
    *,
    status: int,
    code: str,
    message: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    """Check a one-item error: status, code, message if given, and `field` or its absence."""
    item = single_error(response, status)
    assert item["code"] == code, item
    if message is not None:
        assert item["message"] == message, item
    else:
        assert isinstance(item["message"], str), item
        assert item["message"], item
    if field is None:
        assert "field" not in item, item
    else:
        assert item.get("field") == field, item
    return item


async def link_count(client: httpx.AsyncClient) -> int:
    response = await client.get("/api/links/")
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


async def rows_for_link(app: VinculoApp, table: Table, link_id: str) -> int:
    """Count the rows of `table` that belong to `link_id` (its `link_id` column)."""
    statement = select(func.count()).select_from(table).where(table.c.link_id == link_id)
    async with app.context.database.unit_of_work() as uow:
        count = await uow.scalar(statement)
    return int(count or 0)


async def new_api_key(app: VinculoApp, tenant: str) -> tuple[str, str]:
    """Create an API key for `tenant` and return (secret id, secret password)."""
    context = app.context
    async with context.database.unit_of_work() as uow:
        key = await tenants.create_api_key(
            uow, pepper=context.pepper, clock=context.clock, tenant_name=tenant
        )
    return key.secret_id, key.secret_password


def database_bytes(app: VinculoApp) -> bytes:
    """Return the raw bytes of the app's SQLite file and its write-ahead log, or on
    PostgreSQL every value stored in its tables."""
    database = app.context.database
    if database.kind == "postgresql":
        return b"\n".join(stored_values(database.url).values())
    database_path = app.context.settings.data_dir / "vinculo.db"
    paths = (database_path, database_path.with_name("vinculo.db-wal"))
    return b"".join(path.read_bytes() for path in paths if path.exists())


def client_with(
    app: VinculoApp, auth: Any = None, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """An in-process client of `app` with the given Basic auth pair or raw headers."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        auth=auth,
        headers=headers,
    )
