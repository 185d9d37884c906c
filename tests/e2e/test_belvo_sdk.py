"""The unmodified Belvo Python SDK (belvo-python 0.39.1) against a running `vinculo serve`.

Every test shares the session's live server and its sandbox tenant. A sandbox user can be
linked only once per institution (a second registration fails with `duplicated`), so each test
uses its own institution or username, and list checks filter by institution.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from belvo.client import Client
from belvo.enums import AccessMode
from belvo.exceptions import BelvoAPIException, RequestError

from tests.support.server import LiveServer

SESSION_ID = re.compile(r"[a-f0-9]{32}")
INSTITUTION_USER_ID = re.compile(r"[A-Za-z0-9\-=_]{44}")
SANDBOX_TOKEN = "123456"
WRONG_TOKEN = "654321"

# The exact PUT body of Belvo's documentation example, including fields that a bank form
# does not use (`password2`, `certificate`, `private_key`) and a client `encryption_key`.
DOCUMENTED_PUT_BODY = {
    "password": "password",
    "password2": "pin",
    "token": "1234ab",
    "encryption_key": "customencryptionkey",
    "username_type": "001",
    "certificate": "1234567890abcd=",
    "private_key": "1234567890abcd=",
}

BULK_INSTITUTION = "erebor_br_retail"
BULK_LINK_COUNT = 260
MAX_PAGES = 20


def document_number() -> str:
    """Return a fresh 10-digit Colombian document number, so each link is a new user."""
    return str(uuid.uuid4().int)[:10]


def first_error(body: Any) -> dict[str, Any]:
    """Return the single error object of Belvo's list envelope."""
    assert isinstance(body, list), body
    assert len(body) == 1, body
    error: dict[str, Any] = body[0]
    return error


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# Login -----------------------------------------------------------------------------------


def test_client_valid_keys(live_server: LiveServer) -> None:
    client = Client(live_server.secret_id, live_server.secret_password, live_server.url)

    assert client.session.key_id == live_server.secret_id


def test_client_wrong_password(live_server: LiveServer) -> None:
    with pytest.raises(BelvoAPIException, match="Login failed"):
        Client(live_server.secret_id, "wrong-password", live_server.url)


def test_client_unknown_id(live_server: LiveServer) -> None:
    with pytest.raises(BelvoAPIException, match="Login failed"):
        Client("unknown-secret-id", live_server.secret_password, live_server.url)


def test_root_wrong_password_body(live_server: LiveServer) -> None:
    # The SDK ignores the 401 body, but the other Belvo clients show it to the user.
    response = httpx.get(f"{live_server.url}/api/", auth=(live_server.secret_id, "wrong"))

    assert response.status_code == 401
    error = first_error(response.json())
    assert error["code"] == "authentication_failed"
    assert SESSION_ID.fullmatch(error["request_id"])


def test_client_base_url_trailing_slash(
    live_server: LiveServer, erebor_link: dict[str, Any]
) -> None:
    # The SDK then requests `//api/...`, which the server must treat like `/api/...`.
    client = Client(live_server.secret_id, live_server.secret_password, live_server.url + "/")
    institutions = list(client.Institutions.list(country_code="MX"))
    links = list(client.Links.list(institution="erebor_mx_retail"))

    assert "erebor_mx_retail" in {institution["name"] for institution in institutions}
    assert erebor_link["id"] in {link["id"] for link in links}


# Institutions ----------------------------------------------------------------------------


def test_institutions_list(sdk: Client) -> None:
    institutions = list(sdk.Institutions.list())
    by_name = {institution["name"]: institution for institution in institutions}

    assert "erebor_mx_retail" in by_name
    assert by_name["erebor_mx_retail"]["id"] == 1003
    assert all(type(institution["id"]) is int for institution in institutions)
    assert len(by_name) == len(institutions)


def test_institutions_filter_country(sdk: Client) -> None:
    institutions = list(sdk.Institutions.list(country_code="CO"))
    names = {institution["name"] for institution in institutions}

    assert "erebor_co_retail" in names
    assert "erebor_mx_retail" not in names
    assert all(institution["country_codes"] == ["CO"] for institution in institutions)


# Registration and listing ----------------------------------------------------------------


@pytest.fixture(scope="module")
def erebor_link(sdk: Client) -> dict[str, Any]:
    """The recurrent link of `user_valid` on erebor_mx_retail, registered once per session."""
    link: dict[str, Any] = sdk.Links.create(
        "erebor_mx_retail", "user_valid", "pass_valid", raise_exception=True
    )
    return link


def test_register_recurrent_defaults(erebor_link: dict[str, Any]) -> None:
    assert erebor_link["status"] == "valid"
    assert erebor_link["institution"] == "erebor_mx_retail"
    assert erebor_link["access_mode"] == "recurrent"
    assert erebor_link["refresh_rate"] == "7d"
    assert is_uuid(erebor_link["id"])
    assert INSTITUTION_USER_ID.fullmatch(erebor_link["institution_user_id"])


def test_register_duplicate(sdk: Client, erebor_link: dict[str, Any]) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Links.create("erebor_mx_retail", "user_valid", "pass_valid", raise_exception=True)

    assert raised.value.status_code == 400
    error = first_error(raised.value.detail)
    assert error["code"] == "duplicated"
    assert error["institution_user_id"] == erebor_link["institution_user_id"]


def test_list_filter_institution(sdk: Client, erebor_link: dict[str, Any]) -> None:
    links = list(sdk.Links.list(institution="erebor_mx_retail"))

    assert erebor_link["id"] in {link["id"] for link in links}
    assert all(link["institution"] == "erebor_mx_retail" for link in links)


def test_list_filter_status(sdk: Client, erebor_link: dict[str, Any]) -> None:
    valid = list(sdk.Links.list(status="valid"))
    unconfirmed = list(sdk.Links.list(status="unconfirmed"))

    assert erebor_link["id"] in {link["id"] for link in valid}
    assert all(link["status"] == "valid" for link in valid)
    assert erebor_link["id"] not in {link["id"] for link in unconfirmed}


def test_list_filter_access_mode(sdk: Client, erebor_link: dict[str, Any]) -> None:
    recurrent = list(sdk.Links.list(access_mode="recurrent", institution="erebor_mx_retail"))
    single = list(sdk.Links.list(access_mode="single", institution="erebor_mx_retail"))

    assert erebor_link["id"] in {link["id"] for link in recurrent}
    assert all(link["access_mode"] == "recurrent" for link in recurrent)
    assert erebor_link["id"] not in {link["id"] for link in single}


def test_list_fields(sdk: Client, erebor_link: dict[str, Any]) -> None:
    links = list(sdk.Links.list(fields="id,status", institution="erebor_mx_retail"))

    assert links
    assert all(set(link) == {"id", "status"} for link in links)
    assert {"id": erebor_link["id"], "status": "valid"} in links


def test_get_fields(sdk: Client, erebor_link: dict[str, Any]) -> None:
    link = sdk.Links.get(erebor_link["id"], fields="id,status")

    assert link == {"id": erebor_link["id"], "status": "valid"}


# Single links and credential updates -----------------------------------------------------


def register_single_link(sdk: Client) -> dict[str, Any]:
    link: dict[str, Any] = sdk.Links.create(
        "gringotts_co_retail",
        document_number(),
        "pass_valid",
        access_mode=AccessMode.SINGLE,
        username_type="001",
        raise_exception=True,
    )
    return link


def test_register_single(sdk: Client) -> None:
    link = register_single_link(sdk)

    assert link["status"] == "valid"
    assert link["access_mode"] == "single"
    assert link["refresh_rate"] is None


def test_update_sdk(sdk: Client) -> None:
    link = register_single_link(sdk)

    updated = sdk.Links.update(link["id"], password="new-password", raise_exception=True)

    assert updated["id"] == link["id"]
    assert updated["status"] == "valid"


def test_update_encryption_key(sdk: Client, api: httpx.Client) -> None:
    link = register_single_link(sdk)
    path = f"/api/links/{link['id']}/"

    documented = api.put(path, json=DOCUMENTED_PUT_BODY)
    assert documented.status_code == 200, documented.text
    assert documented.json()["status"] == "valid"

    # The credentials are now sealed with the client's key, so the server alone cannot
    # open them for a login.
    without_key = api.put(path, json={"password": "password"})
    assert without_key.status_code == 400, without_key.text
    assert first_error(without_key.json())["field"] == "encryption_key"

    wrong_key = api.put(path, json={"password": "password", "encryption_key": "other-key"})
    assert wrong_key.status_code == 400, wrong_key.text
    assert first_error(wrong_key.json())["field"] == "encryption_key"

    same_key = api.put(path, json={"password": "password", "encryption_key": "customencryptionkey"})
    assert same_key.status_code == 200, same_key.text
    assert same_key.json()["status"] == "valid"


def test_update_sealed_sdk(sdk: Client, api: httpx.Client) -> None:
    # The SDK has no `encryption_key` argument, so its update of a sealed link must fail
    # with a field error rather than a server error.
    link = register_single_link(sdk)
    sealed = api.put(f"/api/links/{link['id']}/", json=DOCUMENTED_PUT_BODY)
    assert sealed.status_code == 200, sealed.text

    with pytest.raises(RequestError) as raised:
        sdk.Links.update(link["id"], password="password", raise_exception=True)

    assert raised.value.status_code == 400
    assert first_error(raised.value.detail)["field"] == "encryption_key"


# MFA -------------------------------------------------------------------------------------


def check_challenge(body: Any) -> dict[str, Any]:
    """Check the shape of a 428 `token_required` body and return its error object."""
    error = first_error(body)
    assert error["code"] == "token_required"
    assert SESSION_ID.fullmatch(error["session"])
    assert type(error["expiry"]) is int
    assert error["expiry"] > 0
    assert is_uuid(error["link"])
    data = error["token_generation_data"]
    assert isinstance(data["type"], str)
    assert isinstance(data["value"], str)
    assert type(data["expects_user_input"]) is bool
    return error


def test_mfa_challenge_shape(sdk: Client) -> None:
    body = sdk.Links.create("heimdall_mx_retail", "mfa_default", "pass_valid")

    challenge = check_challenge(body)
    assert challenge["token_generation_data"]["type"] == "numeric"
    assert challenge["token_generation_data"]["expects_user_input"] is True
    assert sdk.Links.get(challenge["link"])["status"] == "unconfirmed"

    # The SDK's resume sends no `link` unless given one, because the session identifies it.
    resumed = sdk.Links.resume(challenge["session"], SANDBOX_TOKEN, raise_exception=True)
    assert resumed["id"] == challenge["link"]
    assert resumed["status"] == "valid"
    assert sdk.Links.get(challenge["link"])["status"] == "valid"


def test_mfa_raise_exception(sdk: Client) -> None:
    with pytest.raises(RequestError) as raised:
        sdk.Links.create("gotham_mx_business", "mfa_default", "pass_valid", raise_exception=True)

    assert raised.value.status_code == 428
    check_challenge(raised.value.detail)


def test_mfa_wrong_token(sdk: Client) -> None:
    challenge = check_challenge(sdk.Links.create("heimdall_br_retail", "mfa_default", "pw"))

    with pytest.raises(RequestError) as raised:
        sdk.Links.resume(challenge["session"], WRONG_TOKEN, raise_exception=True)
    assert raised.value.status_code == 400
    assert first_error(raised.value.detail)["code"] == "login_error"

    # A wrong token does not end the session: the user may type the token again.
    resumed = sdk.Links.resume(
        challenge["session"], SANDBOX_TOKEN, link=challenge["link"], raise_exception=True
    )
    assert resumed["status"] == "valid"


def test_mfa_two_step(sdk: Client) -> None:
    first = check_challenge(sdk.Links.create("gotham_br_business", "mfa_two_step", "pw"))

    with pytest.raises(RequestError) as raised:
        sdk.Links.resume(first["session"], SANDBOX_TOKEN, raise_exception=True)
    assert raised.value.status_code == 428
    second = check_challenge(raised.value.detail)
    assert second["link"] == first["link"]
    assert second["token_generation_data"]["value"] != first["token_generation_data"]["value"]
    assert sdk.Links.get(first["link"])["status"] == "unconfirmed"

    resumed = sdk.Links.resume(second["session"], SANDBOX_TOKEN, raise_exception=True)
    assert resumed["id"] == first["link"]
    assert resumed["status"] == "valid"


def test_mfa_qr_any_token(sdk: Client) -> None:
    body = sdk.Links.create("gotham_co_business", "mfa_qr", "pw", username_type="001")
    challenge = check_challenge(body)
    assert challenge["token_generation_data"]["type"] == "QR"
    assert challenge["token_generation_data"]["expects_user_input"] is False

    # The user approves a QR login elsewhere, so whatever token the client sends is ignored.
    resumed = sdk.Links.resume(challenge["session"], "no-token-needed", raise_exception=True)
    assert resumed["status"] == "valid"


def test_mfa_qr_no_token(sdk: Client, api: httpx.Client) -> None:
    body = sdk.Links.create("gotham_co_business", "mfa_qr", "pw", username_type="002")
    challenge = check_challenge(body)

    resumed = api.patch(
        "/api/links/", json={"session": challenge["session"], "link": challenge["link"]}
    )

    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "valid"


# Access mode and deletion ----------------------------------------------------------------


def test_patch_access_mode(sdk: Client) -> None:
    link = sdk.Links.create("erebor_mx_retail", "patch_user", "pw", raise_exception=True)
    assert link["access_mode"] == "recurrent"

    patched = sdk.Links.patch(link["id"], access_mode=AccessMode.SINGLE, raise_exception=True)

    assert patched["access_mode"] == "single"
    assert patched["refresh_rate"] is None


def test_patch_no_mode(sdk: Client) -> None:
    # Without a mode the SDK sends `{"access_mode": null}`, which Belvo rejects as null.
    link = sdk.Links.create("erebor_mx_retail", "patch_null_user", "pw", raise_exception=True)

    with pytest.raises(RequestError) as raised:
        sdk.Links.patch(link["id"], raise_exception=True)

    assert raised.value.status_code == 400
    error = first_error(raised.value.detail)
    assert error["code"] == "null"
    assert error["field"] == "access_mode"


def test_delete(sdk: Client) -> None:
    link = sdk.Links.create("gringotts_mx_retail", "delete_user", "pw", raise_exception=True)

    assert sdk.Links.delete(link["id"]) is True

    with pytest.raises(requests.HTTPError) as raised:
        sdk.Links.get(link["id"])
    response = raised.value.response
    assert response is not None
    assert response.status_code == 404
    assert first_error(response.json())["code"] == "not_found"

    assert sdk.Links.delete(link["id"]) is False


# Pagination ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bulk_link_ids(live_server: LiveServer) -> set[str]:
    """Register `BULK_LINK_COUNT` links on `BULK_INSTITUTION` and return their ids."""
    ids: set[str] = set()
    with httpx.Client(
        base_url=live_server.url,
        auth=(live_server.secret_id, live_server.secret_password),
        timeout=30,
    ) as client:
        for number in range(1, BULK_LINK_COUNT + 1):
            body = {
                "institution": BULK_INSTITUTION,
                "username": f"user_{number:04d}",
                "password": "pass_valid",
            }
            response = client.post("/api/links/", json=body)
            assert response.status_code == 201, response.text
            ids.add(response.json()["id"])
    return ids


def test_list_all_pages(sdk: Client, bulk_link_ids: set[str]) -> None:
    links = list(sdk.Links.list(page_size=100, institution=BULK_INSTITUTION))
    ids = [link["id"] for link in links]

    assert len(ids) == BULK_LINK_COUNT
    assert len(set(ids)) == len(ids)
    assert set(ids) == bulk_link_ids


def test_list_default_page_size(sdk: Client, bulk_link_ids: set[str]) -> None:
    ids = [link["id"] for link in sdk.Links.list(institution=BULK_INSTITUTION)]

    assert len(ids) == BULK_LINK_COUNT
    assert set(ids) == bulk_link_ids


@pytest.mark.parametrize(
    ("page_size", "expected_sizes"),
    [(None, [100, 100, 60]), ("100", [100, 100, 60]), ("120", [120, 120, 20])],
)
def test_list_next_urls(
    live_server: LiveServer,
    api: httpx.Client,
    bulk_link_ids: set[str],
    page_size: str | None,
    expected_sizes: list[int],
) -> None:
    params = {"institution": BULK_INSTITUTION}
    if page_size is not None:
        params["page_size"] = page_size
    server = urlsplit(live_server.url)
    url: str | None = "/api/links/"
    request_params: dict[str, str] | None = params
    sizes: list[int] = []
    next_urls: list[str] = []

    while url is not None and len(sizes) < MAX_PAGES:
        response = api.get(url, params=request_params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["count"] == BULK_LINK_COUNT
        sizes.append(len(page["results"]))
        url = page["next"]
        if url is not None:
            next_urls.append(url)
        # The SDK follows `next` as it is, without parameters of its own.
        request_params = None

    assert sizes == expected_sizes
    for next_url in next_urls:
        parts = urlsplit(next_url)
        query = parse_qs(parts.query)
        assert parts.scheme == server.scheme, next_url
        assert parts.netloc == server.netloc, next_url
        assert parts.path == "/api/links/", next_url
        assert query["institution"] == [BULK_INSTITUTION], next_url
        if page_size is not None:
            assert query["page_size"] == [page_size], next_url
