"""The sandbox connector: deterministic logins to the demo institutions of the catalogue.

Every username/password pair logs in, except the reserved usernames in `RESERVED_USERNAMES`
and the password `pass_invalid`. They trigger Belvo's error codes and MFA flows so that
clients can test their error handling without a real bank. Usernames are compared
case-sensitively. The connector does no I/O. Its only wait is the `asyncio.sleep` of the
`login_slow` user.

Data comes from `vinculo.sandbox_data`, generated from the institution and the username as of
the day of `collected_at`, so it moves with the sandbox clock. The usernames in
`DATA_SCENARIOS` log in normally but make data requests fail or ask for a token.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from vinculo.connectors.base import (
    Challenge,
    Credentials,
    Fetched,
    FetchedBalance,
    FetchedTransaction,
    FetchOutcome,
    FetchRequest,
    LoggedIn,
    LoginFailed,
    LoginOutcome,
    Resource,
    TokenGenerationData,
)
from vinculo.institutions.catalogue import find_by_name
from vinculo.institutions.schemas import Institution
from vinculo.sandbox_data import daily_balances, profile_for, transactions_for
from vinculo.sandbox_data.wire import (
    account_to_wire,
    balance_fields,
    owner_to_wire,
    transaction_fields,
)

# The two values below are sandbox test values, documented in docs/sandbox.md, not secrets.
# The only MFA token that the sandbox accepts, at every step of every flow that checks it.
VALID_MFA_TOKEN: Final = "123456"
# A password that fails the login with `login_error`, whatever the username.
INVALID_PASSWORD: Final = "pass_invalid"

INVALID_CREDENTIALS: Final = LoginFailed(
    "login_error", "Invalid credentials provided to login to the institution"
)
INVALID_MFA_TOKEN: Final = LoginFailed(
    "login_error", "Invalid MFA token provided to login to the institution"
)


class MFAFlow(enum.StrEnum):
    """An MFA flow of the sandbox. The value is stored as `flow` in the challenge state."""

    DEFAULT = "default"
    QR = "qr"
    TWO_STEP = "two_step"


@dataclass(frozen=True, slots=True)
class SlowLogin:
    """A login that succeeds after the connector's `slow_login_seconds` delay."""


ReservedOutcome = LoggedIn | LoginFailed | MFAFlow | SlowLogin


class DataScenario(enum.StrEnum):
    """A user that logs in normally but whose data requests behave in a fixed way."""

    # Every data request returns 428 unless it carries the token 123456.
    TOKEN_EVERY_TIME = "token_every_time"
    # A date range whose `date_to - date_from` is over `LONG_RANGE_DAYS` days times out
    # (408 `request_timeout`).
    TIMEOUT_ON_LONG_RANGE = "timeout_on_long_range"
    # Every data request returns 400 `unavailable_data`.
    NO_DATA = "no_data"


DATA_SCENARIOS: Final[Mapping[str, DataScenario]] = MappingProxyType(
    {
        "mfa_data": DataScenario.TOKEN_EVERY_TIME,
        "timeout_long_range": DataScenario.TIMEOUT_ON_LONG_RANGE,
        "no_data": DataScenario.NO_DATA,
    }
)
# Usernames that behave normally except on one background refresh of their link: on its N-th
# refresh (historical updates included), `invalid_on_refresh_N` fails with `login_error`, so the
# link turns `invalid`, and `token_on_refresh_N` requests a token, so it turns `token_required`.
REFRESH_SCENARIO: Final = re.compile(r"(invalid|token)_on_refresh_([1-9][0-9]{0,3})")
# Ranges up to a quarter work for the `timeout_long_range` user; a year does not.
LONG_RANGE_DAYS: Final = 90
UNAVAILABLE_DATA: Final = LoginFailed(
    "unavailable_data", "The institution did not return any data for the request."
)
REQUEST_TIMEOUT: Final = LoginFailed(
    "request_timeout",
    "The request timed out, you can retry asking for less data by changing your query parameters",
    status=408,
)


# Usernames with a fixed behaviour. The MFA flows apply only to institutions with the
# `token_required` feature, and the same usernames log in directly everywhere else.
RESERVED_USERNAMES: Final[Mapping[str, ReservedOutcome]] = MappingProxyType(
    {
        "user_valid": LoggedIn(),
        "bnk100": LoggedIn(),
        "login_error": INVALID_CREDENTIALS,
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
        "request_timeout": REQUEST_TIMEOUT,
        "unexpected_error": LoginFailed(
            "unexpected_error",
            "Belvo is unable to process the request due to an internal system issue or to an "
            "unsupported response from an institution",
            status=500,
        ),
        "login_slow": SlowLogin(),
        "mfa_default": MFAFlow.DEFAULT,
        "mfa_qr": MFAFlow.QR,
        "mfa_two_step": MFAFlow.TWO_STEP,
    }
)


def _challenge_digest(institution: str, username: str, step: int) -> str:
    """Hash the inputs of a challenge, with SHA-256 so the result is the same in every process."""
    return hashlib.sha256(f"{institution}\x00{username}\x00{step}".encode()).hexdigest()


def _challenge_code(institution: str, username: str, step: int) -> str:
    """Derive the 5-digit code that a numeric challenge shows the user, such as `04217`."""
    return f"{int(_challenge_digest(institution, username, step), 16) % 100_000:05d}"


def _numeric_challenge(
    flow: MFAFlow, step: int, institution: str, username: str, instructions: str
) -> Challenge:
    return Challenge(
        token_generation_data=TokenGenerationData(
            type="numeric",
            instructions=instructions,
            value=_challenge_code(institution, username, step),
            expects_user_input=True,
        ),
        state={"flow": flow.value, "step": step},
    )


def _default_challenge(institution: str, username: str) -> Challenge:
    return _numeric_challenge(
        MFAFlow.DEFAULT,
        1,
        institution,
        username,
        "Enter the challenge code into your token device and type the token it shows. "
        f"In the sandbox, the token is {VALID_MFA_TOKEN}.",
    )


def _two_step_challenge(step: int, institution: str, username: str) -> Challenge:
    if step == 1:
        instructions = (
            "Step 1 of 2: enter the challenge code into your token device and type the token "
            f"it shows. In the sandbox, the token is {VALID_MFA_TOKEN}."
        )
    else:
        instructions = (
            "Step 2 of 2: type the security code that the bank sent to your phone by SMS. "
            f"In the sandbox, the code is {VALID_MFA_TOKEN}."
        )
    return _numeric_challenge(MFAFlow.TWO_STEP, step, institution, username, instructions)


def _qr_challenge(institution: str, username: str) -> Challenge:
    payload = f"VINCULO-SANDBOX-QR:{_challenge_digest(institution, username, 1)[:32]}"
    return Challenge(
        token_generation_data=TokenGenerationData(
            type="QR",
            instructions=(
                "Scan the QR code with the bank's mobile app and approve the login there. "
                "In the sandbox, no scan is needed: resume the session with any token or none."
            ),
            value=payload,
            expects_user_input=False,
        ),
        state={"flow": MFAFlow.QR.value, "step": 1},
    )


def _parse_state(state: Mapping[str, Any]) -> tuple[MFAFlow, int]:
    """Parse the flow and step of a challenge state, raising ValueError when it is malformed."""
    flow_value = state.get("flow")
    step = state.get("step")
    valid_flows = [flow.value for flow in MFAFlow]
    if flow_value not in valid_flows:
        raise ValueError(
            f"invalid sandbox MFA state {dict(state)!r}: 'flow' must be one of {valid_flows}"
        )

    flow = MFAFlow(flow_value)
    max_step = 2 if flow is MFAFlow.TWO_STEP else 1
    # bool is a subclass of int, so reject it explicitly.
    if not isinstance(step, int) or isinstance(step, bool) or not 1 <= step <= max_step:
        raise ValueError(
            f"invalid sandbox MFA state {dict(state)!r}: 'step' must be an integer "
            f"from 1 to {max_step} for flow {flow.value!r}"
        )
    return flow, step


class SandboxConnector:
    """A `Connector` for the sandbox catalogue, driven by `RESERVED_USERNAMES`.

    `slow_login_seconds` is the delay in seconds before the `login_slow` user logs in.
    """

    def __init__(
        self, *, slow_login_seconds: float = 1.0, fetch_delay_seconds: float = 0.0
    ) -> None:
        for name, value in (
            ("slow_login_seconds", slow_login_seconds),
            ("fetch_delay_seconds", fetch_delay_seconds),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        self._slow_login_seconds = slow_login_seconds
        self._fetch_delay_seconds = fetch_delay_seconds

    async def login(
        self, institution: str, credentials: Credentials, *, token: str | None = None
    ) -> LoginOutcome:
        """Log in to a sandbox institution, following the rules of `RESERVED_USERNAMES`.

        The password `pass_invalid` fails first, before any reserved username applies.
        An up-front `token` matters only for `mfa_default`: `123456` logs in without a
        challenge, and any other token is ignored. Raises ValueError when `institution` is
        not in the sandbox catalogue.
        """
        catalogue_entry = find_by_name(institution)
        if catalogue_entry is None:
            raise ValueError(
                f"institution {institution!r} is not in the sandbox catalogue. "
                "The caller must reject unknown institutions before calling the connector."
            )

        if credentials.password == INVALID_PASSWORD:
            return INVALID_CREDENTIALS

        outcome = RESERVED_USERNAMES.get(credentials.username)
        if outcome is None:
            return LoggedIn()
        if isinstance(outcome, LoggedIn | LoginFailed):
            return outcome
        if isinstance(outcome, SlowLogin):
            await asyncio.sleep(self._slow_login_seconds)
            return LoggedIn()

        if not catalogue_entry.requires_token:
            return LoggedIn()
        return self._start_mfa(outcome, institution, credentials.username, token)

    async def resume(
        self,
        institution: str,
        credentials: Credentials,
        state: dict[str, Any],
        token: str | None,
    ) -> LoginOutcome:
        """Resume the login that produced `state`, checking `token` against its challenge.

        The outcome depends only on `state` and `token`. `institution` and the username only
        seed the code shown by a second challenge. Raises ValueError when `state` was not
        produced by this connector.
        """
        flow, step = _parse_state(state)

        if flow is MFAFlow.QR:
            # The user approves a QR login on another device, so there is no token to check.
            return LoggedIn()
        if token != VALID_MFA_TOKEN:
            return INVALID_MFA_TOKEN
        if flow is MFAFlow.TWO_STEP and step == 1:
            return _two_step_challenge(2, institution, credentials.username)
        return LoggedIn()

    @staticmethod
    def _start_mfa(
        flow: MFAFlow, institution: str, username: str, token: str | None
    ) -> LoginOutcome:
        if flow is MFAFlow.DEFAULT:
            if token == VALID_MFA_TOKEN:
                return LoggedIn()
            return _default_challenge(institution, username)
        if flow is MFAFlow.QR:
            return _qr_challenge(institution, username)
        return _two_step_challenge(1, institution, username)

    async def fetch(
        self,
        institution: str,
        credentials: Credentials,
        request: FetchRequest,
        *,
        collected_at: datetime,
        token: str | None = None,
        state: dict[str, Any] | None = None,
    ) -> FetchOutcome:
        """Log in as `login` does, then return the user's generated data for `request`.

        `DATA_SCENARIOS` users fail or ask for a token first. With `state`, the call resumes
        the challenge of an earlier fetch, checked as `resume` checks it. Raises ValueError
        when `institution` is not in the sandbox catalogue or `state` is malformed.
        Every call waits `fetch_delay_seconds` first, as a bank's response would.
        """
        if self._fetch_delay_seconds:
            await asyncio.sleep(self._fetch_delay_seconds)
        if state is not None:
            resumed = await self.resume(institution, credentials, state, token)
            if not isinstance(resumed, LoggedIn):
                return resumed
        else:
            logged_in = await self.login(institution, credentials, token=token)
            if isinstance(logged_in, LoginFailed):
                return logged_in
            # An MFA user already passed a challenge when the link was registered, so only
            # the `mfa_data` user meets one on data requests.
            scenario = DATA_SCENARIOS.get(credentials.username)
            if scenario is DataScenario.TOKEN_EVERY_TIME and token != VALID_MFA_TOKEN:
                return _default_challenge(institution, credentials.username)

        if request.refresh is not None:
            failure = _refresh_failure(institution, credentials.username, request.refresh)
            if failure is not None:
                return failure
        scenario = DATA_SCENARIOS.get(credentials.username)
        if scenario is DataScenario.NO_DATA:
            return UNAVAILABLE_DATA
        if (
            scenario is DataScenario.TIMEOUT_ON_LONG_RANGE
            and _range_days(request) > LONG_RANGE_DAYS
        ):
            return REQUEST_TIMEOUT
        entry = find_by_name(institution)
        assert entry is not None, "login() rejects institutions outside the catalogue"
        return _collect(entry, credentials.username, request, collected_at)


def _refresh_failure(institution: str, username: str, refresh: int) -> FetchOutcome | None:
    """Return how the `REFRESH_SCENARIO` user's `refresh`-th refresh fails, if it does."""
    match = REFRESH_SCENARIO.fullmatch(username)
    if match is None or int(match[2]) != refresh:
        return None
    if match[1] == "invalid":
        return INVALID_CREDENTIALS
    return _default_challenge(institution, username)


def _range_days(request: FetchRequest) -> int:
    """Return `date_to - date_from` in days, counted as the 365-day limit of the API counts."""
    if request.date_from is None or request.date_to is None:
        return 0
    return (request.date_to - request.date_from).days


def _collect(
    institution: Institution, username: str, request: FetchRequest, collected_at: datetime
) -> Fetched:
    """Return the generated data of one user as the institution shows it on `collected_at`."""
    profile = profile_for(institution.name, username)
    today = collected_at.date()
    if request.resource is Resource.OWNERS:
        owners = tuple(
            owner_to_wire(
                spec, owner_id="", link_id="", collected_at=collected_at, created_at=collected_at
            )
            for spec in profile.owners
        )
        return Fetched(owners=owners)

    specs = [
        spec
        for spec in profile.accounts
        if request.account is None or spec.internal_identification == request.account
    ]
    accounts = tuple(
        account_to_wire(
            profile,
            spec,
            account_id="",
            link_id="",
            institution=institution,
            collected_at=collected_at,
            created_at=collected_at,
            today=today,
        )
        for spec in specs
    )
    if request.resource is Resource.ACCOUNTS:
        return Fetched(accounts=accounts)

    assert request.date_from is not None and request.date_to is not None
    if request.resource is Resource.TRANSACTIONS:
        transactions = tuple(
            FetchedTransaction(
                spec.internal_identification,
                transaction_fields(
                    item, transaction_id="", collected_at=collected_at, created_at=collected_at
                ),
            )
            for spec in specs
            for item in transactions_for(
                profile, spec, request.date_from, request.date_to, today=today
            )
        )
        return Fetched(accounts=accounts, transactions=transactions)

    balances = tuple(
        FetchedBalance(
            spec.internal_identification,
            balance_fields(day, amount, balance_id="", collected_at=collected_at),
        )
        for spec in specs
        for day, amount in daily_balances(
            profile, spec, request.date_from, request.date_to, today=today
        )
    )
    return Fetched(accounts=accounts, balances=balances)
