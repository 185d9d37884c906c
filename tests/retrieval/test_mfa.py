"""The MFA flow of data retrievals: 428 `token_required`, then PATCH on the same collection.

The sandbox user `mfa_data` logs in normally but gets a 428 on every data request that
carries no token. The token 123456 completes the challenge.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import SESSION_ID, VALID_TOKEN, check_error
from tests.retrieval.calls import (
    RESOURCES,
    bank_link,
    count,
    ids,
    iso,
    retrieval_body,
    retrieve,
)
from vinculo.clock import Clock
from vinculo.config import Settings

TOKEN_REQUIRED = "A MFA token is required by the institution to login"
INVALID_MFA_TOKEN = "Invalid MFA token provided to login to the institution"
SESSION_EXPIRED = (
    "The session you are trying to resume has expired, please start again from "
    "register/retrieve endpoint"
)
OTHER_ENDPOINT = (
    "This session was not opened by a request on this endpoint; resume it where the "
    "428 response came from."
)
DATA_SESSION_ON_LINKS = (
    "This session belongs to a data retrieval; resume it with PATCH on the endpoint that "
    "answered 428."
)


@pytest.fixture
async def link(client: httpx.AsyncClient) -> dict[str, Any]:
    return await bank_link(client, "mfa_data")


async def _challenge(
    client: httpx.AsyncClient, resource: str, link_id: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/{resource}/", json=retrieval_body(resource, link_id, **extra)
    )
    item: dict[str, Any] = check_error(
        response, status=428, code="token_required", message=TOKEN_REQUIRED
    )
    return item


@pytest.mark.parametrize("resource", RESOURCES)
async def test_token_required_body(
    client: httpx.AsyncClient,
    settings: Settings,
    clock: Clock,
    link: dict[str, Any],
    resource: str,
) -> None:
    clock.advance(timedelta(hours=1))

    item = await _challenge(client, resource, link["id"])

    assert SESSION_ID.match(item["session"]), item
    assert item["expiry"] == settings.mfa_session_seconds
    assert item["link"] == link["id"]
    data = item["token_generation_data"]
    assert set(data) == {"instructions", "type", "value", "expects_user_input"}, data
    assert data["type"] == "numeric"
    assert data["expects_user_input"] is True
    assert len(data["value"]) == 5
    assert data["value"].isdigit(), data
    assert "123456" in data["instructions"]
    assert await count(client, resource, {"link": link["id"]}) == 0
    after = (await client.get(f"/api/links/{link['id']}/")).json()
    assert after["last_accessed_at"] == link["last_accessed_at"]


@pytest.mark.parametrize("resource", RESOURCES)
async def test_resume_on_same_collection(
    client: httpx.AsyncClient, clock: Clock, link: dict[str, Any], resource: str
) -> None:
    challenge = await _challenge(client, resource, link["id"], days=20)
    clock.advance(timedelta(minutes=2))

    response = await client.patch(
        f"/api/{resource}/",
        json={"session": challenge["session"], "token": VALID_TOKEN, "link": link["id"]},
    )

    assert response.status_code == 201, response.text
    resumed = response.json()
    direct = await retrieve(client, resource, link["id"], days=20, token=VALID_TOKEN)
    assert ids(resumed) == ids(direct)
    assert await count(client, resource, {"link": link["id"]}) == len(resumed)
    after = (await client.get(f"/api/links/{link['id']}/")).json()
    assert after["last_accessed_at"] == iso(clock.now())


async def test_resume_keeps_date_range(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    challenge = await _challenge(client, "transactions", link["id"], days=5)

    response = await client.patch(
        "/api/transactions/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    assert response.status_code == 201, response.text
    value_dates = {item["value_date"] for item in response.json()}
    body = retrieval_body("transactions", link["id"], days=5)
    assert min(value_dates) >= body["date_from"]
    assert max(value_dates) <= body["date_to"]


@pytest.mark.parametrize("save_data", [False, "false"])
async def test_resume_without_saving(
    client: httpx.AsyncClient, link: dict[str, Any], save_data: Any
) -> None:
    challenge = await _challenge(client, "accounts", link["id"])

    response = await client.patch(
        "/api/accounts/",
        json={"session": challenge["session"], "token": VALID_TOKEN, "save_data": save_data},
    )

    assert response.status_code == 200, response.text
    assert len(response.json()) == 3
    assert await count(client, "accounts", {"link": link["id"]}) == 0


async def test_token_up_front(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    accounts = await retrieve(client, "accounts", link["id"], token=VALID_TOKEN)

    assert len(accounts) == 3


async def test_wrong_token_keeps_session(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    challenge = await _challenge(client, "owners", link["id"])
    resume = {"session": challenge["session"], "link": link["id"]}

    wrong = await client.patch("/api/owners/", json={**resume, "token": "000000"})
    stored_after_wrong = await count(client, "owners", {"link": link["id"]})
    right = await client.patch("/api/owners/", json={**resume, "token": VALID_TOKEN})

    check_error(wrong, status=400, code="login_error", message=INVALID_MFA_TOKEN)
    assert stored_after_wrong == 0
    assert right.status_code == 201, right.text
    assert await count(client, "owners", {"link": link["id"]}) == 1


async def test_null_token_is_wrong_token(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    challenge = await _challenge(client, "owners", link["id"])

    response = await client.patch(
        "/api/owners/", json={"session": challenge["session"], "token": None}
    )

    check_error(response, status=400, code="login_error", message=INVALID_MFA_TOKEN)


async def test_session_used_once(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    challenge = await _challenge(client, "accounts", link["id"])
    resume = {"session": challenge["session"], "token": VALID_TOKEN}

    first = await client.patch("/api/accounts/", json=resume)
    second = await client.patch("/api/accounts/", json=resume)

    assert first.status_code == 201, first.text
    check_error(second, status=400, code="session_expired", message=SESSION_EXPIRED)


@pytest.mark.parametrize(("seconds_after", "expired"), [(1, True), (-1, False)])
async def test_session_expiry(
    client: httpx.AsyncClient,
    clock: Clock,
    link: dict[str, Any],
    seconds_after: int,
    expired: bool,
) -> None:
    challenge = await _challenge(client, "balances", link["id"])
    clock.advance(timedelta(seconds=challenge["expiry"] + seconds_after))

    response = await client.patch(
        "/api/balances/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    if expired:
        check_error(response, status=400, code="session_expired", message=SESSION_EXPIRED)
        assert await count(client, "balances", {"link": link["id"]}) == 0
    else:
        assert response.status_code == 201, response.text


async def test_session_on_other_collection(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    challenge = await _challenge(client, "transactions", link["id"])
    resume = {"session": challenge["session"], "token": VALID_TOKEN}

    for resource in ("accounts", "balances", "owners"):
        response = await client.patch(f"/api/{resource}/", json=resume)

        check_error(response, status=400, code="invalid", message=OTHER_ENDPOINT, field="session")
    on_links = await client.patch("/api/links/", json=resume)
    check_error(
        on_links, status=400, code="invalid", message=DATA_SESSION_ON_LINKS, field="session"
    )
    # The misdirected requests leave the session usable where it belongs.
    response = await client.patch("/api/transactions/", json=resume)
    assert response.status_code == 201, response.text


async def test_resume_after_account_deleted(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    accounts = await retrieve(client, "accounts", link["id"], token=VALID_TOKEN)
    account_id = accounts[0]["id"]
    challenge = await _challenge(client, "transactions", link["id"], account=account_id)
    deleted = await client.delete(f"/api/accounts/{account_id}/")

    response = await client.patch(
        "/api/transactions/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    assert deleted.status_code == 204
    check_error(
        response,
        status=400,
        code="does_not_exist",
        message=f'Invalid pk "{account_id}" - object does not exist.',
        field="account",
    )
    assert await count(client, "accounts", {"link": link["id"]}) == len(accounts) - 1
    assert await count(client, "transactions", {"link": link["id"]}) == 0


async def test_session_of_other_link(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    other = await bank_link(client)
    challenge = await _challenge(client, "accounts", link["id"])

    response = await client.patch(
        "/api/accounts/",
        json={"session": challenge["session"], "token": VALID_TOKEN, "link": other["id"]},
    )

    check_error(
        response,
        status=400,
        code="invalid",
        message="The session does not belong to this link.",
        field="link",
    )
    assert await count(client, "accounts", {"link": other["id"]}) == 0


async def test_session_of_other_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    challenge = await _challenge(client, "accounts", link["id"])
    resume = {"session": challenge["session"], "token": VALID_TOKEN}

    stolen = await other_client.patch("/api/accounts/", json=resume)
    own = await client.patch("/api/accounts/", json=resume)

    check_error(stolen, status=400, code="session_expired", message=SESSION_EXPIRED)
    assert own.status_code == 201, own.text


RESUME_BODY_ERRORS = [
    ({"token": VALID_TOKEN}, ("required", "This field is required.", "session")),
    ({"session": "xyz", "token": VALID_TOKEN}, ("invalid", "Enter a valid session id.", "session")),
    (
        {"session": uuid.uuid4().hex, "token": VALID_TOKEN},
        ("session_expired", SESSION_EXPIRED, None),
    ),
]


@pytest.mark.parametrize("resource", RESOURCES)
async def test_resume_body_errors(client: httpx.AsyncClient, resource: str) -> None:
    for body, expected in RESUME_BODY_ERRORS:
        response = await client.patch(f"/api/{resource}/", json=body)

        code, message, field = expected
        check_error(response, status=400, code=code, message=message, field=field)
