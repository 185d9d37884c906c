"""`POST /sandbox/institutions/{name}/status/`: an institution down for one tenant, then up."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.links.calls import (
    MFA_BANK,
    PLAIN_BANK,
    VALID_TOKEN,
    check_error,
    link_body,
    start_mfa,
)
from tests.retrieval.calls import bank_link, retrieval_body, retrieve

DOWN = "The financial institution is down, try again later"
PLAIN_BANK_ID = 1003


async def switch(client: httpx.AsyncClient, name: str, status: str) -> dict[str, Any]:
    response = await client.post(f"/sandbox/institutions/{name}/status/", json={"status": status})
    assert response.status_code == 200, response.text
    institution: dict[str, Any] = response.json()
    return institution


async def listed_status(client: httpx.AsyncClient, name: str) -> str:
    response = await client.get("/api/institutions/", params={"name": name})
    assert response.status_code == 200, response.text
    status: str = response.json()["results"][0]["status"]
    return status


async def test_down_shows_in_institutions(client: httpx.AsyncClient) -> None:
    body = await switch(client, PLAIN_BANK, "down")

    assert body["name"] == PLAIN_BANK
    assert body["status"] == "down"
    assert await listed_status(client, PLAIN_BANK) == "down"
    detail = await client.get(f"/api/institutions/{PLAIN_BANK_ID}/")
    assert detail.json()["status"] == "down"
    down = (await client.get("/api/institutions/", params={"status": "down"})).json()
    assert [item["name"] for item in down["results"]] == [PLAIN_BANK]
    healthy = (await client.get("/api/institutions/", params={"status": "healthy"})).json()
    assert PLAIN_BANK not in [item["name"] for item in healthy["results"]]


async def test_down_rejects_registration(client: httpx.AsyncClient) -> None:
    await switch(client, PLAIN_BANK, "down")

    response = await client.post("/api/links/", json=link_body())

    check_error(response, status=400, code="institution_down", message=DOWN)
    assert (await client.get("/api/links/")).json()["count"] == 0


@pytest.mark.parametrize("resource", ["accounts", "transactions", "balances", "owners"])
async def test_down_rejects_retrieval(client: httpx.AsyncClient, resource: str) -> None:
    link = await bank_link(client)
    await switch(client, PLAIN_BANK, "down")

    response = await client.post(f"/api/{resource}/", json=retrieval_body(resource, link["id"]))

    check_error(response, status=400, code="institution_down", message=DOWN)


async def test_down_rejects_credential_update(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    await switch(client, PLAIN_BANK, "down")

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "pass_valid"})

    check_error(response, status=400, code="institution_down", message=DOWN)


async def test_down_rejects_mfa_resume(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)
    await switch(client, MFA_BANK, "down")

    response = await client.patch(
        "/api/links/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    check_error(response, status=400, code="institution_down", message=DOWN)


async def test_up_again(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    await switch(client, PLAIN_BANK, "down")

    body = await switch(client, PLAIN_BANK, "up")

    assert body["status"] == "healthy"
    assert await listed_status(client, PLAIN_BANK) == "healthy"
    assert await retrieve(client, "accounts", link["id"])
    assert await bank_link(client, "another_user")


async def test_down_twice(client: httpx.AsyncClient) -> None:
    await switch(client, PLAIN_BANK, "down")

    assert (await switch(client, PLAIN_BANK, "down"))["status"] == "down"


async def test_down_only_for_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    await switch(client, PLAIN_BANK, "down")

    assert await listed_status(other_client, PLAIN_BANK) == "healthy"
    assert await bank_link(other_client)


async def test_other_institutions_stay_up(client: httpx.AsyncClient) -> None:
    await switch(client, PLAIN_BANK, "down")

    assert await listed_status(client, "gringotts_mx_retail") == "healthy"
    assert await bank_link(client, institution="gringotts_mx_retail")


async def test_unknown_institution(client: httpx.AsyncClient) -> None:
    response = await client.post("/sandbox/institutions/narnia/status/", json={"status": "down"})

    check_error(response, status=404, code="not_found")


@pytest.mark.parametrize(
    ("body", "code"),
    [({"status": "healthy"}, "invalid_choice"), ({}, "required"), ({"status": 1}, "invalid")],
)
async def test_status_body_invalid(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await client.post(f"/sandbox/institutions/{PLAIN_BANK}/status/", json=body)

    check_error(response, status=400, code=code, field="status")


async def test_status_needs_keys(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        f"/sandbox/institutions/{PLAIN_BANK}/status/", json={"status": "down"}
    )

    check_error(response, status=401, code="authentication_failed")
