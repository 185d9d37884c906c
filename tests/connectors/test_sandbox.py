"""Tests of the sandbox connector: reserved usernames, MFA flows and determinism."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from vinculo.connectors.base import (
    Challenge,
    Connector,
    Credentials,
    LoggedIn,
    LoginFailed,
    LoginOutcome,
)
from vinculo.connectors.sandbox import (
    INVALID_PASSWORD,
    RESERVED_USERNAMES,
    VALID_MFA_TOKEN,
    MFAFlow,
    SandboxConnector,
    SlowLogin,
)
from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"

PLAIN_BANK = "erebor_mx_retail"
VALID_PASSWORD = "pass_valid"
MFA_INSTITUTIONS = [
    institution.name for institution in SANDBOX_INSTITUTIONS if institution.requires_token
]
NON_MFA_INSTITUTIONS = [
    institution.name for institution in SANDBOX_INSTITUTIONS if not institution.requires_token
]
MFA_USERNAMES = ["mfa_default", "mfa_qr", "mfa_two_step"]
WRONG_TOKENS = [None, "", "000000", "12345", "1234567", " 123456"]

INVALID_MFA_TOKEN_FAILURE = LoginFailed(
    "login_error", "Invalid MFA token provided to login to the institution"
)

# The documented outcome of each reserved username that does not start a flow.
EXPECTED_FAILURES = {
    "login_error": LoginFailed(
        "login_error", "Invalid credentials provided to login to the institution"
    ),
    "locked_account": LoginFailed(
        "login_error",
        "The user account is locked, user needs to contact the institution to unlock it.",
    ),
    "too_many_sessions": LoginFailed(
        "too_many_sessions",
        "Impossible to login, a session is already opened with the institution for these "
        "credentials",
    ),
    "institution_down": LoginFailed(
        "institution_down", "The financial institution is down, try again later"
    ),
    "institution_unavailable": LoginFailed(
        "institution_unavailable", "The financial institution is unavailable"
    ),
    "request_timeout": LoginFailed(
        "request_timeout",
        "The request timed out, you can retry asking for less data by changing your query "
        "parameters",
        status=408,
    ),
    "unexpected_error": LoginFailed(
        "unexpected_error",
        "Belvo is unable to process the request due to an internal system issue or to an "
        "unsupported response from an institution",
        status=500,
    ),
}


def credentials(username: str, password: str | None = VALID_PASSWORD) -> Credentials:
    return Credentials(username=username, password=password)


def stored(state: dict[str, Any]) -> dict[str, Any]:
    """Return `state` after a JSON round trip, as the link service stores it."""
    restored: dict[str, Any] = json.loads(json.dumps(state))
    return restored


def require_challenge(outcome: LoginOutcome) -> Challenge:
    assert isinstance(outcome, Challenge), outcome
    return outcome


@pytest.fixture
def connector() -> SandboxConnector:
    return SandboxConnector(slow_login_seconds=0.0)


def test_sandbox_connector_satisfies_protocol() -> None:
    connector: Connector = SandboxConnector()

    assert callable(connector.login)
    assert callable(connector.resume)


# --- Plain logins and reserved usernames ----------------------------------------------------


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("user_valid", "pass_valid"),
        ("bnk100", "full"),
        ("someone", "anything"),
        ("LOGIN_ERROR", "pass_valid"),  # usernames are case-sensitive
        ("login_error ", "pass_valid"),
        ("user_valid", None),
    ],
)
async def test_login_succeeds_for_ordinary_credentials(
    connector: SandboxConnector, username: str, password: str | None
) -> None:
    outcome = await connector.login(PLAIN_BANK, credentials(username, password))

    assert outcome == LoggedIn()


@pytest.mark.parametrize("institution", [i.name for i in SANDBOX_INSTITUTIONS])
async def test_login_succeeds_on_every_institution(
    connector: SandboxConnector, institution: str
) -> None:
    outcome = await connector.login(institution, credentials("user_valid"))

    assert outcome == LoggedIn()


@pytest.mark.parametrize(("username", "expected"), list(EXPECTED_FAILURES.items()))
async def test_reserved_username_fails_login(
    connector: SandboxConnector, username: str, expected: LoginFailed
) -> None:
    outcome = await connector.login(PLAIN_BANK, credentials(username))

    assert outcome == expected


@pytest.mark.parametrize(("username", "expected"), list(EXPECTED_FAILURES.items()))
async def test_reserved_username_fails_on_mfa_bank(
    connector: SandboxConnector, username: str, expected: LoginFailed
) -> None:
    outcome = await connector.login("gotham_mx_business", credentials(username))

    assert outcome == expected


@pytest.mark.parametrize("username", sorted(RESERVED_USERNAMES))
async def test_login_matches_reserved_table(connector: SandboxConnector, username: str) -> None:
    entry = RESERVED_USERNAMES[username]
    outcome = await connector.login(PLAIN_BANK, credentials(username))

    if isinstance(entry, LoggedIn | LoginFailed):
        assert outcome == entry
    else:
        # Slow logins and MFA flows log in directly on a bank without `token_required`.
        assert isinstance(entry, SlowLogin | MFAFlow)
        assert outcome == LoggedIn()


def test_reserved_table_covers_documented_failures() -> None:
    for username, expected in EXPECTED_FAILURES.items():
        assert RESERVED_USERNAMES[username] == expected, username


def test_reserved_failures_have_expected_status() -> None:
    statuses = {
        username: entry.status
        for username, entry in RESERVED_USERNAMES.items()
        if isinstance(entry, LoginFailed)
    }

    assert statuses.pop("request_timeout") == 408
    assert statuses.pop("unexpected_error") == 500
    assert set(statuses.values()) == {400}


def test_reserved_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        RESERVED_USERNAMES["new_user"] = LoggedIn()  # type: ignore[index]


@pytest.mark.parametrize("username", ["user_valid", "someone", "too_many_sessions", "mfa_default"])
@pytest.mark.parametrize("institution", [PLAIN_BANK, "heimdall_mx_retail"])
async def test_invalid_password_fails_login(
    connector: SandboxConnector, username: str, institution: str
) -> None:
    outcome = await connector.login(institution, credentials(username, INVALID_PASSWORD))

    assert outcome == EXPECTED_FAILURES["login_error"]


async def test_login_rejects_unknown_institution(connector: SandboxConnector) -> None:
    with pytest.raises(ValueError, match="narnia_mx_retail"):
        await connector.login("narnia_mx_retail", credentials("user_valid"))


# --- Slow login -----------------------------------------------------------------------------


async def test_slow_login_waits_configured_delay() -> None:
    delay = 0.2
    connector = SandboxConnector(slow_login_seconds=delay)
    loop = asyncio.get_running_loop()

    started = loop.time()
    outcome = await connector.login(PLAIN_BANK, credentials("login_slow"))
    elapsed = loop.time() - started

    assert outcome == LoggedIn()
    assert elapsed >= delay


async def test_slow_logins_run_concurrently() -> None:
    delay = 0.5
    connector = SandboxConnector(slow_login_seconds=delay)
    loop = asyncio.get_running_loop()

    started = loop.time()
    outcomes = await asyncio.gather(
        connector.login(PLAIN_BANK, credentials("login_slow")),
        connector.login(PLAIN_BANK, credentials("login_slow")),
    )
    elapsed = loop.time() - started

    assert outcomes == [LoggedIn(), LoggedIn()]
    assert elapsed >= delay
    # Sequential logins would take 2 * delay.
    assert elapsed < 2 * delay


async def test_default_slow_login_delay_is_one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record_sleep)
    outcome = await SandboxConnector().login(PLAIN_BANK, credentials("login_slow"))

    assert outcome == LoggedIn()
    assert delays == [1.0]


@pytest.mark.parametrize("seconds", [-0.1, float("nan"), float("inf")])
def test_slow_login_rejects_invalid_delay(seconds: float) -> None:
    with pytest.raises(ValueError, match="slow_login_seconds"):
        SandboxConnector(slow_login_seconds=seconds)


# --- MFA on institutions without `token_required` ------------------------------------------


@pytest.mark.parametrize("username", MFA_USERNAMES)
@pytest.mark.parametrize("institution", NON_MFA_INSTITUTIONS)
async def test_mfa_user_logs_in_without_token_feature(
    connector: SandboxConnector, institution: str, username: str
) -> None:
    outcome = await connector.login(institution, credentials(username))

    assert outcome == LoggedIn()


def test_mfa_institutions_are_gotham_and_heimdall() -> None:
    brands = {name.split("_")[0] for name in MFA_INSTITUTIONS}

    assert brands == {"gotham", "heimdall"}
    assert len(MFA_INSTITUTIONS) == 6


# --- mfa_default ----------------------------------------------------------------------------


@pytest.mark.parametrize("institution", MFA_INSTITUTIONS)
async def test_default_flow_issues_numeric_challenge(
    connector: SandboxConnector, institution: str
) -> None:
    challenge = require_challenge(await connector.login(institution, credentials("mfa_default")))
    data = challenge.token_generation_data

    assert data.type == "numeric"
    assert data.expects_user_input is True
    assert data.instructions
    assert data.value is not None
    assert len(data.value) == 5
    assert data.value.isdigit()
    assert stored(challenge.state) == challenge.state
    assert challenge.state == {"flow": "default", "step": 1}


@pytest.mark.parametrize("institution", MFA_INSTITUTIONS)
async def test_default_flow_resumes_with_valid_token(
    connector: SandboxConnector, institution: str
) -> None:
    user = credentials("mfa_default")
    challenge = require_challenge(await connector.login(institution, user))

    outcome = await connector.resume(institution, user, stored(challenge.state), VALID_MFA_TOKEN)

    assert outcome == LoggedIn()


@pytest.mark.parametrize("token", WRONG_TOKENS)
async def test_default_flow_rejects_wrong_token(
    connector: SandboxConnector, token: str | None
) -> None:
    user = credentials("mfa_default")
    challenge = require_challenge(await connector.login("heimdall_mx_retail", user))

    outcome = await connector.resume("heimdall_mx_retail", user, stored(challenge.state), token)

    assert outcome == INVALID_MFA_TOKEN_FAILURE


async def test_default_flow_accepts_token_up_front(connector: SandboxConnector) -> None:
    outcome = await connector.login(
        "heimdall_mx_retail", credentials("mfa_default"), token=VALID_MFA_TOKEN
    )

    assert outcome == LoggedIn()


@pytest.mark.parametrize("token", ["000000", ""])
async def test_default_flow_ignores_wrong_token_up_front(
    connector: SandboxConnector, token: str
) -> None:
    without_token = await connector.login("heimdall_mx_retail", credentials("mfa_default"))
    with_token = await connector.login(
        "heimdall_mx_retail", credentials("mfa_default"), token=token
    )

    assert isinstance(with_token, Challenge)
    assert with_token == without_token


# --- mfa_qr ---------------------------------------------------------------------------------


@pytest.mark.parametrize("institution", MFA_INSTITUTIONS)
async def test_qr_flow_issues_qr_challenge(connector: SandboxConnector, institution: str) -> None:
    challenge = require_challenge(await connector.login(institution, credentials("mfa_qr")))
    data = challenge.token_generation_data

    assert data.type == "QR"
    assert data.expects_user_input is False
    assert data.instructions
    assert data.value
    assert stored(challenge.state) == challenge.state
    assert challenge.state == {"flow": "qr", "step": 1}


@pytest.mark.parametrize("token", [None, "", VALID_MFA_TOKEN, "anything"])
async def test_qr_flow_resumes_with_any_token(
    connector: SandboxConnector, token: str | None
) -> None:
    user = credentials("mfa_qr")
    challenge = require_challenge(await connector.login("gotham_br_business", user))

    outcome = await connector.resume("gotham_br_business", user, stored(challenge.state), token)

    assert outcome == LoggedIn()


async def test_qr_flow_ignores_token_up_front(connector: SandboxConnector) -> None:
    outcome = await connector.login(
        "gotham_br_business", credentials("mfa_qr"), token=VALID_MFA_TOKEN
    )

    assert isinstance(outcome, Challenge)
    assert outcome.token_generation_data.type == "QR"


# --- mfa_two_step ---------------------------------------------------------------------------


@pytest.mark.parametrize("institution", MFA_INSTITUTIONS)
async def test_two_step_flow_completes(connector: SandboxConnector, institution: str) -> None:
    user = credentials("mfa_two_step")

    first = require_challenge(await connector.login(institution, user))
    assert first.state == {"flow": "two_step", "step": 1}
    assert first.token_generation_data.type == "numeric"
    assert first.token_generation_data.expects_user_input is True

    second = require_challenge(
        await connector.resume(institution, user, stored(first.state), VALID_MFA_TOKEN)
    )
    assert second.state == {"flow": "two_step", "step": 2}
    assert second.token_generation_data.type == "numeric"
    assert second.token_generation_data.expects_user_input is True
    assert second.token_generation_data.value is not None
    assert len(second.token_generation_data.value) == 5
    assert second.token_generation_data.value.isdigit()
    assert second.token_generation_data.instructions != first.token_generation_data.instructions
    assert second.token_generation_data.value != first.token_generation_data.value

    final = await connector.resume(institution, user, stored(second.state), VALID_MFA_TOKEN)
    assert final == LoggedIn()


@pytest.mark.parametrize("token", WRONG_TOKENS)
async def test_two_step_rejects_wrong_first_token(
    connector: SandboxConnector, token: str | None
) -> None:
    user = credentials("mfa_two_step")
    first = require_challenge(await connector.login("gotham_co_business", user))

    outcome = await connector.resume("gotham_co_business", user, stored(first.state), token)

    assert outcome == INVALID_MFA_TOKEN_FAILURE


@pytest.mark.parametrize("token", WRONG_TOKENS)
async def test_two_step_rejects_wrong_second_token(
    connector: SandboxConnector, token: str | None
) -> None:
    user = credentials("mfa_two_step")
    first = require_challenge(await connector.login("gotham_co_business", user))
    second = require_challenge(
        await connector.resume("gotham_co_business", user, stored(first.state), VALID_MFA_TOKEN)
    )

    outcome = await connector.resume("gotham_co_business", user, stored(second.state), token)

    assert outcome == INVALID_MFA_TOKEN_FAILURE


async def test_two_step_ignores_token_up_front(connector: SandboxConnector) -> None:
    outcome = await connector.login(
        "gotham_co_business", credentials("mfa_two_step"), token=VALID_MFA_TOKEN
    )

    assert isinstance(outcome, Challenge)
    assert outcome.state == {"flow": "two_step", "step": 1}


# --- resume relies only on the state --------------------------------------------------------


async def test_resume_follows_state_not_username(connector: SandboxConnector) -> None:
    # The username maps to a plain login, so only the state can lead to the second step.
    outcome = await connector.resume(
        "heimdall_br_retail",
        credentials("user_valid"),
        {"flow": "two_step", "step": 1},
        VALID_MFA_TOKEN,
    )

    assert isinstance(outcome, Challenge)
    assert outcome.state == {"flow": "two_step", "step": 2}


async def test_resume_on_step_two_logs_in(connector: SandboxConnector) -> None:
    outcome = await connector.resume(
        "heimdall_br_retail",
        credentials("mfa_default"),
        {"flow": "two_step", "step": 2},
        VALID_MFA_TOKEN,
    )

    assert outcome == LoggedIn()


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"flow": "default"},
        {"flow": "unknown", "step": 1},
        {"flow": "default", "step": 2},
        {"flow": "qr", "step": 0},
        {"flow": "two_step", "step": 3},
        {"flow": "two_step", "step": "1"},
        {"flow": "two_step", "step": True},
    ],
)
async def test_resume_rejects_malformed_state(
    connector: SandboxConnector, state: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="invalid sandbox MFA state"):
        await connector.resume(
            "heimdall_mx_retail", credentials("mfa_default"), state, VALID_MFA_TOKEN
        )


# --- Determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", MFA_USERNAMES)
async def test_challenge_is_deterministic(username: str) -> None:
    first = await SandboxConnector().login("gotham_mx_business", credentials(username))
    second = await SandboxConnector().login("gotham_mx_business", credentials(username, "other"))

    assert isinstance(first, Challenge)
    assert first == second


async def test_challenge_value_depends_on_institution(connector: SandboxConnector) -> None:
    gotham = require_challenge(
        await connector.login("gotham_mx_business", credentials("mfa_default"))
    )
    heimdall = require_challenge(
        await connector.login("heimdall_mx_retail", credentials("mfa_default"))
    )

    assert gotham.token_generation_data.value != heimdall.token_generation_data.value


async def test_second_step_is_deterministic(connector: SandboxConnector) -> None:
    user = credentials("mfa_two_step")
    state = {"flow": "two_step", "step": 1}

    first = await connector.resume("heimdall_co_retail", user, state, VALID_MFA_TOKEN)
    second = await SandboxConnector().resume("heimdall_co_retail", user, state, VALID_MFA_TOKEN)

    assert isinstance(first, Challenge)
    assert first == second


# --- Documentation --------------------------------------------------------------------------


@pytest.mark.parametrize("username", sorted(RESERVED_USERNAMES))
def test_docs_list_reserved_username(username: str) -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")

    assert f"`{username}`" in page


@pytest.mark.parametrize(("username", "expected"), list(EXPECTED_FAILURES.items()))
def test_docs_state_failure_message(username: str, expected: LoginFailed) -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")

    assert expected.message in page
    assert f"`{expected.code}`" in page
