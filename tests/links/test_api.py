"""Happy paths of `/api/links/` and the wire conventions every list and detail follows.

Covered: register, detail, update, modify and delete, trailing and repeated slashes, pagination
(`page`, `page_size`, absolute `next`/`previous`), the Django-style filter lookups,
`fields`/`omit`, unknown body keys, and tenant isolation.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.links.calls import (
    MFA_BANK,
    PLAIN_BANK,
    REQUEST_ID,
    VALID_TOKEN,
    check_error,
    client_with,
    create_link,
    link_body,
    link_count,
    new_api_key,
    rows_for_link,
    start_mfa,
)
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.db.models import link_credentials, mfa_sessions
from vinculo.links import repository
from vinculo.tenants import repository as tenant_repository

LINK_KEYS = {
    "id",
    "institution",
    "access_mode",
    "last_accessed_at",
    "created_at",
    "external_id",
    "institution_user_id",
    "status",
    "created_by",
    "refresh_rate",
    "credentials_storage",
    "stale_in",
    "fetch_resources",
}
INSTITUTION_USER_ID = re.compile(r"^[A-Za-z0-9\-=_]{44}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["results"]}


async def _insert_links(app: VinculoApp, tenant: str, count: int) -> None:
    """Insert `count` valid links for `tenant` straight into the table (faster than logins)."""
    now = app.context.clock.now()
    async with app.context.database.unit_of_work() as uow:
        tenant_row = await tenant_repository.tenant_by_name(uow, tenant)
        assert tenant_row is not None
        for index in range(count):
            link_id = str(uuid.uuid4())
            await repository.insert_link(
                uow,
                id=link_id,
                tenant_id=tenant_row.id,
                institution=PLAIN_BANK,
                access_mode="recurrent",
                status="valid",
                refresh_rate="7d",
                created_by=str(uuid.uuid4()),
                external_id=None,
                institution_user_id=f"{index:044d}",
                credentials_storage="store",
                stale_in=None,
                fetch_resources=[],
                fetch_historical=True,
                last_accessed_at=now,
                created_at=now + timedelta(microseconds=index),
                updated_at=now,
                credentials_expire_at=None,
            )


# Register, read, update, delete ---------------------------------------------------------------


async def test_register_recurrent_defaults(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "defaults")

    assert set(link) == LINK_KEYS
    assert str(uuid.UUID(link["id"])) == link["id"]
    assert link["institution"] == PLAIN_BANK
    assert link["access_mode"] == "recurrent"
    assert link["status"] == "valid"
    assert link["refresh_rate"] == "7d"
    assert link["credentials_storage"] == "store"
    assert link["stale_in"] is None
    assert link["fetch_resources"] == []
    assert link["external_id"] is None
    assert INSTITUTION_USER_ID.match(link["institution_user_id"]), link
    assert str(uuid.UUID(link["created_by"])) == link["created_by"]
    assert TIMESTAMP.match(link["created_at"]), link
    assert link["last_accessed_at"] == link["created_at"]


async def test_register_single_defaults(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "single_defaults", access_mode="single")

    assert link["access_mode"] == "single"
    assert link["refresh_rate"] is None
    assert link["credentials_storage"] == "365d"


async def test_register_echoes_options(client: httpx.AsyncClient) -> None:
    link = await create_link(
        client,
        "options",
        access_mode="single",
        credentials_storage="30d",
        stale_in="90d",
        external_id="crm-42_a",
        fetch_resources=["ACCOUNTS", "OWNERS"],
        fetch_historical=True,
    )

    assert link["credentials_storage"] == "30d"
    assert link["stale_in"] == "90d"
    assert link["external_id"] == "crm-42_a"
    assert link["fetch_resources"] == ["ACCOUNTS", "OWNERS"]


async def test_register_without_password_on_imss(client: httpx.AsyncClient) -> None:
    body = {"institution": "imss_mx_employment", "username": "XEXX010101HNEXXXA4"}

    response = await client.post("/api/links/", json=body)

    assert response.status_code == 201, response.text


async def test_detail_matches_register(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "detail")

    response = await client.get(f"/api/links/{link['id']}/")

    assert response.status_code == 200
    assert response.json() == link


async def test_list_contains_link(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "listed")

    response = await client.get("/api/links/")

    assert response.status_code == 200
    assert response.json()["results"] == [link]


async def test_put_logs_in_again(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await create_link(client, "updated")
    clock.advance(timedelta(minutes=5))

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "new_password"})

    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["status"] == "valid"
    assert _parse_time(updated["last_accessed_at"]) > _parse_time(link["last_accessed_at"])
    assert {key: value for key, value in updated.items() if key != "last_accessed_at"} == {
        key: value for key, value in link.items() if key != "last_accessed_at"
    }


async def test_modify_access_mode_round_trip(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "switching")

    to_single = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "single"})
    to_recurrent = await client.patch(
        f"/api/links/{link['id']}/", json={"access_mode": "recurrent"}
    )

    assert to_single.status_code == 200, to_single.text
    assert to_single.json()["access_mode"] == "single"
    assert to_single.json()["refresh_rate"] is None
    assert to_recurrent.status_code == 200, to_recurrent.text
    assert to_recurrent.json()["access_mode"] == "recurrent"
    assert to_recurrent.json()["refresh_rate"] == "7d"
    assert to_recurrent.json()["credentials_storage"] == "store"


async def test_modify_single_with_stored_credentials(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "single_to_recurrent", access_mode="single")

    response = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "recurrent"})

    assert response.status_code == 200, response.text
    assert response.json()["access_mode"] == "recurrent"
    assert response.json()["credentials_storage"] == "store"


async def test_modify_retention_settings(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "retention")

    response = await client.patch(
        f"/api/links/{link['id']}/", json={"stale_in": "30d", "fetch_resources": ["OWNERS"]}
    )

    assert response.status_code == 200, response.text
    assert response.json()["stale_in"] == "30d"
    assert response.json()["fetch_resources"] == ["OWNERS"]
    assert response.json()["access_mode"] == "recurrent"


async def test_delete_link(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "deleted")

    response = await client.delete(f"/api/links/{link['id']}/")

    assert response.status_code == 204
    assert response.content == b""
    after_delete = await client.get(f"/api/links/{link['id']}/")
    check_error(after_delete, status=404, code="not_found", message="Not found.")
    assert await link_count(client) == 0


async def test_delete_removes_credentials_and_sessions(
    app: VinculoApp, client: httpx.AsyncClient
) -> None:
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)
    created = await client.post("/api/links/", json=body)
    assert created.status_code == 201, created.text
    link_id = created.json()["id"]
    challenged = await client.put(f"/api/links/{link_id}/", json={"password": "pass_valid"})
    assert challenged.status_code == 428, challenged.text
    assert await rows_for_link(app, link_credentials, link_id) == 1
    assert await rows_for_link(app, mfa_sessions, link_id) == 1

    response = await client.delete(f"/api/links/{link_id}/")

    assert response.status_code == 204
    assert await rows_for_link(app, link_credentials, link_id) == 0
    assert await rows_for_link(app, mfa_sessions, link_id) == 0


async def test_delete_unconfirmed_link_removes_session(
    app: VinculoApp, client: httpx.AsyncClient
) -> None:
    challenge = await start_mfa(client)

    response = await client.delete(f"/api/links/{challenge['link']}/")

    assert response.status_code == 204
    assert await rows_for_link(app, mfa_sessions, challenge["link"]) == 0
    resumed = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )
    check_error(resumed, status=400, code="session_expired")


async def test_api_root(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/")

    assert response.status_code == 200
    assert response.json()["links"] == "http://testserver/api/links/"


@pytest.mark.parametrize("path", ["/api/", "/api/links/", "/api/institutions/"])
async def test_request_id_header(client: httpx.AsyncClient, path: str) -> None:
    first = await client.get(path)
    second = await client.get(path)

    assert REQUEST_ID.match(first.headers["x-request-id"]), first.headers
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


# Trailing and repeated slashes ----------------------------------------------------------------

SLASHES = [pytest.param("/", id="slash"), pytest.param("", id="no slash")]


def _not_redirected(response: httpx.Response) -> None:
    assert not response.is_redirect, response.headers
    assert "location" not in response.headers


@pytest.mark.parametrize("slash", SLASHES)
async def test_list_slash(client: httpx.AsyncClient, slash: str) -> None:
    link = await create_link(client, "slash_list")

    response = await client.get(f"/api/links{slash}")

    _not_redirected(response)
    assert response.status_code == 200
    assert response.json()["results"] == [link]


@pytest.mark.parametrize("slash", SLASHES)
async def test_register_slash(client: httpx.AsyncClient, slash: str) -> None:
    response = await client.post(f"/api/links{slash}", json=link_body("slash_register"))

    _not_redirected(response)
    assert response.status_code == 201, response.text
    assert set(response.json()) == LINK_KEYS


@pytest.mark.parametrize("slash", SLASHES)
async def test_resume_slash(client: httpx.AsyncClient, slash: str) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        f"/api/links{slash}",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )

    _not_redirected(response)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


@pytest.mark.parametrize("slash", SLASHES)
async def test_detail_slash(client: httpx.AsyncClient, slash: str) -> None:
    link = await create_link(client, "slash_detail")

    response = await client.get(f"/api/links/{link['id']}{slash}")

    _not_redirected(response)
    assert response.status_code == 200
    assert response.json() == link


@pytest.mark.parametrize("slash", SLASHES)
async def test_put_slash(client: httpx.AsyncClient, slash: str) -> None:
    link = await create_link(client, "slash_put")

    response = await client.put(f"/api/links/{link['id']}{slash}", json={"password": "p"})

    _not_redirected(response)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == link["id"]


@pytest.mark.parametrize("slash", SLASHES)
async def test_modify_slash(client: httpx.AsyncClient, slash: str) -> None:
    link = await create_link(client, "slash_patch")

    response = await client.patch(f"/api/links/{link['id']}{slash}", json={"access_mode": "single"})

    _not_redirected(response)
    assert response.status_code == 200, response.text
    assert response.json()["access_mode"] == "single"


@pytest.mark.parametrize("slash", SLASHES)
async def test_delete_slash(client: httpx.AsyncClient, slash: str) -> None:
    link = await create_link(client, "slash_delete")

    response = await client.delete(f"/api/links/{link['id']}{slash}")

    _not_redirected(response)
    assert response.status_code == 204
    assert await link_count(client) == 0


@pytest.mark.parametrize("slash", SLASHES)
async def test_unknown_id_slash(client: httpx.AsyncClient, slash: str) -> None:
    response = await client.get(f"/api/links/{uuid.uuid4()}{slash}")

    _not_redirected(response)
    check_error(response, status=404, code="not_found", message="Not found.")


async def test_double_slash_list(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "double_slash")

    response = await client.get("http://testserver//api/links/")

    assert response.status_code == 200, response.text
    assert response.json()["results"] == [link]


async def test_double_slash_register_and_detail(client: httpx.AsyncClient) -> None:
    created = await client.post("http://testserver//api/links/", json=link_body("double"))
    assert created.status_code == 201, created.text
    link_id = created.json()["id"]

    response = await client.get(f"http://testserver//api//links//{link_id}//")

    assert response.status_code == 200, response.text
    assert response.json() == created.json()


# Pagination -----------------------------------------------------------------------------------


async def test_default_page_size(app: VinculoApp, client: httpx.AsyncClient) -> None:
    await _insert_links(app, "tenant-a", 101)

    response = await client.get("/api/links/")

    body = response.json()
    assert body["count"] == 101
    assert len(body["results"]) == 100
    assert body["next"] == "http://testserver/api/links/?page=2"
    assert body["previous"] is None


@pytest.mark.parametrize(
    ("page_size", "expected"),
    [("0", 1), ("-5", 1), ("1", 1), ("999", 999), ("1000", 1000), ("5000", 1000), ("abc", 100)],
)
async def test_page_size_clamped(
    app: VinculoApp, client: httpx.AsyncClient, page_size: str, expected: int
) -> None:
    await _insert_links(app, "tenant-a", 1001)

    response = await client.get("/api/links/", params={"page_size": page_size})

    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == expected
    assert response.json()["count"] == 1001


async def test_next_keeps_query(client: httpx.AsyncClient) -> None:
    for index in range(3):
        await create_link(client, f"paged_{index}", external_id=f"ext-{index}")
    params: list[tuple[str, Any]] = [
        ("page_size", "1"),
        ("institution", PLAIN_BANK),
        ("external_id__in", "ext-0"),
        ("external_id__in", "ext-1,ext-2"),
        ("fields", "id,external_id"),
    ]

    response = await client.get("/api/links/", params=params)

    body = response.json()
    next_url = urlsplit(body["next"])
    assert body["count"] == 3
    assert f"{next_url.scheme}://{next_url.netloc}{next_url.path}" == (
        "http://testserver/api/links/"
    )
    assert sorted(parse_qsl(next_url.query)) == sorted([*params, ("page", "2")])


async def test_previous_keeps_query(client: httpx.AsyncClient) -> None:
    for index in range(3):
        await create_link(client, f"back_{index}")
    params = {"page_size": "1", "status": "valid", "page": "3"}

    response = await client.get("/api/links/", params=params)

    body = response.json()
    previous = urlsplit(body["previous"])
    assert body["next"] is None
    assert f"{previous.scheme}://{previous.netloc}{previous.path}" == (
        "http://testserver/api/links/"
    )
    assert dict(parse_qsl(previous.query)) == {"page_size": "1", "status": "valid", "page": "2"}


async def test_previous_of_page_two(client: httpx.AsyncClient) -> None:
    for index in range(2):
        await create_link(client, f"second_{index}")

    response = await client.get("/api/links/", params={"page_size": "1", "page": "2"})

    previous = response.json()["previous"]
    first = await client.get(previous)
    assert first.status_code == 200
    assert first.json()["previous"] is None
    assert len(first.json()["results"]) == 1


async def test_follow_next_visits_every_link(client: httpx.AsyncClient) -> None:
    created = {(await create_link(client, f"walk_{index}"))["id"] for index in range(5)}
    url: str | None = "/api/links/?page_size=2&fields=id"
    seen: list[str] = []

    for _ in range(10):
        if url is None:
            break
        response = await client.get(url)
        assert response.status_code == 200, response.text
        seen.extend(item["id"] for item in response.json()["results"])
        url = response.json()["next"]

    assert url is None, "the next chain did not end within 10 pages"
    assert len(seen) == len(created)
    assert set(seen) == created


async def test_newest_first(client: httpx.AsyncClient, clock: Clock) -> None:
    first = await create_link(client, "older")
    clock.advance(timedelta(seconds=1))
    second = await create_link(client, "newer")

    response = await client.get("/api/links/?fields=id")

    assert [item["id"] for item in response.json()["results"]] == [second["id"], first["id"]]


async def test_last_page_then_past_end(client: httpx.AsyncClient) -> None:
    for index in range(3):
        await create_link(client, f"edge_{index}")

    last = await client.get("/api/links/?page_size=2&page=2")
    past = await client.get("/api/links/?page_size=2&page=3")

    assert last.status_code == 200
    assert len(last.json()["results"]) == 1
    assert last.json()["next"] is None
    check_error(past, status=404, code="not_found", message="Invalid page.")


async def test_empty_first_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/links/?page=1")

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


# Filters --------------------------------------------------------------------------------------


@pytest.fixture
async def dated_links(client: httpx.AsyncClient, clock: Clock) -> list[dict[str, Any]]:
    """Five links created at noon UTC on five consecutive days, oldest first."""
    now = clock.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= now:
        noon += timedelta(days=1)
    clock.advance(noon - now)
    links = []
    for index in range(5):
        links.append(await create_link(client, f"day_{index}", external_id=f"ext-{index}"))
        clock.advance(timedelta(days=1))
    return links


def _day(link: dict[str, Any]) -> str:
    return str(link["created_at"][:10])


def _expected(links: list[dict[str, Any]], indexes: list[int]) -> set[str]:
    return {links[index]["id"] for index in indexes}


DATE_LOOKUPS = [
    ("created_at", [2]),
    ("created_at__gt", [3, 4]),
    ("created_at__gte", [2, 3, 4]),
    ("created_at__lt", [0, 1]),
    ("created_at__lte", [0, 1, 2]),
]


@pytest.mark.parametrize(("parameter", "indexes"), DATE_LOOKUPS)
async def test_created_at_date_lookup(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]], parameter: str, indexes: list[int]
) -> None:
    response = await client.get("/api/links/", params={parameter: _day(dated_links[2])})

    assert _ids(response) == _expected(dated_links, indexes)


@pytest.mark.parametrize(("parameter", "indexes"), DATE_LOOKUPS)
async def test_created_at_datetime_lookup(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]], parameter: str, indexes: list[int]
) -> None:
    response = await client.get("/api/links/", params={parameter: dated_links[2]["created_at"]})

    assert _ids(response) == _expected(dated_links, indexes)


@pytest.mark.parametrize(("parameter", "indexes"), DATE_LOOKUPS)
async def test_created_at_offset_lookup(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]], parameter: str, indexes: list[int]
) -> None:
    moment = _parse_time(dated_links[2]["created_at"])
    in_bogota = moment.astimezone(timezone(timedelta(hours=-5)))

    response = await client.get("/api/links/", params={parameter: in_bogota.isoformat()})

    assert _ids(response) == _expected(dated_links, indexes)


async def test_created_at_range_dates(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]]
) -> None:
    bounds = f"{_day(dated_links[1])},{_day(dated_links[3])}"

    response = await client.get("/api/links/", params={"created_at__range": bounds})

    assert _ids(response) == _expected(dated_links, [1, 2, 3])


async def test_created_at_range_datetimes(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]]
) -> None:
    bounds = f"{dated_links[1]['created_at']},{dated_links[3]['created_at']}"

    response = await client.get("/api/links/", params={"created_at__range": bounds})

    assert _ids(response) == _expected(dated_links, [1, 2, 3])


LIST_LOOKUPS = [
    pytest.param("id__in", "id", [0, 3], False, id="id__in comma"),
    pytest.param("id__in", "id", [0, 3], True, id="id__in repeated"),
    pytest.param("external_id__in", "external_id", [1, 4], False, id="external_id__in comma"),
    pytest.param("external_id__in", "external_id", [1, 4], True, id="external_id__in repeated"),
    pytest.param(
        "institution_user_id__in", "institution_user_id", [2, 3], False, id="user id comma"
    ),
    pytest.param(
        "institution_user_id__in", "institution_user_id", [2, 3], True, id="user id repeated"
    ),
    pytest.param("id", "id", [4], False, id="id exact"),
    pytest.param("external_id", "external_id", [0], False, id="external_id exact"),
    pytest.param(
        "institution_user_id", "institution_user_id", [1], False, id="institution_user_id exact"
    ),
]


@pytest.mark.parametrize(("parameter", "key", "indexes", "repeated"), LIST_LOOKUPS)
async def test_value_lookup(
    client: httpx.AsyncClient,
    dated_links: list[dict[str, Any]],
    parameter: str,
    key: str,
    indexes: list[int],
    repeated: bool,
) -> None:
    values = [dated_links[index][key] for index in indexes]
    params: list[tuple[str, Any]] = (
        [(parameter, value) for value in values] if repeated else [(parameter, ",".join(values))]
    )

    response = await client.get("/api/links/", params=params)

    assert _ids(response) == _expected(dated_links, indexes)


async def test_status_lookups(client: httpx.AsyncClient) -> None:
    valid = await create_link(client, "status_valid")
    pending = await start_mfa(client)

    exact = await client.get("/api/links/", params={"status": "unconfirmed"})
    both = await client.get("/api/links/", params={"status__in": "valid,unconfirmed"})
    repeated = await client.get("/api/links/", params=[("status__in", "valid")])
    neither = await client.get("/api/links/", params={"status__in": "invalid,token_required"})

    assert _ids(exact) == {pending["link"]}
    assert _ids(both) == {valid["id"], pending["link"]}
    assert _ids(repeated) == {valid["id"]}
    assert _ids(neither) == set()


async def test_institution_lookups(client: httpx.AsyncClient) -> None:
    plain = await create_link(client, "inst_plain")
    other = await create_link(client, "inst_other", institution="gringotts_mx_retail")

    exact = await client.get("/api/links/", params={"institution": PLAIN_BANK})
    both = await client.get(
        "/api/links/", params={"institution__in": f"{PLAIN_BANK},gringotts_mx_retail"}
    )

    assert _ids(exact) == {plain["id"]}
    assert _ids(both) == {plain["id"], other["id"]}


async def test_access_mode_and_refresh_rate(client: httpx.AsyncClient) -> None:
    recurrent = await create_link(client, "mode_recurrent")
    single = await create_link(client, "mode_single", access_mode="single")

    by_mode = await client.get("/api/links/", params={"access_mode": "single"})
    by_rate = await client.get("/api/links/", params={"refresh_rate": "7d"})

    assert _ids(by_mode) == {single["id"]}
    assert _ids(by_rate) == {recurrent["id"]}


async def test_created_by_not_in(app: VinculoApp, client: httpx.AsyncClient) -> None:
    mine = await create_link(client, "by_first_key")
    async with client_with(app, auth=await new_api_key(app, "tenant-a")) as second_key:
        theirs = await create_link(second_key, "by_second_key")

    excluded = await client.get("/api/links/", params={"created_by__not_in": mine["created_by"]})
    none_excluded = await client.get(
        "/api/links/", params={"created_by__not_in": str(uuid.uuid4())}
    )
    both_excluded = await client.get(
        "/api/links/",
        params=[
            ("created_by__not_in", mine["created_by"]),
            ("created_by__not_in", theirs["created_by"]),
        ],
    )

    assert mine["created_by"] != theirs["created_by"]
    assert _ids(excluded) == {theirs["id"]}
    assert _ids(none_excluded) == {mine["id"], theirs["id"]}
    assert _ids(both_excluded) == set()


async def test_filters_combine(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]]
) -> None:
    params = {
        "created_at__gte": _day(dated_links[1]),
        "external_id__in": "ext-0,ext-1,ext-4",
        "status": "valid",
    }

    response = await client.get("/api/links/", params=params)

    assert _ids(response) == _expected(dated_links, [1, 4])


async def test_unknown_parameter_ignored(
    client: httpx.AsyncClient, dated_links: list[dict[str, Any]]
) -> None:
    response = await client.get("/api/links/", params={"colour": "blue", "id__regex": ".*"})

    assert _ids(response) == _expected(dated_links, [0, 1, 2, 3, 4])


# fields and omit ------------------------------------------------------------------------------


async def test_list_fields(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "shaped")

    response = await client.get("/api/links/?fields=id,status")

    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [{"id": link["id"], "status": "valid"}]


async def test_list_omit(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "omitted")

    response = await client.get("/api/links/", params=[("omit", "id"), ("omit", "status,stale_in")])

    expected = {
        key: value for key, value in link.items() if key not in {"id", "status", "stale_in"}
    }
    assert response.json()["results"] == [expected]


async def test_detail_fields(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "detail_fields")

    response = await client.get(
        f"/api/links/{link['id']}/", params=[("fields", "id"), ("fields", "fetch_resources")]
    )

    assert response.json() == {"id": link["id"], "fetch_resources": []}


async def test_detail_omit(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "detail_omit")

    response = await client.get(f"/api/links/{link['id']}/?omit=created_by,institution_user_id")

    expected = {
        key: value
        for key, value in link.items()
        if key not in {"created_by", "institution_user_id"}
    }
    assert response.json() == expected


async def test_fields_and_omit_together(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "both_shapes")

    response = await client.get(
        f"/api/links/{link['id']}/?fields=id,status,institution&omit=status"
    )

    assert response.json() == {"id": link["id"], "institution": PLAIN_BANK}


async def test_fields_unknown_names(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "unknown_fields")

    response = await client.get(f"/api/links/{link['id']}/?fields=id,colour")

    assert response.json() == {"id": link["id"]}


async def test_register_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/links/?fields=id,status", json=link_body("post_fields"))

    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id", "status"}


async def test_put_and_modify_omit(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "write_omit")

    updated = await client.put(f"/api/links/{link['id']}/?omit=id", json={"password": "p"})
    modified = await client.patch(
        f"/api/links/{link['id']}/?fields=access_mode", json={"access_mode": "single"}
    )

    assert "id" not in updated.json()
    assert set(updated.json()) == LINK_KEYS - {"id"}
    assert modified.json() == {"access_mode": "single"}


async def test_resume_fields(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        "/api/links/?fields=status",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )

    assert response.json() == {"status": "valid"}


# Unknown body keys ----------------------------------------------------------------------------


async def test_register_ignores_unknown_keys(client: httpx.AsyncClient) -> None:
    body = link_body("extra_keys", save_data=True, colour="blue", nested={"a": [1, 2]})

    response = await client.post("/api/links/", json=body)

    assert response.status_code == 201, response.text
    assert set(response.json()) == LINK_KEYS


async def test_put_ignores_unknown_keys(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "put_extra")

    response = await client.put(
        f"/api/links/{link['id']}/", json={"password": "p", "save_data": True, "id": "x"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == link["id"]


async def test_modify_ignores_unknown_keys(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "patch_extra")

    response = await client.patch(
        f"/api/links/{link['id']}/",
        json={"access_mode": "single", "status": "invalid", "institution": "narnia"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"
    assert response.json()["institution"] == PLAIN_BANK


async def test_resume_ignores_unknown_keys(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        "/api/links/",
        json={
            "session": challenge["session"],
            "link": challenge["link"],
            "token": VALID_TOKEN,
            "save_data": True,
        },
    )

    assert response.status_code == 200, response.text


# Tenant isolation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", None),
        ("PUT", {"password": "p"}),
        ("PATCH", {"access_mode": "single"}),
        ("DELETE", None),
    ],
)
async def test_other_tenant_gets_404(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    method: str,
    body: dict[str, Any] | None,
) -> None:
    link = await create_link(client, "private")

    response = await other_client.request(method, f"/api/links/{link['id']}/", json=body)

    check_error(response, status=404, code="not_found", message="Not found.")
    unchanged = await client.get(f"/api/links/{link['id']}/")
    assert unchanged.json() == link


async def test_other_tenant_list_empty(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    link = await create_link(client, "hidden")
    queries = [
        {},
        {"id": link["id"]},
        {"id__in": link["id"]},
        {"institution_user_id": link["institution_user_id"]},
        {"institution": PLAIN_BANK},
        {"created_by__not_in": str(uuid.uuid4())},
    ]

    for query in queries:
        response = await other_client.get("/api/links/", params=query)
        assert response.json()["count"] == 0, query
        assert response.json()["results"] == [], query


async def test_same_user_in_two_tenants(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    mine = await create_link(client, "shared_user")

    theirs = await create_link(other_client, "shared_user")

    assert theirs["id"] != mine["id"]
    assert theirs["institution_user_id"] != mine["institution_user_id"]
    assert await link_count(client) == 1
    assert await link_count(other_client) == 1
