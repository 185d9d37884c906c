"""Links, institutions and error bodies checked against Belvo's OpenAPI spec 1.35.0.

Each body is validated against the response schema that the spec declares for its operation
and status. It is also validated against the component schema for its object or error code,
with the keys that SDKs read made required. The tests skip unless the environment variable
VINCULO_BELVO_SPEC contains the path of the spec's YAML file.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.links.calls import (
    MFA_BANK,
    UNKNOWN_LINK_ID,
    VALID_TOKEN,
    create_link,
    link_body,
    start_mfa,
)
from tests.wire.spec import BelvoSpec, load_spec, to_json_schema, validation_errors
from vinculo.clock import Clock

LINK_KEYS = [
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
]
PAGE_KEYS = ["count", "next", "previous", "results"]
ERROR_KEYS = ["code", "message", "request_id"]
TOKEN_REQUIRED_KEYS = [*ERROR_KEYS, "session", "expiry", "link", "token_generation_data"]

# The component schema for each error code, where spec 1.35.0 has one. `login_error`,
# `duplicated`, `invalid_credentials_storage` and `invalid_fetch_resources` have none, so
# their bodies are checked against the operation's declared response only.
ERROR_COMPONENTS = {
    "authentication_failed": "UnauthorizedError",
    "not_found": "NotFoundError",
    "required": "ValidationError",
    "null": "ValidationError",
    "blank": "ValidationError",
    "invalid": "ValidationError",
    "invalid_choice": "ValidationError",
    "min_length": "ValidationError",
    "does_not_exist": "ValidationError",
    "parse_error": "ValidationError",
    "too_many_sessions": "TooManySessionsError",
    "session_expired": "SessionExpiredError",
    "institution_down": "InstitutionDownError",
    "institution_unavailable": "InstitutionUnavailableError",
    "unsupported_operation": "UnsupportedOperationError",
    "invalid_access_mode_switch": "InvalidAccessMode",
    "token_required": "TokenRequiredResponse",
    "unexpected_error": "UnexpectedError",
    "request_timeout": "RequestTimeoutError",
}


@pytest.fixture(scope="session")
def spec(belvo_spec_path: Path) -> BelvoSpec:
    return load_spec(belvo_spec_path)


def _conforms(instance: Any, schema: dict[str, Any]) -> None:
    errors = validation_errors(instance, schema)
    assert errors == [], errors


# The translation itself -----------------------------------------------------------------------


def test_nullable_enum_accepts_null() -> None:
    schema = to_json_schema({"type": "string", "nullable": True, "enum": ["a", "b"]})

    assert schema == {"type": ["string", "null"], "enum": ["a", "b", None]}


def test_nullable_without_type() -> None:
    schema = to_json_schema({"allOf": [{"type": "string"}], "nullable": True})

    assert schema == {"anyOf": [{"allOf": [{"type": "string"}]}, {"type": "null"}]}


def test_ref_siblings_dropped() -> None:
    schema = to_json_schema({"$ref": "#/components/schemas/Link", "description": "x"})

    assert schema == {"$ref": "#/components/schemas/Link"}


def test_property_named_example_kept() -> None:
    schema = to_json_schema(
        {"type": "object", "example": {}, "properties": {"example": {"type": "string"}}}
    )

    assert schema == {"type": "object", "properties": {"example": {"type": "string"}}}


def test_validator_rejects_bad_link(spec: BelvoSpec) -> None:
    schema = spec.component("Link", required=LINK_KEYS)
    link = {
        "id": "not-a-uuid",
        "institution": "erebor_mx_retail",
        "access_mode": "sometimes",
        "last_accessed_at": "yesterday",
        "created_at": "2024-01-01T00:00:00Z",
        "external_id": "ab",
        "institution_user_id": "short",
        "status": "valid",
        "created_by": "8d4d2f0e-6f7b-4d0e-9c55-2f1e0a6b9c11",
    }

    errors = validation_errors(link, schema)

    assert len(errors) == 6, errors


def test_validator_accepts_null_link_fields(spec: BelvoSpec) -> None:
    link = {
        "id": "8d4d2f0e-6f7b-4d0e-9c55-2f1e0a6b9c11",
        "institution": "erebor_mx_retail",
        "access_mode": None,
        "last_accessed_at": None,
        "created_at": "2024-01-01T00:00:00.123456Z",
        "external_id": None,
        "institution_user_id": "sooE7XJWEKypZJR603ecaWYk-8Ap0oD8Nr1pBQ4eG9c=",
        "status": "unconfirmed",
        "created_by": "8d4d2f0e-6f7b-4d0e-9c55-2f1e0a6b9c11",
        "refresh_rate": None,
    }

    assert validation_errors(link, spec.component("Link", required=LINK_KEYS)) == []


def test_error_components_exist(spec: BelvoSpec) -> None:
    missing = sorted(set(ERROR_COMPONENTS.values()) - set(spec.components["schemas"]))

    assert missing == []


# Links ----------------------------------------------------------------------------------------


def _check_link(spec: BelvoSpec, link: Any) -> None:
    _conforms(link, spec.component("Link", required=LINK_KEYS))


async def _link_variety(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Create links of every shape: recurrent, single, with external id, unconfirmed."""
    await create_link(client, "spec_recurrent")
    await create_link(client, "spec_single", access_mode="single", stale_in="30d")
    await create_link(client, "spec_external", external_id="crm-001")
    await start_mfa(client)
    response = await client.get("/api/links/")
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def test_register_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/links/", json=link_body("spec_register"))

    assert response.status_code == 201, response.text
    _conforms(response.json(), spec.response("/api/links/", "post", 201))
    _check_link(spec, response.json())


async def test_list_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    await _link_variety(client)

    response = await client.get("/api/links/")

    _conforms(response.json(), spec.response("/api/links/", "get", 200))
    _conforms(response.json(), spec.component("PaginatedResponseLink", required=PAGE_KEYS))
    for link in response.json()["results"]:
        _check_link(spec, link)


async def test_paged_list_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    await _link_variety(client)

    response = await client.get("/api/links/?page_size=1&page=2")

    assert response.json()["next"] is not None
    assert response.json()["previous"] is not None
    _conforms(response.json(), spec.component("PaginatedResponseLink", required=PAGE_KEYS))


async def test_detail_responses(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    links = await _link_variety(client)

    for link in links:
        response = await client.get(f"/api/links/{link['id']}/")
        _conforms(response.json(), spec.response("/api/links/{id}/", "get", 200))
        _check_link(spec, response.json())


async def test_resume_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )

    assert response.status_code == 200, response.text
    _conforms(response.json(), spec.response("/api/links/", "patch", 200))
    _check_link(spec, response.json())


async def test_update_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "spec_put")

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "p"})

    assert response.status_code == 200, response.text
    _conforms(response.json(), spec.response("/api/links/{id}/", "put", 200))
    _check_link(spec, response.json())


async def test_modify_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "spec_patch")

    response = await client.patch(f"/api/links/{link['id']}/", json={"access_mode": "single"})

    assert response.status_code == 200, response.text
    _conforms(response.json(), spec.response("/api/links/{id}/", "patch", 200))
    _check_link(spec, response.json())


# Institutions ---------------------------------------------------------------------------------

INSTITUTION_KEYS = [
    "id",
    "name",
    "type",
    "website",
    "display_name",
    "country_codes",
    "primary_color",
    "logo",
    "icon_logo",
    "text_logo",
    "form_fields",
    "features",
    "resources",
    "integration_type",
    "status",
]


async def test_institution_list_response(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    response = await client.get("/api/institutions/")

    _conforms(response.json(), spec.response("/api/institutions/", "get", 200))
    _conforms(response.json(), spec.component("InstitutionsPaginatedResponse", required=PAGE_KEYS))


async def test_institution_detail_responses(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    listed = await client.get("/api/institutions/?fields=id")

    for item in listed.json()["results"]:
        response = await client.get(f"/api/institutions/{item['id']}/")
        _conforms(response.json(), spec.response("/api/institutions/{id}/", "get", 200))
        _conforms(response.json(), spec.component("Institution", required=INSTITUTION_KEYS))


# Errors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clients:
    tenant: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    clock: Clock


Send = Callable[[Clients], Awaitable[httpx.Response]]


async def _anonymous_list(clients: Clients) -> httpx.Response:
    return await clients.anonymous.get("/api/links/")


async def _anonymous_register(clients: Clients) -> httpx.Response:
    return await clients.anonymous.post("/api/links/", json=link_body("nobody"))


async def _anonymous_resume(clients: Clients) -> httpx.Response:
    return await clients.anonymous.patch("/api/links/", json={"session": "0" * 32})


async def _anonymous_detail(clients: Clients) -> httpx.Response:
    return await clients.anonymous.get(f"/api/links/{UNKNOWN_LINK_ID}/")


async def _anonymous_delete(clients: Clients) -> httpx.Response:
    return await clients.anonymous.delete(f"/api/links/{UNKNOWN_LINK_ID}/")


async def _anonymous_institutions(clients: Clients) -> httpx.Response:
    return await clients.anonymous.get("/api/institutions/")


async def _anonymous_institution(clients: Clients) -> httpx.Response:
    return await clients.anonymous.get("/api/institutions/1003/")


async def _unknown_link(clients: Clients) -> httpx.Response:
    return await clients.tenant.get(f"/api/links/{UNKNOWN_LINK_ID}/")


async def _put_unknown_link(clients: Clients) -> httpx.Response:
    return await clients.tenant.put(f"/api/links/{UNKNOWN_LINK_ID}/", json={"password": "p"})


async def _patch_unknown_link(clients: Clients) -> httpx.Response:
    return await clients.tenant.patch(
        f"/api/links/{UNKNOWN_LINK_ID}/", json={"access_mode": "single"}
    )


async def _delete_unknown_link(clients: Clients) -> httpx.Response:
    return await clients.tenant.delete(f"/api/links/{UNKNOWN_LINK_ID}/")


async def _unknown_institution(clients: Clients) -> httpx.Response:
    return await clients.tenant.get("/api/institutions/999999/")


def _register(body: Any) -> Send:
    async def send(clients: Clients) -> httpx.Response:
        return await clients.tenant.post("/api/links/", json=body)

    return send


async def _register_malformed(clients: Clients) -> httpx.Response:
    return await clients.tenant.post(
        "/api/links/", content=b"{bad", headers={"content-type": "application/json"}
    )


async def _register_duplicate(clients: Clients) -> httpx.Response:
    await create_link(clients.tenant, "spec_twice")
    return await clients.tenant.post("/api/links/", json=link_body("spec_twice"))


async def _register_mfa(clients: Clients) -> httpx.Response:
    return await clients.tenant.post(
        "/api/links/", json=link_body("mfa_default", institution=MFA_BANK)
    )


async def _resume_two_step(clients: Clients) -> httpx.Response:
    challenge = await start_mfa(
        clients.tenant, username="mfa_two_step", institution="gotham_mx_business"
    )
    return await clients.tenant.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )


async def _resume_expired(clients: Clients) -> httpx.Response:
    challenge = await start_mfa(clients.tenant)
    clients.clock.advance(timedelta(seconds=challenge["expiry"] + 1))
    return await clients.tenant.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": VALID_TOKEN},
    )


async def _resume_wrong_token(clients: Clients) -> httpx.Response:
    challenge = await start_mfa(clients.tenant)
    return await clients.tenant.patch(
        "/api/links/",
        json={"session": challenge["session"], "link": challenge["link"], "token": "000000"},
    )


async def _resume_missing_session(clients: Clients) -> httpx.Response:
    return await clients.tenant.patch("/api/links/", json={})


async def _put_challenge(clients: Clients) -> httpx.Response:
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)
    created = await clients.tenant.post("/api/links/", json=body)
    return await clients.tenant.put(
        f"/api/links/{created.json()['id']}/", json={"password": "pass_valid"}
    )


async def _put_login_error(clients: Clients) -> httpx.Response:
    link = await create_link(clients.tenant, "spec_put_failure")
    return await clients.tenant.put(f"/api/links/{link['id']}/", json={"password": "pass_invalid"})


async def _put_wrong_key(clients: Clients) -> httpx.Response:
    link = await create_link(
        clients.tenant, "spec_sealed", access_mode="single", encryption_key="k-1"
    )
    return await clients.tenant.put(
        f"/api/links/{link['id']}/", json={"password": "p", "encryption_key": "k-2"}
    )


async def _switch_without_credentials(clients: Clients) -> httpx.Response:
    link = await create_link(
        clients.tenant,
        "spec_nostore",
        access_mode="single",
        credentials_storage="nostore",
        fetch_resources=["ACCOUNTS"],
        fetch_historical=True,
    )
    return await clients.tenant.patch(
        f"/api/links/{link['id']}/", json={"access_mode": "recurrent"}
    )


async def _modify_null(clients: Clients) -> httpx.Response:
    link = await create_link(clients.tenant, "spec_null_mode")
    return await clients.tenant.patch(f"/api/links/{link['id']}/", json={"access_mode": None})


async def _bad_filter(clients: Clients) -> httpx.Response:
    return await clients.tenant.get("/api/links/?status=bogus")


async def _page_past_end(clients: Clients) -> httpx.Response:
    return await clients.tenant.get("/api/links/?page=9")


@dataclass(frozen=True)
class ErrorCase:
    """One request that fails, and the spec operation whose responses describe the failure."""

    send: Send
    status: int
    code: str
    path: str | None = None
    method: str | None = None


LINKS = "/api/links/"
LINK = "/api/links/{id}/"
ERROR_CASES = [
    pytest.param(
        ErrorCase(_anonymous_list, 401, "authentication_failed", LINKS, "get"), id="401 list"
    ),
    pytest.param(
        ErrorCase(_anonymous_register, 401, "authentication_failed", LINKS, "post"),
        id="401 register",
    ),
    pytest.param(
        ErrorCase(_anonymous_resume, 401, "authentication_failed", LINKS, "patch"),
        id="401 resume",
    ),
    pytest.param(
        ErrorCase(_anonymous_detail, 401, "authentication_failed", LINK, "get"), id="401 detail"
    ),
    pytest.param(
        ErrorCase(_anonymous_delete, 401, "authentication_failed", LINK, "delete"),
        id="401 delete",
    ),
    pytest.param(
        ErrorCase(
            _anonymous_institutions, 401, "authentication_failed", "/api/institutions/", "get"
        ),
        id="401 institutions",
    ),
    pytest.param(
        ErrorCase(
            _anonymous_institution, 401, "authentication_failed", "/api/institutions/{id}/", "get"
        ),
        id="401 institution",
    ),
    pytest.param(ErrorCase(_unknown_link, 404, "not_found", LINK, "get"), id="404 detail"),
    pytest.param(ErrorCase(_put_unknown_link, 404, "not_found", LINK, "put"), id="404 put"),
    pytest.param(ErrorCase(_patch_unknown_link, 404, "not_found", LINK, "patch"), id="404 patch"),
    pytest.param(
        ErrorCase(_delete_unknown_link, 404, "not_found", LINK, "delete"), id="404 delete"
    ),
    pytest.param(
        ErrorCase(_unknown_institution, 404, "not_found", "/api/institutions/{id}/", "get"),
        id="404 institution",
    ),
    pytest.param(ErrorCase(_page_past_end, 404, "not_found"), id="404 page"),
    pytest.param(
        ErrorCase(_register({"institution": "erebor_mx_retail"}), 400, "required", LINKS, "post"),
        id="required",
    ),
    pytest.param(
        ErrorCase(_register(link_body(password=None)), 400, "null", LINKS, "post"), id="null"
    ),
    pytest.param(ErrorCase(_register(link_body("")), 400, "blank", LINKS, "post"), id="blank"),
    pytest.param(
        ErrorCase(_register(link_body(access_mode="x")), 400, "invalid_choice", LINKS, "post"),
        id="invalid_choice",
    ),
    pytest.param(
        ErrorCase(_register(link_body(credentials_storage="1y")), 400, "invalid", LINKS, "post"),
        id="invalid",
    ),
    pytest.param(
        ErrorCase(_register(link_body(external_id="ab")), 400, "min_length", LINKS, "post"),
        id="min_length",
    ),
    pytest.param(
        ErrorCase(_register(link_body(institution="narnia")), 400, "does_not_exist", LINKS, "post"),
        id="does_not_exist",
    ),
    pytest.param(ErrorCase(_register_malformed, 400, "parse_error", LINKS, "post"), id="parse"),
    pytest.param(
        ErrorCase(
            _register(link_body(credentials_storage="nostore")),
            400,
            "invalid_credentials_storage",
            LINKS,
            "post",
        ),
        id="invalid_credentials_storage",
    ),
    pytest.param(
        ErrorCase(
            _register(link_body(access_mode="single", credentials_storage="nostore")),
            400,
            "invalid_fetch_resources",
            LINKS,
            "post",
        ),
        id="invalid_fetch_resources",
    ),
    pytest.param(
        ErrorCase(
            _register(link_body(access_mode="single", fetch_resources=["ACCOUNTS"])),
            400,
            "unsupported_operation",
            LINKS,
            "post",
        ),
        id="unsupported_operation",
    ),
    pytest.param(ErrorCase(_register_duplicate, 400, "duplicated", LINKS, "post"), id="duplicated"),
    pytest.param(
        ErrorCase(_register(link_body("login_error")), 400, "login_error", LINKS, "post"),
        id="login_error",
    ),
    pytest.param(
        ErrorCase(
            _register(link_body("too_many_sessions")), 400, "too_many_sessions", LINKS, "post"
        ),
        id="too_many_sessions",
    ),
    pytest.param(
        ErrorCase(_register(link_body("institution_down")), 400, "institution_down", LINKS, "post"),
        id="institution_down",
    ),
    pytest.param(
        ErrorCase(
            _register(link_body("institution_unavailable")),
            400,
            "institution_unavailable",
            LINKS,
            "post",
        ),
        id="institution_unavailable",
    ),
    pytest.param(
        ErrorCase(_register(link_body("request_timeout")), 408, "request_timeout"),
        id="request_timeout",
    ),
    pytest.param(
        ErrorCase(_register(link_body("unexpected_error")), 500, "unexpected_error", LINKS, "post"),
        id="unexpected_error",
    ),
    pytest.param(ErrorCase(_register_mfa, 428, "token_required", LINKS, "post"), id="428 register"),
    pytest.param(
        ErrorCase(_resume_two_step, 428, "token_required", LINKS, "patch"), id="428 resume"
    ),
    pytest.param(ErrorCase(_put_challenge, 428, "token_required", LINK, "put"), id="428 put"),
    pytest.param(
        ErrorCase(_resume_expired, 400, "session_expired", LINKS, "patch"), id="session_expired"
    ),
    pytest.param(
        ErrorCase(_resume_wrong_token, 400, "login_error", LINKS, "patch"), id="wrong token"
    ),
    pytest.param(
        ErrorCase(_resume_missing_session, 400, "required", LINKS, "patch"), id="resume required"
    ),
    pytest.param(
        ErrorCase(_put_login_error, 400, "login_error", LINK, "put"), id="put login_error"
    ),
    pytest.param(ErrorCase(_put_wrong_key, 400, "invalid", LINK, "put"), id="put wrong key"),
    pytest.param(
        ErrorCase(_switch_without_credentials, 400, "invalid_access_mode_switch", LINK, "patch"),
        id="invalid_access_mode_switch",
    ),
    pytest.param(ErrorCase(_modify_null, 400, "null", LINK, "patch"), id="patch null"),
    pytest.param(ErrorCase(_bad_filter, 400, "invalid"), id="filter invalid"),
]


@pytest.mark.parametrize("case", ERROR_CASES)
async def test_error_body(
    spec: BelvoSpec,
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    clock: Clock,
    case: ErrorCase,
) -> None:
    response = await case.send(Clients(client, anonymous, clock))

    assert response.status_code == case.status, response.text
    body = response.json()
    assert [item["code"] for item in body] == [case.code]
    if case.path is not None and case.method is not None:
        assert spec.declares(case.path, case.method, case.status)
        _conforms(body, spec.response(case.path, case.method, case.status))
    component = ERROR_COMPONENTS.get(case.code)
    if component is not None:
        required = TOKEN_REQUIRED_KEYS if case.code == "token_required" else ERROR_KEYS
        for item in body:
            _conforms(item, spec.component(component, required=required))


async def test_token_generation_data(spec: BelvoSpec, client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client, username="mfa_qr")
    keys = spec.component_properties("TokenRequiredResponseTokenGenerationData")

    schema = spec.component("TokenRequiredResponseTokenGenerationData", required=keys)

    _conforms(challenge["token_generation_data"], schema)
