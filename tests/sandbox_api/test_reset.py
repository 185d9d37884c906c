"""`POST /sandbox/reset/`: the tenant's links and data go, its keys and other tenants stay."""

from __future__ import annotations

import httpx
from sqlalchemy import Table, func, select

from tests.links.calls import check_error, start_mfa
from tests.retrieval.calls import RESOURCES, bank_link, count, retrieve
from vinculo.app import VinculoApp
from vinculo.db.models import (
    accounts,
    api_keys,
    balances,
    link_credentials,
    links,
    mfa_sessions,
    owners,
    transactions,
)

DATA_TABLES = (links, accounts, transactions, balances, owners, mfa_sessions, link_credentials)


async def rows_of_tenant(app: VinculoApp, table: Table, tenant_id: str) -> int:
    statement = select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
    async with app.context.database.unit_of_work() as uow:
        return int(await uow.scalar(statement) or 0)


async def tenant_of(app: VinculoApp, link_id: str) -> str:
    async with app.context.database.unit_of_work() as uow:
        tenant_id: str = await uow.scalar(select(links.c.tenant_id).where(links.c.id == link_id))
    return tenant_id


async def fill(client: httpx.AsyncClient) -> str:
    """Register a link with every kind of data, and an open MFA session; return the link id."""
    link = await bank_link(client)
    for resource in RESOURCES:
        await retrieve(client, resource, link["id"])
    await start_mfa(client)
    return str(link["id"])


async def test_reset_deletes_tenant_data(
    app: VinculoApp, client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    tenant_a = await tenant_of(app, await fill(client))
    tenant_b = await tenant_of(app, await fill(other_client))
    kept = {table.name: await rows_of_tenant(app, table, tenant_b) for table in DATA_TABLES}
    before = {table.name: await rows_of_tenant(app, table, tenant_a) for table in DATA_TABLES}

    response = await client.post("/sandbox/reset/")

    assert response.status_code == 200, response.text
    deleted = response.json()["deleted"]
    assert deleted == {
        "links": before["links"],
        "accounts": before["accounts"],
        "transactions": before["transactions"],
        "balances": before["balances"],
        "owners": before["owners"],
        "mfa_sessions": before["mfa_sessions"],
        "credentials": before["link_credentials"],
        "institutions_down": 0,
    }
    assert deleted["links"] == 2
    assert all(deleted[kind] > 0 for kind in ("accounts", "transactions", "balances", "owners"))
    for table in DATA_TABLES:
        assert await rows_of_tenant(app, table, tenant_a) == 0, table.name
        assert await rows_of_tenant(app, table, tenant_b) == kept[table.name], table.name


async def test_reset_keeps_keys(app: VinculoApp, client: httpx.AsyncClient) -> None:
    tenant_id = await tenant_of(app, await fill(client))
    keys_before = await rows_of_tenant(app, api_keys, tenant_id)

    await client.post("/sandbox/reset/")

    assert await rows_of_tenant(app, api_keys, tenant_id) == keys_before
    assert await count(client, "links") == 0
    for resource in ("accounts", "balances", "owners"):
        assert await count(client, resource) == 0


async def test_reset_lets_user_register_again(client: httpx.AsyncClient) -> None:
    await bank_link(client)
    await client.post("/sandbox/reset/")

    assert await bank_link(client)


async def test_reset_sets_institutions_up(client: httpx.AsyncClient) -> None:
    await client.post("/sandbox/institutions/erebor_mx_retail/status/", json={"status": "down"})

    response = await client.post("/sandbox/reset/")

    assert response.json()["deleted"]["institutions_down"] == 1
    assert await bank_link(client)


async def test_reset_empty_tenant(client: httpx.AsyncClient) -> None:
    response = await client.post("/sandbox/reset/")

    assert response.status_code == 200, response.text
    assert set(response.json()["deleted"].values()) == {0}


async def test_reset_keeps_clock(client: httpx.AsyncClient) -> None:
    await client.post("/sandbox/clock/", json={"advance": 60})

    await client.post("/sandbox/reset/")

    assert (await client.get("/sandbox/clock/")).json()["offset_seconds"] == 60


async def test_reset_needs_keys(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/sandbox/reset/")

    check_error(response, status=401, code="authentication_failed")
