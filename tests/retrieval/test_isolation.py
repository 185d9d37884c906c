"""Deleting stored data, and keeping each tenant's data out of the other tenant's reach."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.links.calls import check_error
from tests.retrieval.calls import (
    RESOURCES,
    bank_link,
    by_account,
    count,
    ids,
    list_all,
    retrieval_body,
    retrieve,
)

NOT_FOUND = "Not found."


async def _retrieve_all(client: httpx.AsyncClient, link_id: str) -> dict[str, list[dict[str, Any]]]:
    return {resource: await retrieve(client, resource, link_id, days=10) for resource in RESOURCES}


async def _counts(client: httpx.AsyncClient, link_id: str) -> dict[str, int]:
    return {resource: await count(client, resource, {"link": link_id}) for resource in RESOURCES}


# Deleting -------------------------------------------------------------------------------------


async def test_delete_account_takes_its_data(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    other = await bank_link(client, "other_user")
    stored = await _retrieve_all(client, link["id"])
    await _retrieve_all(client, other["id"])
    other_counts = await _counts(client, other["id"])
    checking = next(a for a in stored["accounts"] if a["category"] == "CHECKING_ACCOUNT")
    transactions = by_account(stored["transactions"])
    balances = by_account(stored["balances"])

    response = await client.delete(f"/api/accounts/{checking['id']}/")

    assert response.status_code == 204, response.text
    assert await _counts(client, link["id"]) == {
        "accounts": 3,
        "transactions": len(stored["transactions"]) - len(transactions[checking["id"]]),
        "balances": len(stored["balances"]) - len(balances[checking["id"]]),
        # Belvo documents that an account takes its owners; owners belong to the whole link.
        "owners": 0,
    }
    left = await list_all(client, "transactions", {"link": link["id"]})
    assert checking["id"] not in {item["account"]["id"] for item in left}
    assert await _counts(client, other["id"]) == other_counts
    gone = [
        f"/api/accounts/{checking['id']}/",
        f"/api/transactions/{transactions[checking['id']][0]['id']}/",
        f"/api/balances/{balances[checking['id']][0]['id']}/",
        f"/api/owners/{stored['owners'][0]['id']}/",
    ]
    for url in gone:
        check_error(await client.get(url), status=404, code="not_found", message=NOT_FOUND)


async def test_delete_link_takes_all_data(client: httpx.AsyncClient) -> None:
    link = await bank_link(client)
    other = await bank_link(client, "other_user")
    stored = await _retrieve_all(client, link["id"])
    await _retrieve_all(client, other["id"])
    other_counts = await _counts(client, other["id"])

    response = await client.delete(f"/api/links/{link['id']}/")

    assert response.status_code == 204, response.text
    assert await _counts(client, link["id"]) == dict.fromkeys(RESOURCES, 0)
    for resource, items in stored.items():
        for item_id in ids(items)[:3]:
            detail = await client.get(f"/api/{resource}/{item_id}/")
            check_error(detail, status=404, code="not_found", message=NOT_FOUND)
    assert await _counts(client, other["id"]) == other_counts


@pytest.mark.parametrize("resource", ("transactions", "balances", "owners"))
async def test_delete_one_item(client: httpx.AsyncClient, resource: str) -> None:
    link = await bank_link(client)
    stored = await _retrieve_all(client, link["id"])
    target = stored[resource][0]

    first = await client.delete(f"/api/{resource}/{target['id']}/")
    second = await client.delete(f"/api/{resource}/{target['id']}/")
    detail = await client.get(f"/api/{resource}/{target['id']}/")

    assert first.status_code == 204, first.text
    assert first.content == b""
    check_error(second, status=404, code="not_found", message=NOT_FOUND)
    check_error(detail, status=404, code="not_found", message=NOT_FOUND)
    expected = {name: len(items) for name, items in stored.items()}
    expected[resource] -= 1
    assert await _counts(client, link["id"]) == expected


# Tenants --------------------------------------------------------------------------------------


async def test_other_tenant_cannot_reach_items(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link = await bank_link(client)
    stored = await _retrieve_all(client, link["id"])

    for resource, items in stored.items():
        for method in ("GET", "DELETE"):
            response = await other_client.request(method, f"/api/{resource}/{items[0]['id']}/")

            check_error(response, status=404, code="not_found", message=NOT_FOUND)
    for resource, items in stored.items():
        mine = await client.get(f"/api/{resource}/{items[0]['id']}/")
        assert mine.json() == items[0], resource
    assert await _counts(client, link["id"]) == {
        resource: len(items) for resource, items in stored.items()
    }


async def test_other_tenant_lists_nothing(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link = await bank_link(client)
    stored = await _retrieve_all(client, link["id"])
    account_id = stored["accounts"][0]["id"]

    for resource, items in stored.items():
        queries = [
            {"link": link["id"]},
            {"link__in": link["id"]},
            {"link": link["id"], "id__in": ",".join(ids(items)[:5])},
        ]
        if resource in ("transactions", "balances"):
            queries.append({"link": link["id"], "account": account_id})
        if resource != "transactions":
            queries.append({})
        for query in queries:
            page = (await other_client.get(f"/api/{resource}/", params=query)).json()

            assert page == {"count": 0, "next": None, "previous": None, "results": []}, query


async def test_other_tenant_cannot_retrieve(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link = await bank_link(client)
    account = (await retrieve(client, "accounts", link["id"]))[0]
    own_link = await bank_link(other_client)

    for resource in RESOURCES:
        response = await other_client.post(
            f"/api/{resource}/", json=retrieval_body(resource, link["id"])
        )

        check_error(
            response,
            status=400,
            code="does_not_exist",
            message=f'Invalid pk "{link["id"]}" - object does not exist.',
            field="link",
        )
    for resource in ("transactions", "balances"):
        body = retrieval_body(resource, own_link["id"], account=account["id"])
        response = await other_client.post(f"/api/{resource}/", json=body)

        check_error(
            response,
            status=400,
            code="does_not_exist",
            message=f'Invalid pk "{account["id"]}" - object does not exist.',
            field="account",
        )
    assert await _counts(client, link["id"]) == {
        "accounts": 4,
        "transactions": 0,
        "balances": 0,
        "owners": 0,
    }
