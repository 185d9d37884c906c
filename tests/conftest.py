"""Shared fixtures: an in-process app on a fresh database, API keys, a real server.

The database is a SQLite file unless `VINCULO_TEST_DATABASE=postgresql` (see
`tests.support.databases`). Tests about SQLite itself carry `@pytest.mark.sqlite_only(reason)`
and skip on PostgreSQL.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.databases import (
    PostgresDatabases,
    postgres_server_url,
    selected_database,
    shown_url,
    unreachable_reason,
)
from tests.support.server import LiveServer, start_live_server
from vinculo.app import VinculoApp, create_app
from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.db.migrate import upgrade
from vinculo.logging import configure_logging
from vinculo.tenants import service as tenants

TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
TEST_DATABASE = selected_database()


def pytest_report_header() -> str:
    if TEST_DATABASE == "postgresql":
        return f"database: PostgreSQL at {shown_url(postgres_server_url())}"
    return "database: SQLite"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "restarts_postgres: the test restarts the PostgreSQL server, so it runs after all others",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the tests marked `sqlite_only` on PostgreSQL, each with its own reason, and move
    the tests marked `restarts_postgres` to the end."""
    # A restart ends the connections that session fixtures keep, such as the one that empties
    # the shared migrated database, so no test that needs them may run after it.
    items.sort(key=lambda item: item.get_closest_marker("restarts_postgres") is not None)
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is None:
            continue
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        if not reason:
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs a reason")
        if TEST_DATABASE == "postgresql":
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(scope="session", autouse=True)
def _logging() -> None:
    """Log as the server does, so no test uses structlog's default renderer and its locals."""
    configure_logging(Settings())


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """The test session's PostgreSQL databases.

    An unreachable server skips the tests that need a database, but fails them with `CI=true`,
    where PostgreSQL must be running.
    """
    server_url = postgres_server_url()
    reason = unreachable_reason(server_url)
    if reason is not None:
        reason += "; start it or set VINCULO_TEST_POSTGRES_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true, where PostgreSQL must run)")
        pytest.skip(reason)
    databases = PostgresDatabases(server_url)
    databases.connect()
    yield databases
    databases.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str | None:
    """A migrated PostgreSQL database with no rows for this test, or None on SQLite, where
    the database is a new file in `data_dir`."""
    if TEST_DATABASE == "sqlite":
        return None
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.migrated()


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database on this run's engine: a new SQLite file or PostgreSQL
    database."""
    if TEST_DATABASE == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.create_empty()
    yield url
    databases.drop(url)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        master_key=TEST_MASTER_KEY,
        sandbox_slow_login_seconds=0.3,
        api_key_cache_seconds=0,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[VinculoApp]:
    # Async so that PostgreSQL connections close on the loop that opened them.
    upgrade(settings.resolved_database_url)
    application = create_app(settings, clock=clock)
    yield application
    await application.context.database.aclose()


async def new_key(app: VinculoApp, tenant: str) -> tuple[str, str]:
    context = app.context
    async with context.database.unit_of_work() as uow:
        key = await tenants.create_api_key(
            uow, pepper=context.pepper, clock=context.clock, tenant_name=tenant
        )
    return key.secret_id, key.secret_password


def client_for(app: VinculoApp, auth: tuple[str, str] | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        auth=auth,
    )


@pytest.fixture
async def client(app: VinculoApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as tenant A."""
    async with client_for(app, await new_key(app, "tenant-a")) as http:
        yield http


@pytest.fixture
async def other_client(app: VinculoApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as tenant B."""
    async with client_for(app, await new_key(app, "tenant-b")) as http:
        yield http


@pytest.fixture
async def anonymous(app: VinculoApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, None) as http:
        yield http


@pytest.fixture(scope="session")
def live_server_databases(request: pytest.FixtureRequest) -> PostgresDatabases | None:
    """Where live servers get their PostgreSQL databases; None on SQLite, where each server
    keeps its file in its data folder."""
    if TEST_DATABASE == "sqlite":
        return None
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, live_server_databases: PostgresDatabases | None
) -> Iterator[LiveServer]:
    """`vinculo serve` as a user runs it, on a free port with its own database.

    On PostgreSQL the database starts empty, so the server's own migration builds it.
    """
    url = live_server_databases.create_empty() if live_server_databases else None
    server = start_live_server(tmp_path_factory.mktemp("live"), database_url=url)
    try:
        yield server
    finally:
        server.stop()
        if live_server_databases and url:
            live_server_databases.drop(url)


@pytest.fixture(scope="session")
def belvo_spec_path() -> Path:
    raw = os.environ.get("VINCULO_BELVO_SPEC")
    if not raw:
        pytest.skip(
            "VINCULO_BELVO_SPEC is unset: set it to the path of Belvo's public OpenAPI "
            "specification 1.35.0 (YAML); scripts/test uses "
            "../shared/reference/belvo-openapi-1.35.0.yaml when that file exists"
        )
    path = Path(raw)
    if not path.is_file():
        pytest.fail(f"VINCULO_BELVO_SPEC points at {path}, which is not a file")
    return path
