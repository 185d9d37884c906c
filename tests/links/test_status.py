"""The link status machine: the transition table itself, then the statuses seen through the API."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.links.calls import (
    MFA_BANK,
    VALID_TOKEN,
    check_error,
    create_link,
    link_body,
    link_count,
    start_mfa,
)
from vinculo.clock import Clock
from vinculo.links.status import (
    TRANSITIONS,
    InvalidTransition,
    LinkEvent,
    LinkStatus,
    next_status,
)

VALID = LinkStatus.VALID
INVALID = LinkStatus.INVALID
UNCONFIRMED = LinkStatus.UNCONFIRMED
TOKEN_REQUIRED = LinkStatus.TOKEN_REQUIRED
CREATED = [VALID, INVALID, UNCONFIRMED, TOKEN_REQUIRED]

# The expected table, written out from Belvo's status meanings: a login makes any link valid, a
# challenge during registration keeps it unconfirmed, a refresh can invalidate a link or ask for
# a token, and expired credentials invalidate any link.
EXPECTED: dict[tuple[LinkStatus | None, LinkEvent], LinkStatus] = {
    (None, LinkEvent.LOGIN_SUCCEEDED): VALID,
    (None, LinkEvent.REGISTRATION_CHALLENGED): UNCONFIRMED,
    (UNCONFIRMED, LinkEvent.REGISTRATION_CHALLENGED): UNCONFIRMED,
    (VALID, LinkEvent.LOGIN_SUCCEEDED): VALID,
    (INVALID, LinkEvent.LOGIN_SUCCEEDED): VALID,
    (UNCONFIRMED, LinkEvent.LOGIN_SUCCEEDED): VALID,
    (TOKEN_REQUIRED, LinkEvent.LOGIN_SUCCEEDED): VALID,
    (VALID, LinkEvent.REFRESH_REJECTED): INVALID,
    (TOKEN_REQUIRED, LinkEvent.REFRESH_REJECTED): INVALID,
    (VALID, LinkEvent.REFRESH_CHALLENGED): TOKEN_REQUIRED,
    (TOKEN_REQUIRED, LinkEvent.REFRESH_CHALLENGED): TOKEN_REQUIRED,
    (VALID, LinkEvent.CREDENTIALS_EXPIRED): INVALID,
    (INVALID, LinkEvent.CREDENTIALS_EXPIRED): INVALID,
    (UNCONFIRMED, LinkEvent.CREDENTIALS_EXPIRED): INVALID,
    (TOKEN_REQUIRED, LinkEvent.CREDENTIALS_EXPIRED): INVALID,
}

ALL_PAIRS = list(itertools.product([None, *CREATED], list(LinkEvent)))
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def _pair_id(pair: tuple[LinkStatus | None, LinkEvent]) -> str:
    status, event = pair
    return f"{status or 'new'}-{event}"


ALLOWED_CASES = [pytest.param(pair, after, id=_pair_id(pair)) for pair, after in EXPECTED.items()]
FORBIDDEN_CASES = [pytest.param(pair, id=_pair_id(pair)) for pair in FORBIDDEN]


# The table ------------------------------------------------------------------------------------


def test_table_matches_expected() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("pair", "after"), ALLOWED_CASES)
def test_allowed_transition(pair: tuple[LinkStatus | None, LinkEvent], after: LinkStatus) -> None:
    status, event = pair

    assert next_status(status, event) == after


@pytest.mark.parametrize("pair", FORBIDDEN_CASES)
def test_forbidden_transition(pair: tuple[LinkStatus | None, LinkEvent]) -> None:
    status, event = pair

    with pytest.raises(InvalidTransition):
        next_status(status, event)


def test_forbidden_pairs_exist() -> None:
    # Guards the parametrized test above against an empty case list.
    assert (None, LinkEvent.REFRESH_REJECTED) in FORBIDDEN
    assert (VALID, LinkEvent.REGISTRATION_CHALLENGED) in FORBIDDEN


def test_transition_error_names_event() -> None:
    with pytest.raises(InvalidTransition, match="refresh_rejected"):
        next_status(None, LinkEvent.REFRESH_REJECTED)


# Statuses through the API ---------------------------------------------------------------------


async def _status(client: httpx.AsyncClient, link_id: str) -> str:
    response = await client.get(f"/api/links/{link_id}/")
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def _resume_body(challenge: dict[str, Any], token: str | None = VALID_TOKEN) -> dict[str, Any]:
    body = {"session": challenge["session"], "link": challenge["link"]}
    if token is not None:
        body["token"] = token
    return body


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_new_link_valid(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "straight_in")

    assert link["status"] == "valid"
    assert await _status(client, link["id"]) == "valid"


async def test_challenge_then_resume(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)
    assert await _status(client, challenge["link"]) == "unconfirmed"

    response = await client.patch("/api/links/", json=_resume_body(challenge))

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"
    assert response.json()["id"] == challenge["link"]
    assert await _status(client, challenge["link"]) == "valid"


async def test_unconfirmed_after_expiry(client: httpx.AsyncClient, clock: Clock) -> None:
    challenge = await start_mfa(client)
    clock.advance(timedelta(seconds=challenge["expiry"] + 1))

    response = await client.patch("/api/links/", json=_resume_body(challenge))

    check_error(response, status=400, code="session_expired")
    assert await _status(client, challenge["link"]) == "unconfirmed"


async def test_unconfirmed_after_wrong_token(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch("/api/links/", json=_resume_body(challenge, token="999999"))

    check_error(response, status=400, code="login_error")
    assert await _status(client, challenge["link"]) == "unconfirmed"


async def test_two_step_stays_unconfirmed(client: httpx.AsyncClient) -> None:
    first = await start_mfa(client, username="mfa_two_step", institution="gotham_mx_business")

    second_response = await client.patch("/api/links/", json=_resume_body(first))
    assert second_response.status_code == 428, second_response.text
    second = second_response.json()[0]
    status_between = await _status(client, first["link"])
    final = await client.patch("/api/links/", json=_resume_body(second))

    assert second["link"] == first["link"]
    assert second["session"] != first["session"]
    assert second["token_generation_data"] != first["token_generation_data"]
    assert status_between == "unconfirmed"
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "valid"


async def test_two_step_first_session_closed(client: httpx.AsyncClient) -> None:
    first = await start_mfa(client, username="mfa_two_step", institution="gotham_mx_business")
    second_response = await client.patch("/api/links/", json=_resume_body(first))
    assert second_response.status_code == 428, second_response.text

    replay = await client.patch("/api/links/", json=_resume_body(first))

    check_error(replay, status=400, code="session_expired")
    assert await _status(client, first["link"]) == "unconfirmed"


async def test_qr_resume_without_token(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client, username="mfa_qr")

    response = await client.patch("/api/links/", json=_resume_body(challenge, token=None))

    assert challenge["token_generation_data"]["type"] == "QR"
    assert challenge["token_generation_data"]["expects_user_input"] is False
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


async def test_qr_resume_with_null_token(client: httpx.AsyncClient) -> None:
    # belvo-python's `Links.resume(session, None)` sends `"token": null`.
    challenge = await start_mfa(client, username="mfa_qr")
    body = {**_resume_body(challenge, token=None), "token": None}

    response = await client.patch("/api/links/", json=body)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


async def test_resume_without_link(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.patch(
        "/api/links/", json={"session": challenge["session"], "token": VALID_TOKEN}
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == challenge["link"]


async def test_token_up_front_valid(client: httpx.AsyncClient) -> None:
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)

    response = await client.post("/api/links/", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "valid"


async def test_put_keeps_valid(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "put_valid")

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "changed"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


async def test_put_challenge_then_resume(client: httpx.AsyncClient) -> None:
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)
    created = await client.post("/api/links/", json=body)
    assert created.status_code == 201, created.text
    link_id = created.json()["id"]

    challenged = await client.put(f"/api/links/{link_id}/", json={"password": "pass_valid"})
    assert challenged.status_code == 428, challenged.text
    challenge = challenged.json()[0]
    status_between = await _status(client, link_id)
    resumed = await client.patch("/api/links/", json=_resume_body(challenge))

    assert challenge["link"] == link_id
    assert status_between == "valid"
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "valid"


async def test_put_with_token_valid(client: httpx.AsyncClient) -> None:
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)
    created = await client.post("/api/links/", json=body)
    link_id = created.json()["id"]

    response = await client.put(
        f"/api/links/{link_id}/", json={"password": "pass_valid", "token": VALID_TOKEN}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


async def test_reregister_replaces_unconfirmed(client: httpx.AsyncClient) -> None:
    first = await start_mfa(client)

    second = await start_mfa(client)

    assert second["link"] != first["link"]
    replaced = await client.get(f"/api/links/{first['link']}/")
    check_error(replaced, status=404, code="not_found")
    assert await link_count(client) == 1
    assert await _status(client, second["link"]) == "unconfirmed"
    stale = await client.patch("/api/links/", json=_resume_body(first))
    check_error(stale, status=400, code="session_expired")


async def test_reregister_unconfirmed_logs_in(client: httpx.AsyncClient) -> None:
    first = await start_mfa(client)
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)

    response = await client.post("/api/links/", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "valid"
    assert response.json()["id"] != first["link"]
    assert await link_count(client) == 1


async def test_reregister_valid_duplicated(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)
    resumed = await client.patch("/api/links/", json=_resume_body(challenge))
    assert resumed.status_code == 200, resumed.text

    again = await client.post("/api/links/", json=link_body("mfa_default", institution=MFA_BANK))

    check_error(again, status=400, code="duplicated", message="Link already exists")
    assert await _status(client, challenge["link"]) == "valid"


# last_accessed_at -----------------------------------------------------------------------------


async def test_last_accessed_unset_while_unconfirmed(client: httpx.AsyncClient) -> None:
    challenge = await start_mfa(client)

    response = await client.get(f"/api/links/{challenge['link']}/")

    assert response.json()["last_accessed_at"] is None


async def test_last_accessed_set_on_resume(client: httpx.AsyncClient, clock: Clock) -> None:
    challenge = await start_mfa(client)
    clock.advance(timedelta(seconds=30))

    response = await client.patch("/api/links/", json=_resume_body(challenge))

    link = response.json()
    assert link["last_accessed_at"] is not None
    assert _time(link["last_accessed_at"]) - _time(link["created_at"]) >= timedelta(seconds=30)


async def test_last_accessed_moves_forward(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await create_link(client, "accessed")
    seen = [_time(link["last_accessed_at"])]

    for _ in range(3):
        clock.advance(timedelta(hours=1))
        response = await client.put(f"/api/links/{link['id']}/", json={"password": "pass_valid"})
        assert response.status_code == 200, response.text
        seen.append(_time(response.json()["last_accessed_at"]))

    gaps = [later - earlier for earlier, later in itertools.pairwise(seen)]
    assert all(gap >= timedelta(hours=1) for gap in gaps), seen


async def test_last_accessed_kept_on_failure(client: httpx.AsyncClient, clock: Clock) -> None:
    link = await create_link(client, "failed_access")
    clock.advance(timedelta(hours=1))

    failed = await client.put(f"/api/links/{link['id']}/", json={"password": "pass_invalid"})

    check_error(failed, status=400, code="login_error")
    after = await client.get(f"/api/links/{link['id']}/")
    assert after.json()["last_accessed_at"] == link["last_accessed_at"]


async def test_last_accessed_kept_on_challenge(client: httpx.AsyncClient, clock: Clock) -> None:
    body = link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN)
    created = (await client.post("/api/links/", json=body)).json()
    clock.advance(timedelta(hours=1))

    challenged = await client.put(f"/api/links/{created['id']}/", json={"password": "pass_valid"})

    assert challenged.status_code == 428, challenged.text
    after = await client.get(f"/api/links/{created['id']}/")
    assert after.json()["last_accessed_at"] == created["last_accessed_at"]
