"""Pagination of the lists, and `fields`/`omit` on lists, details and retrievals."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.links.calls import check_error
from tests.retrieval.calls import (
    RESOURCES,
    bank_link,
    ids,
    list_all,
    retrieval_body,
    retrieve,
)


@pytest.fixture
async def link(client: httpx.AsyncClient) -> dict[str, Any]:
    return await bank_link(client)


# Pagination -----------------------------------------------------------------------------------


async def test_follow_next_to_end(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    retrieved = await retrieve(client, "transactions", link["id"], days=60)

    listed = await list_all(client, "transactions", {"link": link["id"], "page_size": 25})

    assert len(retrieved) > 50, "the range must span more than two pages"
    assert len(set(ids(listed))) == len(listed)
    assert set(ids(listed)) == set(ids(retrieved))
    order = [(item["value_date"], item["accounting_date"]) for item in listed]
    assert order == sorted(order, reverse=True)


async def test_page_links(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    total = len(await retrieve(client, "transactions", link["id"], days=60))
    last = (total + 24) // 25
    query = {"link": link["id"], "page_size": 25, "type__in": "OUTFLOW,INFLOW"}

    first = (await client.get("/api/transactions/", params=query)).json()
    second = (await client.get(first["next"])).json()
    final = (await client.get("/api/transactions/", params={**query, "page": last})).json()

    assert first["previous"] is None
    assert urlsplit(first["next"])[:3] == ("http", "testserver", "/api/transactions/")
    assert parse_qs(urlsplit(first["next"]).query) == {
        "link": [link["id"]],
        "page_size": ["25"],
        "type__in": ["OUTFLOW,INFLOW"],
        "page": ["2"],
    }
    assert parse_qs(urlsplit(second["previous"]).query) == {
        "link": [link["id"]],
        "page_size": ["25"],
        "type__in": ["OUTFLOW,INFLOW"],
    }
    assert [page["count"] for page in (first, second, final)] == [total] * 3
    assert len(final["results"]) == total - 25 * (last - 1)
    assert final["next"] is None


@pytest.mark.parametrize("resource", RESOURCES)
async def test_every_list_pages(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    retrieved = await retrieve(client, resource, link["id"], days=5)

    listed = await list_all(client, resource, {"link": link["id"], "page_size": 1})

    assert sorted(ids(listed)) == sorted(ids(retrieved))


async def test_page_past_end(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    await retrieve(client, "accounts", link["id"])

    response = await client.get("/api/accounts/", params={"page": 2})

    check_error(response, status=404, code="not_found", message="Invalid page.")


# fields and omit ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
async def test_fields_on_retrieval(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    full = await retrieve(client, resource, link["id"])
    url = f"/api/{resource}/?fields=id,collected_at"

    response = await client.post(url, json=retrieval_body(resource, link["id"]))

    assert response.status_code == 201, response.text
    assert response.json() == [
        {"id": item["id"], "collected_at": item["collected_at"]} for item in full
    ]


@pytest.mark.parametrize("resource", RESOURCES)
async def test_omit_on_retrieval(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    full = await retrieve(client, resource, link["id"])
    dropped = {"account", "id"} if resource in ("transactions", "balances") else {"link", "id"}

    response = await client.post(
        f"/api/{resource}/?omit={','.join(sorted(dropped))}",
        json=retrieval_body(resource, link["id"]),
    )

    assert response.status_code == 201, response.text
    assert response.json() == [
        {key: value for key, value in item.items() if key not in dropped} for item in full
    ]


async def test_fields_on_lists(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    for resource in RESOURCES:
        await retrieve(client, resource, link["id"], days=3)
    cases = [
        ("accounts", "fields=id,balance", {"id", "balance"}),
        ("accounts", "fields=id&fields=name", {"id", "name"}),
        ("transactions", "omit=account,merchant", None),
        ("balances", "fields=value_date,balance&omit=balance", {"value_date"}),
        ("owners", "fields=display_name,nope", {"display_name"}),
    ]

    for resource, shape, keys in cases:
        full = await list_all(client, resource, {"link": link["id"]})
        shaped = await list_all(client, resource, f"link={link['id']}&{shape}")

        if keys is None:
            keys = set(full[0]) - {"account", "merchant"}
        assert [set(item) for item in shaped] == [keys] * len(full), shape
        assert shaped == [{key: item[key] for key in item if key in keys} for item in full], shape


@pytest.mark.parametrize("resource", RESOURCES)
async def test_fields_on_detail(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    item = (await retrieve(client, resource, link["id"], days=3))[0]
    url = f"/api/{resource}/{item['id']}/"

    kept = await client.get(url, params={"fields": "id,created_at,value_date"})
    omitted = await client.get(url, params={"omit": "id"})

    assert kept.status_code == 200, kept.text
    expected = {key: item[key] for key in ("id", "created_at", "value_date") if key in item}
    assert kept.json() == expected
    assert omitted.json() == {key: value for key, value in item.items() if key != "id"}
