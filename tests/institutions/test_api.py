"""`GET /api/institutions/` and `GET /api/institutions/{id}/` through the in-process app.

The expected names come from the sandbox table in docs/sandbox.md, not from the catalogue code.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.links.calls import check_error

INSTITUTION_KEYS = {
    "id",
    "name",
    "type",
    "website",
    "display_name",
    "country_codes",
    "country_code",
    "primary_color",
    "logo",
    "icon_logo",
    "text_logo",
    "form_fields",
    "features",
    "resources",
    "integration_type",
    "status",
}

MX_BANKS = {
    "erebor_mx_retail",
    "gringotts_mx_retail",
    "gotham_mx_business",
    "heimdall_mx_retail",
    "ironbank_mx_retail",
}
CO_BANKS = {
    "erebor_co_retail",
    "gringotts_co_retail",
    "gotham_co_business",
    "heimdall_co_retail",
    "ironbank_co_retail",
}
BR_BANKS = {
    "erebor_br_retail",
    "gringotts_br_retail",
    "gotham_br_business",
    "heimdall_br_retail",
    "ironbank_br_retail",
    "ironbank_br_business",
}
GIG = {
    "goonies_mx_gig",
    "goonies_co_gig",
    "goonies_br_gig",
    "planet_mx_gig",
    "planet_co_gig",
    "planet_br_gig",
}
FISCAL = {"tatooine_mx_fiscal"}
IMSS = {"imss_mx_employment"}
BANKS = MX_BANKS | CO_BANKS | BR_BANKS
EMPLOYMENT = GIG | IMSS
ALL = BANKS | EMPLOYMENT | FISCAL
MEXICO = MX_BANKS | {"goonies_mx_gig", "planet_mx_gig"} | FISCAL | IMSS
COLOMBIA = CO_BANKS | {"goonies_co_gig", "planet_co_gig"}
BRAZIL = BR_BANKS | {"goonies_br_gig", "planet_br_gig"}
EREBOR = {"erebor_mx_retail", "erebor_co_retail", "erebor_br_retail"}


async def _names(client: httpx.AsyncClient, params: Any) -> set[str]:
    response = await client.get("/api/institutions/", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    names = {item["name"] for item in body["results"]}
    assert body["count"] == len(names), body
    return names


# List and detail ------------------------------------------------------------------------------


async def test_list_every_institution(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 24
    assert body["next"] is None
    assert body["previous"] is None
    assert {item["name"] for item in body["results"]} == ALL


async def test_list_ordered_by_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/?fields=id")

    ids = [item["id"] for item in response.json()["results"]]
    assert ids == list(range(1003, 1027))


async def test_list_item_keys(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/")

    for item in response.json()["results"]:
        assert set(item) == INSTITUTION_KEYS, item["name"]


@pytest.mark.parametrize("path", ["/api/institutions/1003/", "/api/institutions/1003"])
async def test_detail_by_id(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    body = response.json()
    assert response.status_code == 200
    assert body["id"] == 1003
    assert body["name"] == "erebor_mx_retail"
    assert body["display_name"] == "Erebor Mexico"
    assert body["type"] == "bank"
    assert body["country_codes"] == ["MX"]
    assert body["primary_color"] == "#056dae"
    assert body["status"] == "healthy"
    assert body["integration_type"] == "credentials"


async def test_detail_matches_list(client: httpx.AsyncClient) -> None:
    listed = await client.get("/api/institutions/")

    for item in listed.json()["results"]:
        detail = await client.get(f"/api/institutions/{item['id']}/")
        assert detail.json() == item, item["name"]


@pytest.mark.parametrize(
    ("institution_id", "name", "features"),
    [
        (1012, "heimdall_mx_retail", ["token_required"]),
        (1009, "gotham_mx_business", ["token_required"]),
        (1006, "gringotts_mx_retail", []),
    ],
)
async def test_detail_features(
    client: httpx.AsyncClient, institution_id: int, name: str, features: list[str]
) -> None:
    response = await client.get(f"/api/institutions/{institution_id}/")

    assert response.json()["name"] == name
    assert [feature["name"] for feature in response.json()["features"]] == features


# Filters --------------------------------------------------------------------------------------

FILTERS = [
    pytest.param({"country_code": "CO"}, COLOMBIA, id="country_code"),
    pytest.param({"country_code": "MX"}, MEXICO, id="country_code MX"),
    pytest.param({"country_code__in": "CO,BR"}, COLOMBIA | BRAZIL, id="country_code__in comma"),
    pytest.param(
        [("country_code__in", "CO"), ("country_code__in", "BR")],
        COLOMBIA | BRAZIL,
        id="country_code__in repeated",
    ),
    pytest.param({"display_name": "erebor"}, EREBOR, id="display_name partial lower"),
    pytest.param(
        {"display_name": "Iron Bank"},
        {
            "ironbank_mx_retail",
            "ironbank_co_retail",
            "ironbank_br_retail",
            "ironbank_br_business",
        },
        id="display_name with space",
    ),
    pytest.param({"display_name": "MEXICO"}, MEXICO, id="display_name upper"),
    pytest.param({"display_name": "Narnia"}, set(), id="display_name no match"),
    pytest.param({"name": "erebor_mx_retail"}, {"erebor_mx_retail"}, id="name"),
    pytest.param({"name": "erebor"}, set(), id="name is exact"),
    pytest.param(
        {"name__in": "erebor_mx_retail,tatooine_mx_fiscal"},
        {"erebor_mx_retail", "tatooine_mx_fiscal"},
        id="name__in comma",
    ),
    pytest.param(
        [("name__in", "erebor_mx_retail"), ("name__in", "imss_mx_employment")],
        {"erebor_mx_retail", "imss_mx_employment"},
        id="name__in repeated",
    ),
    pytest.param({"resources__allin": "INVOICES,TAX_STATUS"}, FISCAL, id="resources fiscal"),
    pytest.param({"resources__allin": "ACCOUNTS,TRANSACTIONS"}, BANKS, id="resources bank"),
    pytest.param({"resources__allin": "OWNERS"}, BANKS | EMPLOYMENT, id="resources OWNERS"),
    pytest.param({"resources__allin": "ACCOUNTS,INVOICES"}, set(), id="resources disjoint"),
    pytest.param(
        [("resources__allin", "ACCOUNTS"), ("resources__allin", "RISK_INSIGHTS")],
        BANKS,
        id="resources repeated",
    ),
    pytest.param({"status": "healthy"}, ALL, id="status healthy"),
    pytest.param({"status": "down"}, set(), id="status down"),
    pytest.param({"status__in": "healthy,down"}, ALL, id="status__in"),
    pytest.param({"type": "bank"}, BANKS, id="type bank"),
    pytest.param({"type": "fiscal"}, FISCAL, id="type fiscal"),
    pytest.param({"type": "employment"}, EMPLOYMENT, id="type employment"),
    pytest.param({"type__in": "fiscal,employment"}, FISCAL | EMPLOYMENT, id="type__in"),
    pytest.param({"country_code": "MX", "type": "bank"}, MX_BANKS, id="country and type"),
    pytest.param({"colour": "blue"}, ALL, id="unknown parameter ignored"),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
async def test_filter(client: httpx.AsyncClient, params: Any, expected: set[str]) -> None:
    assert await _names(client, params) == expected


async def test_filter_website(client: httpx.AsyncClient) -> None:
    erebor = (await client.get("/api/institutions/1003/")).json()

    names = await _names(client, {"website": erebor["website"]})

    assert names == EREBOR


async def test_filter_website_no_match(client: httpx.AsyncClient) -> None:
    assert await _names(client, {"website": "https://www.example.com/"}) == set()


# fields, omit and pagination ------------------------------------------------------------------


async def test_list_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/?fields=id,name&type=fiscal")

    assert response.json()["results"] == [{"id": 1025, "name": "tatooine_mx_fiscal"}]


async def test_list_omit(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/?omit=form_fields,features")

    for item in response.json()["results"]:
        assert set(item) == INSTITUTION_KEYS - {"form_fields", "features"}, item["name"]


async def test_detail_fields(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/1025/?fields=name,resources")

    assert response.json() == {
        "name": "tatooine_mx_fiscal",
        "resources": ["INVOICES", "TAX_COMPLIANCE_STATUS", "TAX_RETURNS", "TAX_STATUS"],
    }


async def test_detail_omit(client: httpx.AsyncClient) -> None:
    full = (await client.get("/api/institutions/1026/")).json()

    response = await client.get("/api/institutions/1026/?omit=form_fields,logo")

    expected = {key: value for key, value in full.items() if key not in {"form_fields", "logo"}}
    assert response.json() == expected


async def test_pages_cover_catalogue(client: httpx.AsyncClient) -> None:
    url: str | None = "/api/institutions/?page_size=10&fields=name"
    names: list[str] = []

    for _ in range(5):
        if url is None:
            break
        response = await client.get(url)
        assert response.status_code == 200, response.text
        names.extend(item["name"] for item in response.json()["results"])
        url = response.json()["next"]

    assert url is None, "the next chain did not end within 5 pages"
    assert len(names) == 24
    assert set(names) == ALL


async def test_next_keeps_filters(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/?type=bank&page_size=5&fields=name")

    body = response.json()
    assert body["count"] == 16
    assert body["next"] == (
        "http://testserver/api/institutions/?type=bank&page_size=5&fields=name&page=2"
    )


# 404s -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_id", ["abc", "999999", "0", "-1", "1003.5", "erebor_mx_retail", "1e3"]
)
async def test_unknown_id_not_found(client: httpx.AsyncClient, raw_id: str) -> None:
    response = await client.get(f"/api/institutions/{raw_id}/")

    check_error(response, status=404, code="not_found", message="Not found.")


async def test_page_past_end(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/?page_size=10&page=4")

    check_error(response, status=404, code="not_found", message="Invalid page.")
