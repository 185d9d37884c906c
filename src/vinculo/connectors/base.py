"""The connector interface between the link service and an institution.

A connector logs in with a link's credentials. A login either succeeds, requests an MFA token
(a challenge that the client answers with a PATCH), or fails with one of Belvo's error codes.
Connector state between a challenge and its answer is a plain JSON-able dict, which the link
service stores encrypted in the database, so any server process can resume the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Credentials:
    """The secrets an end user types into the bank's login form."""

    username: str
    password: str | None = None
    username2: str | None = None
    username3: str | None = None
    password2: str | None = None
    username_type: str | None = None
    certificate: str | None = None
    private_key: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """The institution accepted the credentials."""


@dataclass(frozen=True, slots=True)
class TokenGenerationData:
    """Data the end user needs to produce the MFA token (Belvo's `token_generation_data`)."""

    type: str
    instructions: str
    value: str | None = None
    expects_user_input: bool = True


@dataclass(frozen=True, slots=True)
class Challenge:
    """The institution requests an MFA token; `state` is kept to resume the login."""

    token_generation_data: TokenGenerationData
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoginFailed:
    """The institution rejected the login, expressed as a Belvo error code and message.

    `status` is the HTTP status Belvo returns for this code (400 for most, 408 for
    `request_timeout`, 500 for `unexpected_error`).
    """

    code: str
    message: str
    status: int = 400


LoginOutcome = LoggedIn | Challenge | LoginFailed


class Connector(Protocol):
    """A way of logging in to one family of institutions."""

    async def login(
        self, institution: str, credentials: Credentials, *, token: str | None = None
    ) -> LoginOutcome:
        """Log in with `credentials`; `token` is an MFA token sent up front, if any."""
        ...

    async def resume(
        self,
        institution: str,
        credentials: Credentials,
        state: dict[str, Any],
        token: str | None,
    ) -> LoginOutcome:
        """Resume the login that produced `state`, sending `token`."""
        ...
