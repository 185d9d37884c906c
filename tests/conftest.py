"""Shared fixtures: an in-process app on a fresh SQLite file, API keys, a real server."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import LiveServer, start_live_server
from vinculo.app import VinculoApp, create_app
from vinculo.clock import Clock
from vinculo.config import Settings
from vinculo.db.migrate import upgrade
from vinculo.logging import configure_logging
from vinculo.tenants import service as tenants

TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="session", autouse=True)
def _logging() -> None:
    """Log as the server does, so no test uses structlog's default renderer and its locals."""
    configure_logging(Settings())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        master_key=TEST_MASTER_KEY,
        sandbox_slow_login_seconds=0.3,
        api_key_cache_seconds=0,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Iterator[VinculoApp]:
    upgrade(settings.resolved_database_url)
    application = create_app(settings, clock=clock)
    yield application
    application.context.database.close()


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
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`vinculo serve` as a user runs it, on a free port with its own SQLite file."""
    server = start_live_server(tmp_path_factory.mktemp("live"))
    try:
        yield server
    finally:
        server.stop()


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
