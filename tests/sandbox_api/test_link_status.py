"""`POST /sandbox/links/{id}/status/`: forced statuses and what data requests then return."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.links.calls import UNKNOWN_LINK_ID, check_error, start_mfa
from tests.retrieval.calls import bank_link, retrieval_body, retrieve

INVALID_LINK = "invalid_link"


async def force(client: httpx.AsyncClient, link_id: str, status: str) -> httpx.Response:
    return await client.post(f"/sandbox/links/{link_id}/status/", json={"status": status})


async def forced(client: httpx.AsyncClient, link_id: str, status: str) -> dict[str, Any]:
    response = await force(client, link_id, status)
    assert response.status_code == 200, response.text
    link: dict[str, Any] = response.json()
    return link


async def test_force_invalid(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)

    body = await forced(client, link["id"], "invalid")

    assert body["id"] == link["id"]
    assert body["status"] == "invalid"
    assert (await client.get(f"/api/links/{link['id']}/")).json()["status"] == "invalid"


@pytest.mark.parametrize("resource", ["accounts", "transactions", "balances", "owners"])
async def test_invalid_link_rejects_data(client: httpx.AsyncClient, resource: str) -> None:
    link = await bank_link(client)
    await forced(client, link["id"], "invalid")

    response = await client.post(f"/api/{resource}/", json=retrieval_body(resource, link["id"]))

    check_error(response, status=400, code=INVALID_LINK)


async def test_force_valid_again(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    await forced(client, link["id"], "invalid")

    body = await forced(client, link["id"], "valid")

    assert body["status"] == "valid"
    assert await retrieve(client, "accounts", link["id"])


async def test_token_required_link_retrieves(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    assert (await forced(client, link["id"], "token_required"))["status"] == "token_required"

    await retrieve(client, "accounts", link["id"])

    assert (await client.get(f"/api/links/{link['id']}/")).json()["status"] == "valid"


async def test_force_same_status(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)

    assert (await forced(client, link["id"], "valid"))["status"] == "valid"


async def test_invalid_to_token_required_rejected(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    await forced(client, link["id"], "invalid")

    response = await force(client, link["id"], "token_required")

    item = check_error(response, status=400, code="validation_error")
    assert "force it to valid first" in item["message"], item


async def test_unconfirmed_link_rejected(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await force(client, challenge["link"], "valid")

    check_error(response, status=400, code="validation_error")
    link = (await client.get(f"/api/links/{challenge['link']}/")).json()
    assert link["status"] == "unconfirmed"


@pytest.mark.parametrize("link_id", [UNKNOWN_LINK_ID, "not-a-uuid"])
async def test_unknown_link(client: httpx.AsyncClient, link_id: str) -> None:
    response = await force(client, link_id, "invalid")

    check_error(response, status=404, code="not_found")


async def test_other_tenant_link(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link = await bank_link(client)

    response = await force(other_client, link["id"], "invalid")

    check_error(response, status=404, code="not_found")
    assert (await client.get(f"/api/links/{link['id']}/")).json()["status"] == "valid"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"status": "unconfirmed"}, "invalid_choice"),
        ({"status": "broken"}, "invalid_choice"),
        ({}, "required"),
        ({"status": None}, "null"),
    ],
)
async def test_status_body_invalid(
    client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    link = await bank_link(client)

    response = await client.post(f"/sandbox/links/{link['id']}/status/", json=body)

    check_error(response, status=400, code=code, field="status")


async def test_status_needs_keys(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        f"/sandbox/links/{UNKNOWN_LINK_ID}/status/", json={"status": "invalid"}
    )

    check_error(response, status=401, code="authentication_failed")
