"""Errors of the request itself on the accounts, transactions, balances and owners endpoints.

Each test checks the HTTP status, Belvo's `code` and message, `field` or its absence, and the
envelope: a JSON list whose `request_id` is 32 hex characters and equals the `X-Request-Id`
header. Errors of the link's state and of the institution are in `test_link_errors.py`, and
the MFA flow is in `test_mfa.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import check_error, error_items, single_error
from tests.retrieval.calls import (
    DATED,
    RESOURCES,
    TODAY,
    UNKNOWN_ID,
    bank_link,
    count,
    retrieval_body,
    retrieve,
)

REQUIRED = "This field is required."
MAY_NOT_BE_NULL = "This field may not be null."
WRONG_DATE_FORMAT = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
NOT_FOUND = "Not found."


def _missing_pk(value: str) -> str:
    return f'Invalid pk "{value}" - object does not exist.'


@pytest.fixture
async def link(client: httpx.AsyncClient) -> dict[str, Any]:
    return await bank_link(client)


# 401 authentication_failed --------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
async def test_missing_credentials_rejected(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    stored = (await retrieve(client, resource, link["id"]))[0]
    requests = [
        ("POST", f"/api/{resource}/", retrieval_body(resource, link["id"])),
        ("PATCH", f"/api/{resource}/", {"session": "0" * 32, "token": "123456"}),
        ("GET", f"/api/{resource}/?link={link['id']}", None),
        ("GET", f"/api/{resource}/{stored['id']}/", None),
        ("DELETE", f"/api/{resource}/{stored['id']}/", None),
    ]

    for method, url, body in requests:
        response = await anonymous.request(method, url, json=body)

        check_error(
            response, status=401, code="authentication_failed", message="Invalid Secret Keys"
        )
    after = await client.get(f"/api/{resource}/{stored['id']}/")
    assert after.json() == stored


# 400 on the request body ----------------------------------------------------------------------

TODAY_TEXT = TODAY.isoformat()
BodyError = tuple[str, dict[str, Any], tuple[str, str, str | None]]
LINK_ERRORS: list[BodyError] = [
    ("link missing", {}, ("required", REQUIRED, "link")),
    ("link null", {"link": None}, ("null", MAY_NOT_BE_NULL, "link")),
    ("link not a uuid", {"link": "abc"}, ("invalid", '"abc" is not a valid UUID.', "link")),
    (
        "save_data not boolean",
        {"link": UNKNOWN_ID, "save_data": "maybe"},
        ("invalid", "Must be a valid boolean.", "save_data"),
    ),
]
DATE_ERRORS: list[BodyError] = [
    (
        "date_to with slashes",
        {"link": UNKNOWN_ID, "date_from": "2026-01-01", "date_to": "2026/01/05"},
        ("invalid", WRONG_DATE_FORMAT, "date_to"),
    ),
    (
        "date_from with a time",
        {"link": UNKNOWN_ID, "date_from": "2026-01-01T00:00:00", "date_to": TODAY_TEXT},
        ("invalid", WRONG_DATE_FORMAT, "date_from"),
    ),
    (
        "date_from on an impossible day",
        {"link": UNKNOWN_ID, "date_from": "2026-02-30", "date_to": TODAY_TEXT},
        ("invalid", WRONG_DATE_FORMAT, "date_from"),
    ),
    (
        "date_from as a number",
        {"link": UNKNOWN_ID, "date_from": 20260101, "date_to": TODAY_TEXT},
        ("invalid", WRONG_DATE_FORMAT, "date_from"),
    ),
    (
        "date_to null",
        {"link": UNKNOWN_ID, "date_from": TODAY_TEXT, "date_to": None},
        ("null", MAY_NOT_BE_NULL, "date_to"),
    ),
    (
        "account not a uuid",
        {"link": UNKNOWN_ID, "account": "zz", "date_from": TODAY_TEXT, "date_to": TODAY_TEXT},
        ("invalid", '"zz" is not a valid UUID.', "account"),
    ),
]
BODY_ERRORS: dict[str, list[BodyError]] = {
    "accounts": LINK_ERRORS,
    "owners": LINK_ERRORS,
    "transactions": [*LINK_ERRORS[2:], *DATE_ERRORS],
    "balances": [*LINK_ERRORS[2:], *DATE_ERRORS],
}


@pytest.mark.parametrize("resource", RESOURCES)
async def test_body_field_errors(client: httpx.AsyncClient, resource: str) -> None:
    for case_id, body, expected in BODY_ERRORS[resource]:
        dated = {"date_from": TODAY_TEXT, "date_to": TODAY_TEXT} if resource in DATED else {}
        response = await client.post(f"/api/{resource}/", json={**dated, **body})

        item = single_error(response, 400)
        assert (item["code"], item["message"], item.get("field")) == expected, case_id


@pytest.mark.parametrize("resource", DATED)
async def test_dated_body_lists_missing_fields(client: httpx.AsyncClient, resource: str) -> None:
    response = await client.post(f"/api/{resource}/", json={})

    items = error_items(response, 400)
    assert [(item["code"], item["field"]) for item in items] == [
        ("required", "link"),
        ("required", "date_from"),
        ("required", "date_to"),
    ]
    assert {item["message"] for item in items} == {REQUIRED}


@pytest.mark.parametrize("resource", RESOURCES)
async def test_body_not_json_object(client: httpx.AsyncClient, resource: str) -> None:
    malformed = await client.post(
        f"/api/{resource}/", content=b'{"link": ', headers={"content-type": "application/json"}
    )
    listed = await client.post(f"/api/{resource}/", json=[1])

    item = check_error(malformed, status=400, code="parse_error")
    assert item["message"].startswith("JSON parse error - "), item
    check_error(
        listed,
        status=400,
        code="invalid",
        message="Invalid data. Expected a dictionary, but got list.",
    )


# 400 does_not_exist ---------------------------------------------------------------------------


async def test_unknown_link(client: httpx.AsyncClient) -> None:
    for resource in RESOURCES:
        body = retrieval_body(resource, UNKNOWN_ID)

        response = await client.post(f"/api/{resource}/", json=body)

        check_error(
            response,
            status=400,
            code="does_not_exist",
            message=_missing_pk(UNKNOWN_ID),
            field="link",
        )


@pytest.mark.parametrize("resource", DATED)
async def test_account_not_of_link(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    other = await bank_link(client, "other_user")
    foreign = (await retrieve(client, "accounts", other["id"]))[0]

    for account_id in (UNKNOWN_ID, foreign["id"]):
        body = retrieval_body(resource, link["id"], account=account_id)
        response = await client.post(f"/api/{resource}/", json=body)

        check_error(
            response,
            status=400,
            code="does_not_exist",
            message=_missing_pk(account_id),
            field="account",
        )
    assert await count(client, resource, {"link": link["id"]}) == 0


# 400 on the date range ------------------------------------------------------------------------


def _range(days_back_from: int, days_back_to: int) -> dict[str, str]:
    """Return `date_from` and `date_to` as days before (negative: after) the frozen today."""
    return {
        "date_from": (TODAY - timedelta(days=days_back_from)).isoformat(),
        "date_to": (TODAY - timedelta(days=days_back_to)).isoformat(),
    }


DATE_RULE_ERRORS = [
    (
        "date_from after date_to",
        _range(3, 4),
        ("invalid", "date_from cannot be later than date_to.", "date_from"),
    ),
    (
        "date_to in two days",
        _range(0, -2),
        ("invalid", "date_to cannot be a future date (later than tomorrow in UTC).", "date_to"),
    ),
    (
        "range of 366 days",
        _range(366, 0),
        (
            "validation_error",
            "The date range cannot be longer than 365 days; split it into several requests.",
            None,
        ),
    ),
]
DATE_RULE_LIMITS = [
    ("date_to tomorrow", _range(0, -1)),
    ("range of 365 days", _range(365, 0)),
    ("one day", _range(0, 0)),
]


@pytest.mark.parametrize("resource", DATED)
async def test_date_rule_errors(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    for case_id, dates, expected in DATE_RULE_ERRORS:
        response = await client.post(f"/api/{resource}/", json={"link": link["id"], **dates})

        item = single_error(response, 400)
        assert (item["code"], item["message"], item.get("field")) == expected, case_id
    assert await count(client, resource, {"link": link["id"]}) == 0


@pytest.mark.parametrize("resource", DATED)
async def test_date_rule_limits_accepted(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    for case_id, dates in DATE_RULE_LIMITS:
        response = await client.post(f"/api/{resource}/", json={"link": link["id"], **dates})

        assert response.status_code == 201, (case_id, response.text)
        values = {item["value_date"] for item in response.json()}
        assert values, f"{case_id}: the sandbox user has data on every day of these ranges"
        assert min(values) >= dates["date_from"], case_id
        assert max(values) <= TODAY.isoformat(), case_id


# 404 not_found and 405 method_not_allowed -----------------------------------------------------

NOT_FOUND_IDS = [UNKNOWN_ID, "abc", "123", UNKNOWN_ID.replace("-", "")[:-1]]


async def test_unknown_id_not_found(client: httpx.AsyncClient) -> None:
    for resource in RESOURCES:
        for item_id in NOT_FOUND_IDS:
            for method in ("GET", "DELETE"):
                response = await client.request(method, f"/api/{resource}/{item_id}/")

                check_error(response, status=404, code="not_found", message=NOT_FOUND)


NOT_ALLOWED = [
    ("PUT", "/api/{resource}/"),
    ("DELETE", "/api/{resource}/"),
    ("POST", "/api/{resource}/{id}/"),
    ("PUT", "/api/{resource}/{id}/"),
    ("PATCH", "/api/{resource}/{id}/"),
]


@pytest.mark.parametrize("resource", RESOURCES)
async def test_wrong_method_not_allowed(
    client: httpx.AsyncClient, link: dict[str, Any], resource: str
) -> None:
    stored = (await retrieve(client, resource, link["id"]))[0]

    for method, path in NOT_ALLOWED:
        url = path.format(resource=resource, id=stored["id"])
        response = await client.request(method, url, json={})

        check_error(
            response,
            status=405,
            code="method_not_allowed",
            message=f'Method "{method}" not allowed.',
        )
    after = await client.get(f"/api/{resource}/{stored['id']}/")
    assert after.json() == stored
