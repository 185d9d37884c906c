"""Outside sandbox mode every `/sandbox/` route returns 404 `not_found`, keys or not."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import client_for, new_key
from tests.links.calls import UNKNOWN_LINK_ID, check_error
from tests.retrieval.calls import NOW, FrozenClock, bank_link
from vinculo.app import VinculoApp, create_app
from vinculo.config import Settings
from vinculo.db.migrate import upgrade

ROUTES = [
    ("POST", "/sandbox/reset/", None),
    ("GET", "/sandbox/clock/", None),
    ("POST", "/sandbox/clock/", {"advance": 60}),
    ("DELETE", "/sandbox/clock/", None),
    ("POST", f"/sandbox/links/{UNKNOWN_LINK_ID}/status/", {"status": "invalid"}),
    ("POST", "/sandbox/institutions/erebor_mx_retail/status/", {"status": "down"}),
]


@pytest.fixture
async def production_app(settings: Settings) -> AsyncIterator[VinculoApp]:
    production = settings.model_copy(update={"mode": "production"})
    upgrade(production.resolved_database_url)
    application = create_app(production, clock=FrozenClock())
    yield application
    await application.context.database.aclose()


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_sandbox_routes_not_found(
    production_app: VinculoApp, method: str, path: str, body: dict[str, object] | None
) -> None:
    async with client_for(production_app, await new_key(production_app, "tenant-p")) as client:
        response = await client.request(method, path, json=body)
    async with client_for(production_app, None) as anonymous:
        without_keys = await anonymous.request(method, path, json=body)

    check_error(response, status=404, code="not_found")
    check_error(without_keys, status=404, code="not_found")


async def test_production_ignores_stored_state(
    app: VinculoApp, client: httpx.AsyncClient, settings: Settings
) -> None:
    """A sandbox database served in production mode keeps real time and healthy institutions."""
    await client.post("/sandbox/clock/", json={"advance": "P1D"})
    await client.post("/sandbox/institutions/erebor_mx_retail/status/", json={"status": "down"})
    production = settings.model_copy(
        update={"mode": "production", "database_url": app.context.settings.resolved_database_url}
    )
    served = create_app(production, clock=FrozenClock())
    try:
        # The same tenant as `client`, which set the institution down in sandbox mode.
        async with client_for(served, await new_key(served, "tenant-a")) as same_tenant:
            await bank_link(same_tenant)
            listed = await same_tenant.get("/api/institutions/", params={"status": "down"})
            assert listed.json()["count"] == 0
            assert served.context.clock.now() == NOW
    finally:
        await served.context.database.aclose()


async def test_openapi_lists_sandbox_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/docs/openapi.json")).json()["paths"]

    assert "/sandbox/clock" in paths
    assert "/sandbox/reset" in paths


async def test_openapi_hides_sandbox_routes_in_production(production_app: VinculoApp) -> None:
    async with client_for(production_app, None) as anonymous:
        paths = (await anonymous.get("/docs/openapi.json")).json()["paths"]

    assert not [path for path in paths if path.startswith("/sandbox")]
