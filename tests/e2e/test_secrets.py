"""End users' secrets never leave the request that carries them.

A canary password and a canary `encryption_key` go through registration, credential updates
(PUT) and MFA flows, including failures. Afterwards neither may appear in any response, in
the server log, or in the stored data (the bytes of the SQLite files, or on PostgreSQL every
value in the tables), where credentials must be stored only encrypted. The API key's own
password must be stored only as an HMAC.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.databases import stored_values
from tests.support.server import LiveServer

CANARY_PASSWORD = "canary-Pw-9d3f"
CANARY_ENCRYPTION_KEY = "canary-Key-51c7"
SANDBOX_TOKEN = "123456"
DATABASE_FILES = ("vinculo.db", "vinculo.db-wal", "vinculo.db-shm")


def encoded_forms(secret: str) -> dict[str, bytes]:
    """Return the byte forms in which a careless server could store or log `secret`."""
    raw = secret.encode()
    return {
        "utf-8": raw,
        "utf-16-le": secret.encode("utf-16-le"),
        "utf-16-be": secret.encode("utf-16-be"),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "hex": binascii.hexlify(raw),
    }


def found_forms(haystack: bytes, secret: str) -> list[str]:
    """Name every encoded form of `secret` found in `haystack`, ignoring case for hex."""
    lowered = haystack.lower()
    found = []
    for name, needle in encoded_forms(secret).items():
        if needle in haystack or (name == "hex" and needle in lowered):
            found.append(name)
    return found


class Recorder:
    """An HTTP client of the live server that keeps every response it receives."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.responses: list[httpx.Response] = []

    def send(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        response = self.client.request(method, path, json=body)
        self.responses.append(response)
        return response

    def expect(
        self, status: int, method: str, path: str, body: dict[str, Any]
    ) -> dict[str, Any] | list[dict[str, Any]]:
        response = self.send(method, path, body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        payload: dict[str, Any] | list[dict[str, Any]] = response.json()
        return payload


def challenge_of(payload: Any) -> dict[str, Any]:
    assert isinstance(payload, list), payload
    error: dict[str, Any] = payload[0]
    assert error["code"] == "token_required", error
    return error


def link_of(payload: Any) -> dict[str, Any]:
    assert isinstance(payload, dict), payload
    return payload


def run_recurrent_flows(recorder: Recorder) -> None:
    """Register a recurrent link with the canary password, update it, and fail on purpose."""
    link = link_of(
        recorder.expect(
            201,
            "POST",
            "/api/links/",
            {
                "institution": "planet_mx_gig",
                "username": "secret_user",
                "password": CANARY_PASSWORD,
            },
        )
    )
    path = f"/api/links/{link['id']}/"
    recorder.expect(200, "PUT", path, {"password": CANARY_PASSWORD + "-new"})
    # Recurrent links reject a client key, and the error must not quote it.
    recorder.expect(
        400,
        "PUT",
        path,
        {"password": CANARY_PASSWORD, "encryption_key": CANARY_ENCRYPTION_KEY},
    )
    recorder.expect(
        400,
        "POST",
        "/api/links/",
        {
            "institution": "planet_mx_gig",
            "username": "login_error",
            "password": CANARY_PASSWORD,
        },
    )
    recorder.expect(
        400,
        "POST",
        "/api/links/",
        {
            "institution": "planet_mx_gig",
            "username": "invalid_body_user",
            "password": CANARY_PASSWORD,
            "access_mode": "sometimes",
        },
    )
    recorder.expect(
        400,
        "POST",
        "/api/links/",
        {
            "institution": "planet_mx_gig",
            "username": "storage_user",
            "password": CANARY_PASSWORD,
            "encryption_key": CANARY_ENCRYPTION_KEY,
        },
    )


def run_sealed_single_flows(recorder: Recorder) -> None:
    """Register a single link sealed with the canary key, then update it right and wrong."""
    link = link_of(
        recorder.expect(
            201,
            "POST",
            "/api/links/",
            {
                "institution": "gringotts_br_retail",
                "username": "sealed_user",
                "password": CANARY_PASSWORD,
                "access_mode": "single",
                "encryption_key": CANARY_ENCRYPTION_KEY,
            },
        )
    )
    path = f"/api/links/{link['id']}/"
    recorder.expect(
        200,
        "PUT",
        path,
        {"password": CANARY_PASSWORD + "-new", "encryption_key": CANARY_ENCRYPTION_KEY},
    )
    recorder.expect(400, "PUT", path, {"password": CANARY_PASSWORD})
    recorder.expect(
        400,
        "PUT",
        path,
        {"password": CANARY_PASSWORD, "encryption_key": CANARY_ENCRYPTION_KEY + "-wrong"},
    )


def run_mfa_flows(recorder: Recorder) -> None:
    """Run MFA on registration and on PUT, with a wrong token first, and sealed two-step MFA."""
    challenge = challenge_of(
        recorder.expect(
            428,
            "POST",
            "/api/links/",
            {
                "institution": "heimdall_co_retail",
                "username": "mfa_default",
                "username_type": "001",
                "password": CANARY_PASSWORD,
            },
        )
    )
    resume = {"session": challenge["session"], "link": challenge["link"]}
    recorder.expect(400, "PATCH", "/api/links/", {**resume, "token": "000000"})
    recorder.expect(200, "PATCH", "/api/links/", {**resume, "token": SANDBOX_TOKEN})

    update = challenge_of(
        recorder.expect(
            428,
            "PUT",
            f"/api/links/{challenge['link']}/",
            {"password": CANARY_PASSWORD + "-new"},
        )
    )
    recorder.expect(
        200,
        "PATCH",
        "/api/links/",
        {"session": update["session"], "link": update["link"], "token": SANDBOX_TOKEN},
    )

    first = challenge_of(
        recorder.expect(
            428,
            "POST",
            "/api/links/",
            {
                "institution": "heimdall_co_retail",
                "username": "mfa_two_step",
                "username_type": "002",
                "password": CANARY_PASSWORD,
                "access_mode": "single",
                "encryption_key": CANARY_ENCRYPTION_KEY,
            },
        )
    )
    second = challenge_of(
        recorder.expect(
            428,
            "PATCH",
            "/api/links/",
            {"session": first["session"], "token": SANDBOX_TOKEN},
        )
    )
    recorder.expect(
        200, "PATCH", "/api/links/", {"session": second["session"], "token": SANDBOX_TOKEN}
    )

    # The sandbox requests both tokens of `mfa_two_step` on every login, PUT included.
    again = challenge_of(
        recorder.expect(
            428,
            "PUT",
            f"/api/links/{first['link']}/",
            {"password": CANARY_PASSWORD, "encryption_key": CANARY_ENCRYPTION_KEY},
        )
    )
    again_second = challenge_of(
        recorder.expect(
            428,
            "PATCH",
            "/api/links/",
            {"session": again["session"], "token": SANDBOX_TOKEN},
        )
    )
    recorder.expect(
        200,
        "PATCH",
        "/api/links/",
        {"session": again_second["session"], "token": SANDBOX_TOKEN},
    )


@pytest.fixture(scope="module")
def canary_responses(live_server: LiveServer) -> Iterator[list[httpx.Response]]:
    """Run every flow that carries a canary once, and return all the responses."""
    with httpx.Client(
        base_url=live_server.url,
        auth=(live_server.secret_id, live_server.secret_password),
        timeout=30,
    ) as client:
        recorder = Recorder(client)
        run_recurrent_flows(recorder)
        run_sealed_single_flows(recorder)
        run_mfa_flows(recorder)
        yield recorder.responses


def database_bytes(live_server: LiveServer) -> dict[str, bytes]:
    """Read the SQLite file and its WAL and shared-memory files, where they exist, or on
    PostgreSQL every value of each table."""
    if live_server.database_url is not None:
        return stored_values(live_server.database_url)
    contents = {}
    for name in DATABASE_FILES:
        path: Path = live_server.data_dir / name
        if path.exists():
            contents[name] = path.read_bytes()
    return contents


@pytest.mark.parametrize("secret", [CANARY_PASSWORD, CANARY_ENCRYPTION_KEY])
def test_canary_not_in_responses(canary_responses: list[httpx.Response], secret: str) -> None:
    leaks = []
    for response in canary_responses:
        headers = "\n".join(f"{key}: {value}" for key, value in response.headers.items())
        request = f"{response.request.method} {response.request.url.path}"
        for form in found_forms(response.content, secret):
            leaks.append(f"{request} body ({form})")
        for form in found_forms(headers.encode(), secret):
            leaks.append(f"{request} headers ({form})")

    assert len(canary_responses) >= 20
    assert leaks == []


@pytest.mark.parametrize("secret", [CANARY_PASSWORD, CANARY_ENCRYPTION_KEY])
def test_canary_not_in_log(
    live_server: LiveServer, canary_responses: list[httpx.Response], secret: str
) -> None:
    log = live_server.log_text()

    # The log must show that the flows ran, or its silence would prove nothing.
    assert "link.created" in log
    assert found_forms(log.encode(), secret) == []


@pytest.mark.parametrize("secret", [CANARY_PASSWORD, CANARY_ENCRYPTION_KEY])
def test_canary_not_in_database(
    live_server: LiveServer, canary_responses: list[httpx.Response], secret: str
) -> None:
    files = database_bytes(live_server)
    leaks = {name: found_forms(content, secret) for name, content in files.items()}

    # The flows' plain-text columns must be readable in these bytes, or the scan proves nothing.
    assert any(b"gringotts_br_retail" in content for content in files.values())
    assert leaks == {name: [] for name in files}


def test_api_password_not_in_database(live_server: LiveServer) -> None:
    files = database_bytes(live_server)
    leaks = {
        name: found_forms(content, live_server.secret_password) for name, content in files.items()
    }

    # The scan must have read the stored keys, or it proves nothing.
    assert ("vinculo.db" if live_server.database_url is None else "api_keys") in files
    assert leaks == {name: [] for name in files}


def test_institution_user_id_hides_username(api: httpx.Client) -> None:
    username = "Distinct-User-4e2a"
    body = {"institution": "goonies_br_gig", "username": username, "password": "pw"}

    response = api.post("/api/links/", json=body)

    assert response.status_code == 201, response.text
    user_id = response.json()["institution_user_id"]
    assert len(user_id) == 44
    assert username.lower() not in user_id.lower()
    assert found_forms(user_id.encode(), username) == []
