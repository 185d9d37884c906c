"""Recurrent links end to end: the unmodified belvo-python SDK, a real server running its jobs,
and a webhook receiver on 127.0.0.1.

The server runs its jobs itself (`VINCULO_JOBS_IN_SERVER=true`, on PostgreSQL too), with a fast
scheduler and delivery poll so that each step takes well under a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from belvo.client import Client
from belvo.enums import AccessMode

from tests.support.databases import PostgresDatabases
from tests.support.server import LiveServer, start_live_server
from tests.webhooks.calls import verify_standard_webhook
from tests.webhooks.receiver import ReceivedRequest, Receiver

AUTHORIZATION = "Bearer refresh-e2e-token"
DEADLINE_SECONDS = 30


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def jobs_server(
    tmp_path_factory: pytest.TempPathFactory, live_server_databases: PostgresDatabases | None
) -> Iterator[LiveServer]:
    database_url = live_server_databases.create_empty() if live_server_databases else None
    server = start_live_server(
        tmp_path_factory.mktemp("jobs-server"),
        {
            "VINCULO_JOBS_IN_SERVER": "true",
            "VINCULO_SCHEDULER_POLL_SECONDS": "0.2",
            "VINCULO_WEBHOOK_POLL_SECONDS": "0.1",
        },
        database_url=database_url,
    )
    yield server
    server.stop()
    if live_server_databases is not None and database_url is not None:
        live_server_databases.drop(database_url)


@pytest.fixture(scope="module")
def api(jobs_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=jobs_server.url,
        auth=(jobs_server.secret_id, jobs_server.secret_password),
        timeout=30,
    ) as client:
        yield client


@pytest.fixture(scope="module")
def signing_secret(api: httpx.Client, receiver: Receiver) -> str:
    response = api.post(
        "/admin/webhooks/", json={"url": receiver.url, "authorization": AUTHORIZATION}
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


@pytest.fixture(scope="module")
def sdk(jobs_server: LiveServer, signing_secret: str) -> Client:
    return Client(jobs_server.secret_id, jobs_server.secret_password, jobs_server.url)


def webhooks_of(receiver: Receiver, link_id: str) -> list[tuple[ReceivedRequest, dict[str, Any]]]:
    received = []
    for request in list(receiver.requests):
        body = json.loads(request.body)
        if body.get("link_id") == link_id:
            received.append((request, body))
    return received


def wait_for(
    receiver: Receiver, link_id: str, found: Callable[[list[dict[str, Any]]], bool]
) -> list[tuple[ReceivedRequest, dict[str, Any]]]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        received = webhooks_of(receiver, link_id)
        if found([body for _, body in received]):
            return received
        time.sleep(0.05)
    codes = [(body["webhook_type"], body["webhook_code"]) for _, body in received]
    raise AssertionError(f"webhooks for {link_id} after {DEADLINE_SECONDS} s: {codes}")


def has_codes(*wanted: tuple[str, str]) -> Callable[[list[dict[str, Any]]], bool]:
    def check(bodies: list[dict[str, Any]]) -> bool:
        seen = {(body["webhook_type"], body["webhook_code"]) for body in bodies}
        return all(code in seen for code in wanted)

    return check


def register(sdk: Client, username: str, password: str, mode: AccessMode) -> dict[str, Any]:
    link: dict[str, Any] = sdk.Links.create(
        "erebor_mx_retail", username, password, access_mode=mode, raise_exception=True
    )
    return link


HISTORICAL = (
    ("ACCOUNTS", "historical_update"),
    ("TRANSACTIONS", "historical_update"),
    ("OWNERS", "historical_update"),
)


def test_recurrent_link_sends_signed_historical_updates(
    sdk: Client, receiver: Receiver, signing_secret: str
) -> None:
    link = register(sdk, "bnk100", "any-password", AccessMode.RECURRENT)

    received = wait_for(receiver, link["id"], has_codes(*HISTORICAL))

    for request, body in received:
        assert request.headers["authorization"] == AUTHORIZATION
        assert verify_standard_webhook(signing_secret, request.headers, request.body)
        assert request.headers["webhook-id"] == body["webhook_id"]
        assert body["process_type"] == "historical_update"
    totals = {body["webhook_type"]: body["data"] for _, body in received}
    stored = sdk.Transactions.list(link=link["id"], page_size=1000)
    assert totals["TRANSACTIONS"]["total_transactions"] == len(list(stored))
    assert totals["ACCOUNTS"]["total_accounts"] == len(list(sdk.Accounts.list(link=link["id"])))


def test_clock_past_refresh_rate_sends_new_transactions(
    sdk: Client, api: httpx.Client, receiver: Receiver
) -> None:
    link = register(sdk, "user_valid", "any", AccessMode.RECURRENT)
    assert link["refresh_rate"] == "7d"
    wait_for(receiver, link["id"], has_codes(*HISTORICAL))
    before = len(list(sdk.Transactions.list(link=link["id"], page_size=1000)))

    moved = api.post("/sandbox/clock/", json={"advance": "P8D"})
    assert moved.status_code == 200, moved.text

    received = wait_for(
        receiver, link["id"], has_codes(("TRANSACTIONS", "new_transactions_available"))
    )
    news = [body for _, body in received if body["webhook_code"] == "new_transactions_available"]
    assert news[0]["process_type"] == "recurrent_update"
    after = len(list(sdk.Transactions.list(link=link["id"], page_size=1000)))
    assert news[0]["data"] == {"new_transactions": after - before}
    assert after > before


def test_invalid_credentials_webhook_and_put_makes_link_valid(
    sdk: Client, api: httpx.Client, receiver: Receiver
) -> None:
    link = register(sdk, "invalid_on_refresh_2", "any", AccessMode.RECURRENT)
    wait_for(receiver, link["id"], has_codes(*HISTORICAL))

    api.post("/sandbox/clock/", json={"advance": "P8D"})

    received = wait_for(receiver, link["id"], has_codes(("LINK", "invalid_credentials")))
    link_event = next(body for _, body in received if body["webhook_type"] == "LINK")
    assert link_event["data"]["error_code"] == "login_error"
    assert sdk.Links.get(link["id"])["status"] == "invalid"

    updated = sdk.Links.update(link["id"], password="new-password")

    assert updated["status"] == "valid"
    assert sdk.Links.get(link["id"])["status"] == "valid"
    # The update triggers another historical update, whose events follow.
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        codes = [body["webhook_code"] for _, body in webhooks_of(receiver, link["id"])]
        if codes.count("historical_update") >= 6:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"no historical update after the PUT: {codes}")


def test_refresh_endpoint_webhooks_carry_its_request_id(
    sdk: Client, api: httpx.Client, receiver: Receiver
) -> None:
    link = register(sdk, "refresh_me", "any", AccessMode.SINGLE)

    response = api.post(f"/api/links/{link['id']}/refresh/")

    assert response.status_code == 202, response.text
    request_id = response.json()["request_id"]
    received = wait_for(receiver, link["id"], has_codes(*HISTORICAL))
    assert {body["request_id"] for _, body in received} == {request_id}


def test_server_log_keeps_credentials_out(jobs_server: LiveServer, sdk: Client) -> None:
    register(sdk, "log_check", "password-canary-7f3a", AccessMode.RECURRENT)

    log = Path(jobs_server.log_path).read_text(errors="replace")

    assert "password-canary-7f3a" not in log
    assert AUTHORIZATION not in log
