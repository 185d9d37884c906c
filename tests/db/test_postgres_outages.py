"""PostgreSQL connection failures: requests get 503 with `Retry-After`, then recover.

A restart of the server itself needs root, so these tests cut the app off in the ways the
database's owner can: `pg_terminate_backend` on its connections, and `ALLOW_CONNECTIONS false`
while it tries to connect.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
import structlog.testing
from sqlalchemy import select
from sqlalchemy.engine.url import make_url

from tests.links.calls import create_link, single_error
from tests.support.databases import (
    selected_database,
)
from tests.support.server import free_port
from vinculo.app import VinculoApp, create_app
from vinculo.config import Settings
from vinculo.db.engine import Database, DatabaseUnavailable
from vinculo.db.models import links
from vinculo.db.postgres import APPLICATION_NAME

pytestmark = pytest.mark.skipif(
    selected_database() != "postgresql",
    reason="about PostgreSQL connections; runs with VINCULO_TEST_DATABASE=postgresql",
)


async def terminate_app_connections(admin: asyncpg.Connection, database: str) -> int:
    """End every connection the app holds on `database`; return how many there were."""
    ended = await admin.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = $1 AND application_name = $2",
        database,
        APPLICATION_NAME,
    )
    return int(ended)


async def set_allow_connections(admin: asyncpg.Connection, database: str, allow: bool) -> None:
    value = "true" if allow else "false"
    await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {value}')


def database_name(app: VinculoApp) -> str:
    name = make_url(app.context.database.url).database
    assert name is not None
    return name


async def test_terminated_pool_recovers(
    app: VinculoApp, client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    link = await create_link(client, "before_terminate")
    assert await terminate_app_connections(admin, database_name(app)) > 0

    # Every pooled connection is dead now: the first statement finds out and reconnects.
    listed = await client.get("/api/links/")
    fetched = await client.get(f"/api/links/{link['id']}/")

    assert listed.status_code == 200, listed.text
    assert fetched.status_code == 200, fetched.text


async def test_refused_connections_answer_503(
    app: VinculoApp, client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    link = await create_link(client, "before_outage")
    name = database_name(app)
    await set_allow_connections(admin, name, allow=False)
    try:
        await terminate_app_connections(admin, name)
        during = await client.get(f"/api/links/{link['id']}/")
        registered = await client.post(
            "/api/links/",
            json={"institution": "erebor_mx_retail", "username": "during", "password": "pw"},
        )
    finally:
        await set_allow_connections(admin, name, allow=True)
    after = await client.get(f"/api/links/{link['id']}/")

    assert single_error(during, 503)["code"] == "service_unavailable"
    assert during.headers["retry-after"] == "5"
    assert single_error(registered, 503)["code"] == "service_unavailable"
    assert after.status_code == 200, after.text


async def test_server_down_answers_503(settings: Settings) -> None:
    # Nothing listens on a fresh free port, so every connection attempt is refused.
    down = settings.model_copy(
        update={"database_url": f"postgresql://127.0.0.1:{free_port()}/vinculo_down"}
    )
    app = create_app(down)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            auth=("id", "password"),
        ) as http:
            response = await http.get("/api/links/")
    finally:
        await app.context.database.aclose()

    assert single_error(response, 503)["code"] == "service_unavailable"
    assert response.headers["retry-after"] == "5"


async def test_connection_lost_mid_transaction(
    app: VinculoApp, client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    await create_link(client, "mid_transaction")
    database: Database = app.context.database
    committed = []

    with pytest.raises(DatabaseUnavailable):
        async with database.unit_of_work() as uow:
            uow.after_commit(lambda: committed.append(True))
            await uow.rows(select(links.c.id))
            await terminate_app_connections(admin, database_name(app))
            # The backend may take a moment to go; the next statement must then fail.
            await asyncio.sleep(0.05)
            await uow.rows(select(links.c.id))
    async with database.unit_of_work() as uow:
        rows = await uow.rows(select(links.c.id))

    assert committed == []
    assert len(rows) == 1


async def test_outage_logs_a_warning(
    app: VinculoApp, client: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    link = await create_link(client, "outage_log_level")
    name = database_name(app)
    await set_allow_connections(admin, name, allow=False)
    try:
        await terminate_app_connections(admin, name)
        with structlog.testing.capture_logs() as logs:
            response = await client.get(f"/api/links/{link['id']}/")
    finally:
        await set_allow_connections(admin, name, allow=True)

    levels = {entry["log_level"] for entry in logs if entry["event"] == "database.unavailable"}
    assert response.status_code == 503
    assert levels == {"warning"}, "an outage is expected operation, not an error to page on"
