"""Every error the links and institutions endpoints return, checked through the in-process app.

Each test checks the HTTP status, Belvo's `code`, and the message where Belvo documents its
text. It checks `field` when one body field or query parameter is at fault, and its absence
otherwise. It also checks the envelope: a JSON list whose `request_id` is 32 hex characters
and equals the `X-Request-Id` header.
Failing requests must leave nothing behind, so most tests also count the links afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import (
    COLOMBIAN_BANK,
    FISCAL,
    MFA_BANK,
    PLAIN_BANK,
    SESSION_ID,
    UNKNOWN_LINK_ID,
    VALID_TOKEN,
    check_error,
    client_with,
    create_link,
    error_items,
    link_body,
    link_count,
    new_api_key,
    start_mfa,
)
from vinculo.app import VinculoApp
from vinculo.clock import Clock

REQUIRED = "This field is required."
MAY_NOT_BE_NULL = "This field may not be null."
MAY_NOT_BE_BLANK = "This field may not be blank."
NOT_FOUND = "Not found."
INVALID_CREDENTIALS = "Invalid credentials provided to login to the institution"
INVALID_MFA_TOKEN = "Invalid MFA token provided to login to the institution"
TOKEN_REQUIRED = "A MFA token is required by the institution to login"
SESSION_EXPIRED = (
    "The session you are trying to resume has expired, please start again from "
    "register/retrieve endpoint"
)
TOO_MANY_SESSIONS = (
    "Impossible to login, a session is already opened with the institution for these credentials"
)
BANK_RESOURCES = (
    "ACCOUNTS, BALANCES, INCOMES, OWNERS, RECURRING_EXPENSES, RISK_INSIGHTS, TRANSACTIONS"
)
# A placeholder base64 certificate or private key. The sandbox never parses it.
BASE64_BLOB = base64.b64encode(b"not a real key").decode()


@pytest.fixture
async def link(client: httpx.AsyncClient) -> dict[str, Any]:
    """A valid recurrent link of tenant A."""
    return await create_link(client, "error_tests_user")


# 401 authentication_failed --------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/"),
    ("GET", "/api/links/"),
    ("POST", "/api/links/"),
    ("PATCH", "/api/links/"),
    ("GET", "/api/links/{id}/"),
    ("PUT", "/api/links/{id}/"),
    ("PATCH", "/api/links/{id}/"),
    ("DELETE", "/api/links/{id}/"),
    ("GET", "/api/institutions/"),
    ("GET", "/api/institutions/1003/"),
]

# A body each write route would accept, so that only the credentials are at fault.
ROUTE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/links/"): link_body("auth_probe"),
    ("PATCH", "/api/links/"): {"session": "0" * 32, "token": VALID_TOKEN},
    ("PUT", "/api/links/{id}/"): {"password": "pass_valid"},
    ("PATCH", "/api/links/{id}/"): {"access_mode": "single"},
}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _auth_header(kind: str, secret_id: str, password: str) -> dict[str, str]:
    """Return the `Authorization` header of one kind of bad credentials."""
    headers = {
        "missing": {},
        "wrong_password": {"Authorization": _basic(secret_id, password + "x")},
        "unknown_id": {"Authorization": _basic(str(uuid.uuid4()), password)},
        "not_base64": {"Authorization": "Basic !!!not-base64!!!"},
        "no_colon": {
            "Authorization": "Basic " + base64.b64encode((secret_id + password).encode()).decode()
        },
        "bearer_scheme": {"Authorization": f"Bearer {password}"},
        "empty_basic": {"Authorization": "Basic "},
    }
    return headers[kind]


AUTH_FAILURES = [
    "missing",
    "wrong_password",
    "unknown_id",
    "not_base64",
    "no_colon",
    "bearer_scheme",
    "empty_basic",
]


@pytest.mark.parametrize("kind", AUTH_FAILURES)
@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_bad_credentials_rejected(
    app: VinculoApp,
    client: httpx.AsyncClient,
    link: dict[str, Any],
    method: str,
    path: str,
    kind: str,
) -> None:
    secret_id, password = await new_api_key(app, "tenant-a")
    url = path.format(id=link["id"])
    body = ROUTE_BODIES.get((method, path))

    async with client_with(app, headers=_auth_header(kind, secret_id, password)) as stranger:
        response = await stranger.request(method, url, json=body)

    check_error(response, status=401, code="authentication_failed", message="Invalid Secret Keys")
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link
    assert await link_count(client) == 1


# 404 not_found --------------------------------------------------------------------------------

NOT_FOUND_REQUESTS = [
    ("GET", f"/api/links/{UNKNOWN_LINK_ID}/", None),
    ("PUT", f"/api/links/{UNKNOWN_LINK_ID}/", {"password": "pass_valid"}),
    ("PATCH", f"/api/links/{UNKNOWN_LINK_ID}/", {"access_mode": "single"}),
    ("DELETE", f"/api/links/{UNKNOWN_LINK_ID}/", None),
    ("GET", "/api/links/consequa/", None),
    ("PUT", "/api/links/consequa/", {"password": "pass_valid"}),
    ("PATCH", "/api/links/consequa/", {"access_mode": "single"}),
    ("DELETE", "/api/links/consequa/", None),
    ("GET", "/api/links/abc/def/", None),
    ("GET", "/api/nope/", None),
    ("POST", "/api/nope/", {}),
    ("GET", "/api/institutions/abc/", None),
    ("GET", "/api/institutions/999999/", None),
    ("GET", "/api/institutions/-1/", None),
    ("GET", "/api/institutions/erebor_mx_retail/", None),
]


@pytest.mark.parametrize(("method", "path", "body"), NOT_FOUND_REQUESTS)
async def test_unknown_resource_not_found(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, path, json=body)

    check_error(response, status=404, code="not_found", message=NOT_FOUND)


OTHER_TENANT_REQUESTS = [
    ("GET", None),
    ("PUT", {"password": "pass_valid"}),
    ("PATCH", {"access_mode": "single"}),
    ("DELETE", None),
]


@pytest.mark.parametrize(("method", "body"), OTHER_TENANT_REQUESTS)
async def test_other_tenant_link_not_found(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    link: dict[str, Any],
    method: str,
    body: dict[str, Any] | None,
) -> None:
    response = await other_client.request(method, f"/api/links/{link['id']}/", json=body)

    check_error(response, status=404, code="not_found", message=NOT_FOUND)
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link


# 405 method_not_allowed -----------------------------------------------------------------------

NOT_ALLOWED = [
    ("POST", "/api/links/{id}/"),
    ("PUT", "/api/links/"),
    ("DELETE", "/api/links/"),
    ("POST", "/api/institutions/"),
    ("PUT", "/api/institutions/1003/"),
    ("DELETE", "/api/institutions/1003/"),
]


@pytest.mark.parametrize(("method", "path"), NOT_ALLOWED)
async def test_wrong_method_not_allowed(
    client: httpx.AsyncClient, link: dict[str, Any], method: str, path: str
) -> None:
    response = await client.request(method, path.format(id=link["id"]), json={})

    check_error(
        response,
        status=405,
        code="method_not_allowed",
        message=f'Method "{method}" not allowed.',
    )


async def test_not_allowed_without_slash(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    response = await client.post(f"/api/links/{link['id']}", json={})

    check_error(
        response, status=405, code="method_not_allowed", message='Method "POST" not allowed.'
    )


# 400 on the register body ---------------------------------------------------------------------


def _without(key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != key}


COLOMBIAN_BODY = link_body("1020304050", institution=COLOMBIAN_BANK)
FISCAL_BODY = link_body("XAXX010101000", institution=FISCAL)


def _case(case_id: str, body: Any, code: str, message: str | None, field: str | None) -> Any:
    return pytest.param(body, code, message, field, id=case_id)


REGISTER_FIELD_ERRORS = [
    _case(
        "institution missing",
        _without("institution", link_body()),
        "required",
        REQUIRED,
        "institution",
    ),
    _case("username missing", _without("username", link_body()), "required", REQUIRED, "username"),
    _case("password missing", _without("password", link_body()), "required", REQUIRED, "password"),
    _case("username_type missing", COLOMBIAN_BODY, "required", REQUIRED, "username_type"),
    _case("institution null", link_body(institution=None), "null", MAY_NOT_BE_NULL, "institution"),
    _case("username null", link_body(username=None), "null", MAY_NOT_BE_NULL, "username"),
    _case("password null", link_body(password=None), "null", MAY_NOT_BE_NULL, "password"),
    _case("access_mode null", link_body(access_mode=None), "null", MAY_NOT_BE_NULL, "access_mode"),
    _case("institution blank", link_body(institution=""), "blank", MAY_NOT_BE_BLANK, "institution"),
    _case("username blank", link_body(""), "blank", MAY_NOT_BE_BLANK, "username"),
    _case("password blank", link_body(password=""), "blank", MAY_NOT_BE_BLANK, "password"),
    _case(
        "access_mode bogus",
        link_body(access_mode="bogus"),
        "invalid_choice",
        '"bogus" is not a valid choice.',
        "access_mode",
    ),
    _case(
        "username_type 999",
        {**COLOMBIAN_BODY, "username_type": "999"},
        "invalid_choice",
        '"999" is not a valid choice.',
        "username_type",
    ),
    _case(
        "username_type abc",
        {**COLOMBIAN_BODY, "username_type": "abc"},
        "invalid_choice",
        '"abc" is not a valid choice.',
        "username_type",
    ),
    _case(
        "credentials_storage forever",
        link_body(credentials_storage="forever"),
        "invalid",
        None,
        "credentials_storage",
    ),
    _case(
        "credentials_storage 0d",
        link_body(credentials_storage="0d"),
        "invalid",
        None,
        "credentials_storage",
    ),
    _case(
        "credentials_storage 366d",
        link_body(credentials_storage="366d"),
        "invalid",
        None,
        "credentials_storage",
    ),
    _case("stale_in 0d", link_body(stale_in="0d"), "invalid", None, "stale_in"),
    _case(
        "external_id too short",
        link_body(external_id="ab"),
        "min_length",
        "Ensure this field has at least 3 characters.",
        "external_id",
    ),
    _case("external_id space", link_body(external_id="a b c"), "invalid", None, "external_id"),
    _case("external_id accents", link_body(external_id="ünï"), "invalid", None, "external_id"),
    _case(
        "fetch_historical not boolean",
        link_body(fetch_historical="maybe"),
        "invalid",
        "Must be a valid boolean.",
        "fetch_historical",
    ),
    _case(
        "fetch_resources string",
        link_body(fetch_resources="ACCOUNTS"),
        "not_a_list",
        'Expected a list but got type "str".',
        "fetch_resources",
    ),
    _case(
        "fetch_resources unknown name",
        link_body(fetch_resources=["NOPE"]),
        "invalid_choice",
        '"NOPE" is not a valid choice.',
        "fetch_resources",
    ),
    _case(
        "certificate not base64",
        {**FISCAL_BODY, "certificate": "!!!", "private_key": BASE64_BLOB},
        "invalid",
        None,
        "certificate",
    ),
    _case(
        "private_key not base64",
        {**FISCAL_BODY, "certificate": BASE64_BLOB, "private_key": "%%%"},
        "invalid",
        None,
        "private_key",
    ),
    _case(
        "certificate without private_key",
        {**FISCAL_BODY, "certificate": BASE64_BLOB},
        "required",
        None,
        "private_key",
    ),
    _case(
        "private_key without certificate",
        {**FISCAL_BODY, "private_key": BASE64_BLOB},
        "required",
        None,
        "certificate",
    ),
    _case(
        "username against form validation",
        {**FISCAL_BODY, "username": "not-an-rfc"},
        "invalid",
        None,
        "username",
    ),
]


@pytest.mark.parametrize(("body", "code", "message", "field"), REGISTER_FIELD_ERRORS)
async def test_register_field_error(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    code: str,
    message: str | None,
    field: str,
) -> None:
    response = await client.post("/api/links/", json=body)

    check_error(response, status=400, code=code, message=message, field=field)
    assert await link_count(client) == 0


async def test_register_lists_every_missing_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/links/", json={})

    items = error_items(response, 400)
    assert [(item["code"], item["field"]) for item in items] == [
        ("required", "institution"),
        ("required", "username"),
    ]
    assert {item["message"] for item in items} == {REQUIRED}
    assert await link_count(client) == 0


MALFORMED_JSON = [
    pytest.param(b"{bad", id="unquoted key"),
    pytest.param(b'{"institution": ', id="truncated"),
    pytest.param(b'{"institution": "erebor_mx_retail",}', id="trailing comma"),
    pytest.param(b"\xff\xfe", id="not utf-8"),
]


@pytest.mark.parametrize("content", MALFORMED_JSON)
async def test_register_malformed_json(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(
        "/api/links/", content=content, headers={"content-type": "application/json"}
    )

    item = check_error(response, status=400, code="parse_error")
    assert item["message"].startswith("JSON parse error - "), item
    assert await link_count(client) == 0


@pytest.mark.parametrize(
    ("payload", "type_name"),
    [([1, 2], "list"), ("erebor_mx_retail", "str"), (42, "int")],
)
async def test_register_body_not_object(
    client: httpx.AsyncClient, payload: Any, type_name: str
) -> None:
    response = await client.post("/api/links/", json=payload)

    check_error(
        response,
        status=400,
        code="invalid",
        message=f"Invalid data. Expected a dictionary, but got {type_name}.",
    )
    assert await link_count(client) == 0


async def test_register_unknown_institution(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/links/", json=link_body(institution="narnia"))

    check_error(
        response,
        status=400,
        code="does_not_exist",
        message="Object with name=narnia does not exist.",
        field="institution",
    )
    assert await link_count(client) == 0


# 400 on the register rules --------------------------------------------------------------------

REGISTER_RULE_ERRORS = [
    pytest.param(
        link_body(credentials_storage="nostore"),
        "invalid_credentials_storage",
        "Recurrent links must store the credentials",
        None,
        id="recurrent nostore",
    ),
    pytest.param(
        link_body(access_mode="recurrent", credentials_storage="30d"),
        "invalid_credentials_storage",
        "Recurrent links must store the credentials",
        None,
        id="recurrent 30d",
    ),
    pytest.param(
        link_body(access_mode="single", credentials_storage="nostore"),
        "invalid_fetch_resources",
        "Single links without stored credentials must fetch resources",
        None,
        id="single nostore without fetch_resources",
    ),
    pytest.param(
        link_body(access_mode="single", credentials_storage="nostore", fetch_resources=[]),
        "invalid_fetch_resources",
        "Single links without stored credentials must fetch resources",
        None,
        id="single nostore with empty fetch_resources",
    ),
    pytest.param(
        link_body(access_mode="single", fetch_resources=["ACCOUNTS"]),
        "unsupported_operation",
        "For single links, you must set fetch_historical to true when using the resources "
        "request parameter.",
        None,
        id="single fetch_resources without fetch_historical",
    ),
    pytest.param(
        link_body(access_mode="single", fetch_resources=["ACCOUNTS"], fetch_historical=False),
        "unsupported_operation",
        "For single links, you must set fetch_historical to true when using the resources "
        "request parameter.",
        None,
        id="single fetch_resources with fetch_historical false",
    ),
    pytest.param(
        link_body(access_mode="single", fetch_resources=["INVOICES"], fetch_historical=True),
        "invalid",
        f"The institution only supports the following resources: {BANK_RESOURCES}",
        "resources",
        id="fetch_resources unsupported by the institution",
    ),
    pytest.param(
        link_body(encryption_key="client-secret"),
        "invalid",
        None,
        "encryption_key",
        id="encryption_key on a recurrent link",
    ),
]


@pytest.mark.parametrize(("body", "code", "message", "field"), REGISTER_RULE_ERRORS)
async def test_register_rule_error(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    code: str,
    message: str | None,
    field: str | None,
) -> None:
    response = await client.post("/api/links/", json=body)

    check_error(response, status=400, code=code, message=message, field=field)
    assert await link_count(client) == 0


async def test_register_duplicated(client: httpx.AsyncClient) -> None:
    first = await create_link(client, "twice")

    response = await client.post("/api/links/", json=link_body("twice"))

    item = check_error(response, status=400, code="duplicated", message="Link already exists")
    assert item["institution_user_id"] == first["institution_user_id"]
    assert await link_count(client) == 1


# Login failures of the sandbox ----------------------------------------------------------------

RESERVED_FAILURES = [
    ("login_error", 400, "login_error", INVALID_CREDENTIALS),
    (
        "locked_account",
        400,
        "login_error",
        "The user account is locked, user needs to contact the institution to unlock it.",
    ),
    ("too_many_sessions", 400, "too_many_sessions", TOO_MANY_SESSIONS),
    (
        "institution_down",
        400,
        "institution_down",
        "The financial institution is down, try again later",
    ),
    (
        "institution_unavailable",
        400,
        "institution_unavailable",
        "The financial institution is unavailable",
    ),
    (
        "request_timeout",
        408,
        "request_timeout",
        "The request timed out, you can retry asking for less data by changing your query "
        "parameters",
    ),
    (
        "unexpected_error",
        500,
        "unexpected_error",
        "Belvo is unable to process the request due to an internal system issue or to an "
        "unsupported response from an institution",
    ),
]


@pytest.mark.parametrize(("username", "status", "code", "message"), RESERVED_FAILURES)
async def test_reserved_username_fails(
    client: httpx.AsyncClient, username: str, status: int, code: str, message: str
) -> None:
    response = await client.post("/api/links/", json=link_body(username))

    check_error(response, status=status, code=code, message=message)
    assert await link_count(client) == 0


@pytest.mark.parametrize("institution", [PLAIN_BANK, MFA_BANK])
async def test_invalid_password_fails(client: httpx.AsyncClient, institution: str) -> None:
    body = link_body("mfa_default", institution=institution, password="pass_invalid")

    response = await client.post("/api/links/", json=body)

    check_error(response, status=400, code="login_error", message=INVALID_CREDENTIALS)
    assert await link_count(client) == 0


async def test_put_login_failure_keeps_link(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "put_failure")

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "pass_invalid"})

    check_error(response, status=400, code="login_error", message=INVALID_CREDENTIALS)
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link


async def test_concurrent_logins_too_many_sessions(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "login_slow")
    url = f"/api/links/{link['id']}/"

    responses = await asyncio.gather(
        client.put(url, json={"password": "pass_valid"}),
        client.put(url, json={"password": "pass_valid"}),
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 400], [response.text for response in responses]
    rejected = next(response for response in responses if response.status_code == 400)
    check_error(rejected, status=400, code="too_many_sessions", message=TOO_MANY_SESSIONS)


# 428 token_required and resuming --------------------------------------------------------------


async def test_token_required_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/links/", json=link_body("mfa_default", institution=MFA_BANK))

    item = check_error(response, status=428, code="token_required", message=TOKEN_REQUIRED)
    assert SESSION_ID.match(item["session"]), item
    assert type(item["expiry"]) is int, item
    assert item["expiry"] > 0, item
    assert str(uuid.UUID(item["link"])) == item["link"], item
    data = item["token_generation_data"]
    assert set(data) == {"instructions", "type", "value", "expects_user_input"}, data
    assert data["type"] == "numeric", data
    assert data["expects_user_input"] is True, data
    assert isinstance(data["instructions"], str), data
    assert data["value"].isdigit(), data
    created = await client.get(f"/api/links/{item['link']}/")
    assert created.status_code == 200
    assert created.json()["status"] == "unconfirmed"


async def test_resume_after_expiry(client: httpx.AsyncClient, clock: Clock) -> None:
    challenge = await start_mfa(client)
    clock.advance(timedelta(seconds=challenge["expiry"] + 1))

    response = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )

    check_error(response, status=400, code="session_expired", message=SESSION_EXPIRED)


async def test_resume_before_expiry(client: httpx.AsyncClient, clock: Clock) -> None:
    challenge = await start_mfa(client)
    clock.advance(timedelta(seconds=challenge["expiry"] - 1))

    response = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )

    assert response.status_code == 200, response.text


async def test_wrong_token_keeps_session(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)
    resume = {"session": challenge["session"], "link": challenge["link"]}

    wrong = await client.patch("/api/links/", json={**resume, "token": "000000"})
    right = await client.patch("/api/links/", json={**resume, "token": VALID_TOKEN})

    check_error(wrong, status=400, code="login_error", message=INVALID_MFA_TOKEN)
    assert right.status_code == 200, right.text
    assert right.json()["status"] == "valid"


async def test_resume_unknown_session(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        "/api/links/",
        json={"session": uuid.uuid4().hex, "link": challenge["link"], "token": VALID_TOKEN},
    )

    check_error(response, status=400, code="session_expired", message=SESSION_EXPIRED)


async def test_resume_other_tenant_session(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    challenge = await start_mfa(client)

    response = await other_client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )

    check_error(response, status=400, code="session_expired", message=SESSION_EXPIRED)
    status = await client.get(f"/api/links/{challenge['link']}/")
    assert status.json()["status"] == "unconfirmed"


@pytest.mark.parametrize("link_kind", ["unknown", "another link"])
async def test_resume_link_mismatch(client: httpx.AsyncClient, link_kind: str) -> None:
    challenge = await start_mfa(client)
    other = await create_link(client, "bystander")
    link_id = UNKNOWN_LINK_ID if link_kind == "unknown" else other["id"]

    response = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": link_id, "token": VALID_TOKEN},
    )

    check_error(response, status=400, code="invalid", field="link")
    status = await client.get(f"/api/links/{challenge['link']}/")
    assert status.json()["status"] == "unconfirmed"


RESUME_BODY_ERRORS = [
    pytest.param({}, "required", REQUIRED, "session", id="session missing"),
    pytest.param({"session": None}, "null", MAY_NOT_BE_NULL, "session", id="session null"),
    pytest.param({"session": "xyz"}, "invalid", None, "session", id="session malformed"),
]


@pytest.mark.parametrize(("body", "code", "message", "field"), RESUME_BODY_ERRORS)
async def test_resume_body_error(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    code: str,
    message: str | None,
    field: str,
) -> None:
    response = await client.patch("/api/links/", json=body)

    check_error(response, status=400, code=code, message=message, field=field)


async def test_resume_link_not_uuid(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": "nope", "token": VALID_TOKEN},
    )

    check_error(
        response, status=400, code="invalid", message='"nope" is not a valid UUID.', field="link"
    )


# PATCH /api/links/{id}/ and PUT /api/links/{id}/ ----------------------------------------------


async def test_access_mode_switch_without_credentials(client: httpx.AsyncClient) -> None:
    link = await create_link(
        client,
        "nostore_single",
        access_mode="single",
        credentials_storage="nostore",
        fetch_resources=["ACCOUNTS"],
        fetch_historical=True,
    )

    response = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "recurrent"})

    check_error(
        response,
        status=400,
        code="invalid_access_mode_switch",
        message="This link doesn't have stored credentials hence it can't be switched to "
        "recurrent mode",
    )
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link


MODIFY_BODY_ERRORS = [
    pytest.param({"access_mode": None}, "null", MAY_NOT_BE_NULL, "access_mode", id="null"),
    pytest.param({}, "required", REQUIRED, "access_mode", id="missing"),
    pytest.param(
        {"access_mode": "bogus"},
        "invalid_choice",
        '"bogus" is not a valid choice.',
        "access_mode",
        id="bogus",
    ),
]


@pytest.mark.parametrize(("body", "code", "message", "field"), MODIFY_BODY_ERRORS)
async def test_modify_body_error(
    client: httpx.AsyncClient,
    link: dict[str, Any],
    body: dict[str, Any],
    code: str,
    message: str,
    field: str,
) -> None:
    response = await client.patch(f"/api/links/{link['id']}/", json=body)

    check_error(response, status=400, code=code, message=message, field=field)
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link


async def test_modify_unsupported_fetch_resources(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    response = await client.patch(
        f"/api/links/{link['id']}/", json={"fetch_resources": ["INVOICES"]}
    )

    check_error(
        response,
        status=400,
        code="invalid",
        message=f"The institution only supports the following resources: {BANK_RESOURCES}",
        field="resources",
    )


@pytest.mark.parametrize(
    "encryption_key", [pytest.param("wrong-key", id="wrong"), pytest.param(None, id="missing")]
)
async def test_put_encryption_key_mismatch(
    client: httpx.AsyncClient, encryption_key: str | None
) -> None:
    link = await create_link(
        client, "sealed_by_client", access_mode="single", encryption_key="right-key"
    )
    body: dict[str, Any] = {"password": "new_password"}
    if encryption_key is not None:
        body["encryption_key"] = encryption_key

    response = await client.put(f"/api/links/{link['id']}/", json=body)

    check_error(response, status=400, code="invalid", field="encryption_key")
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link


async def test_put_encryption_key_on_recurrent(
    client: httpx.AsyncClient, link: dict[str, Any]
) -> None:
    response = await client.put(
        f"/api/links/{link['id']}/", json={"password": "pass_valid", "encryption_key": "k3y"}
    )

    check_error(response, status=400, code="invalid", field="encryption_key")


async def test_put_nostore_link(client: httpx.AsyncClient) -> None:
    link = await create_link(
        client,
        "nostore_put",
        access_mode="single",
        credentials_storage="nostore",
        fetch_resources=["ACCOUNTS"],
        fetch_historical=True,
    )

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "pass_valid"})

    check_error(response, status=400, code="validation_error")
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json() == link


async def test_put_unconfirmed_link(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.put(f"/api/links/{challenge['link']}/", json={"password": "pass_valid"})

    check_error(response, status=400, code="validation_error")


PUT_BODY_ERRORS = [
    pytest.param({"password": None}, "null", MAY_NOT_BE_NULL, "password", id="password null"),
    pytest.param({"password": ""}, "blank", MAY_NOT_BE_BLANK, "password", id="password blank"),
    pytest.param({"token": ""}, "blank", MAY_NOT_BE_BLANK, "token", id="token blank"),
]


@pytest.mark.parametrize(("body", "code", "message", "field"), PUT_BODY_ERRORS)
async def test_put_body_error(
    client: httpx.AsyncClient,
    link: dict[str, Any],
    body: dict[str, Any],
    code: str,
    message: str,
    field: str,
) -> None:
    response = await client.put(f"/api/links/{link['id']}/", json=body)

    check_error(response, status=400, code=code, message=message, field=field)


async def test_put_malformed_json(client: httpx.AsyncClient, link: dict[str, Any]) -> None:
    response = await client.put(
        f"/api/links/{link['id']}/", content=b"{oops", headers={"content-type": "application/json"}
    )

    item = check_error(response, status=400, code="parse_error")
    assert item["message"].startswith("JSON parse error - "), item


# No half-written state ------------------------------------------------------------------------


async def test_failed_reregistration_keeps_unconfirmed(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    retry = await client.post(
        "/api/links/",
        json=link_body("mfa_default", institution=MFA_BANK, password="pass_invalid"),
    )

    check_error(retry, status=400, code="login_error", message=INVALID_CREDENTIALS)
    pending = await client.get(f"/api/links/{challenge['link']}/")
    assert pending.status_code == 200, pending.text
    resumed = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )
    assert resumed.status_code == 200, resumed.text


# Query-string errors --------------------------------------------------------------------------

LINK_FILTER_ERRORS = [
    ("created_at__gte=notadate", "created_at__gte", None),
    ("created_at=2024-13-45", "created_at", None),
    ("created_at__range=2024-01-01", "created_at__range", None),
    ("id__in=xyz", "id__in", '"xyz" is not a valid UUID.'),
    ("id=xyz", "id", '"xyz" is not a valid UUID.'),
    ("created_by__not_in=nope", "created_by__not_in", '"nope" is not a valid UUID.'),
    (
        "status=bogus",
        "status",
        "Select a valid choice. bogus is not one of the available choices.",
    ),
    (
        "status__in=valid,bogus",
        "status__in",
        "Select a valid choice. bogus is not one of the available choices.",
    ),
    ("access_mode=sometimes", "access_mode", None),
    ("refresh_rate=1y", "refresh_rate", None),
]


@pytest.mark.parametrize(("query", "field", "message"), LINK_FILTER_ERRORS)
async def test_link_filter_invalid(
    client: httpx.AsyncClient, link: dict[str, Any], query: str, field: str, message: str | None
) -> None:
    response = await client.get(f"/api/links/?{query}")

    check_error(response, status=400, code="invalid", message=message, field=field)


INSTITUTION_FILTER_ERRORS = [
    ("status=bogus", "status", "bogus"),
    ("status__in=healthy,bogus", "status__in", "bogus"),
    ("type=x", "type", "x"),
    ("type__in=bank,x", "type__in", "x"),
]


@pytest.mark.parametrize(("query", "field", "value"), INSTITUTION_FILTER_ERRORS)
async def test_institution_filter_invalid(
    client: httpx.AsyncClient, query: str, field: str, value: str
) -> None:
    response = await client.get(f"/api/institutions/?{query}")

    check_error(
        response,
        status=400,
        code="invalid",
        message=f"Select a valid choice. {value} is not one of the available choices.",
        field=field,
    )


@pytest.mark.parametrize("path", ["/api/links/", "/api/institutions/"])
async def test_page_past_end(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{path}?page=999")

    check_error(response, status=404, code="not_found", message="Invalid page.")


@pytest.mark.parametrize("page", ["0", "-1", "abc"])
async def test_page_not_positive_integer(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(f"/api/links/?page={page}")

    check_error(response, status=404, code="not_found", message="Invalid page.")
