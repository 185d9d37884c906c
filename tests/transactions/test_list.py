"""`GET /api/transactions/`: counts on every page, and the tenant check through the links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.links.calls import create_link


async def stored_link(client: httpx.AsyncClient, username: str) -> tuple[str, int]:
    """Register a link and store 90 days of its transactions; return its id and their count."""
    link = await create_link(client, username=username)
    today = datetime.now(UTC).date()
    retrieved = await client.post(
        "/api/transactions/",
        json={
            "link": link["id"],
            "date_from": (today - timedelta(days=90)).isoformat(),
            "date_to": today.isoformat(),
        },
    )
    assert retrieved.status_code == 201, retrieved.text
    return link["id"], len(retrieved.json())


async def test_count_same_on_every_page(client: httpx.AsyncClient) -> None:
    link_id, total = await stored_link(client, "pages_user")
    assert total > 20

    for page_size in (7, total, total + 5):
        pages = -(-total // page_size)
        seen = 0
        for number in range(1, pages + 1):
            response = await client.get(
                "/api/transactions/",
                params={"link": link_id, "page_size": page_size, "page": number},
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["count"] == total, (page_size, number)
            seen += len(body["results"])
        assert seen == total
        past_end = await client.get(
            "/api/transactions/",
            params={"link": link_id, "page_size": page_size, "page": pages + 1},
        )
        assert past_end.status_code == 404


async def test_list_skips_other_tenants_links(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    own_id, own_total = await stored_link(client, "own_user")
    foreign_id, _ = await stored_link(other_client, "foreign_user")

    both = await client.get(
        "/api/transactions/", params={"link__in": f"{own_id},{foreign_id}", "page_size": 1000}
    )
    foreign_only = await client.get("/api/transactions/", params={"link": foreign_id})

    assert both.status_code == 200, both.text
    assert both.json()["count"] == own_total
    assert {item["account"]["link"] for item in both.json()["results"]} == {own_id}
    assert foreign_only.status_code == 200
    assert foreign_only.json()["count"] == 0


def _order_key(item: dict[str, object]) -> tuple[str, str, str]:
    # Newest value date first, then the latest accounting date (none last), then the id.
    return (str(item["value_date"]), str(item["accounting_date"] or ""), str(item["id"]))


async def test_several_links_pages_keep_order(client: httpx.AsyncClient) -> None:
    first_id, first_total = await stored_link(client, "order_user_a")
    second_id, second_total = await stored_link(client, "order_user_b")
    query = {"link__in": f"{first_id},{second_id}"}

    whole = await client.get("/api/transactions/", params={**query, "page_size": 1000})
    paged: list[dict[str, object]] = []
    page_size = 9
    for number in range(1, -(-(first_total + second_total) // page_size) + 1):
        response = await client.get(
            "/api/transactions/", params={**query, "page_size": page_size, "page": number}
        )
        assert response.status_code == 200, response.text
        paged.extend(response.json()["results"])

    results = whole.json()["results"]
    assert len(results) == first_total + second_total
    assert [item["id"] for item in paged] == [item["id"] for item in results]
    assert results == sorted(results, key=_order_key, reverse=True)
