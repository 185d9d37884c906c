"""The connector interface between the link service and an institution.

A connector logs in with a link's credentials. A login either succeeds, requests an MFA token
(a challenge that the client answers with a PATCH), or fails with one of Belvo's error codes.
Connector state between a challenge and its answer is a plain JSON-able dict, which the link
service stores encrypted in the database, so any server process can resume the session.

A connector also fetches a link's data: it logs in the same way and returns accounts,
transactions, daily balances or owners as Belvo's wire objects. The server gives them their
ids and stores them, so a connector leaves `id` empty and `link` unset.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from vinculo.accounts.schemas import Account
from vinculo.balances.schemas import BalanceFields
from vinculo.owners.schemas import Owner
from vinculo.transactions.schemas import TransactionFields


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


class Resource(enum.StrEnum):
    """A kind of data that a link's institution can return (Belvo's resource names)."""

    ACCOUNTS = "accounts"
    TRANSACTIONS = "transactions"
    BALANCES = "balances"
    OWNERS = "owners"


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """The data a client requested.

    `date_from` and `date_to` (both included) are set for transactions and balances.
    `account` is the institution's own id of the one account to fetch, when the client named
    one. `refresh` is set when the server fetches on its own, in a background refresh: it is
    the link's count of such refreshes, this one included.
    """

    resource: Resource
    date_from: date | None = None
    date_to: date | None = None
    account: str | None = None
    refresh: int | None = None


@dataclass(frozen=True, slots=True)
class FetchedTransaction:
    """A transaction and the institution's own id of its account."""

    account: str
    transaction: TransactionFields


@dataclass(frozen=True, slots=True)
class FetchedBalance:
    """A daily balance and the institution's own id of its account."""

    account: str
    balance: BalanceFields


@dataclass(frozen=True, slots=True)
class Fetched:
    """The data an institution returned.

    Transactions and balances come with the accounts they belong to, because the server
    embeds the account in each of them.
    """

    accounts: tuple[Account, ...] = ()
    transactions: tuple[FetchedTransaction, ...] = ()
    balances: tuple[FetchedBalance, ...] = ()
    owners: tuple[Owner, ...] = ()


FetchOutcome = Fetched | Challenge | LoginFailed


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
        """Log in and fetch the data of `request`, as of `collected_at`.

        `state` is set when this call resumes a challenge that an earlier `fetch` returned;
        `token` is the client's MFA token, sent up front or to resume that challenge.
        """
        ...
