"""Retrieving a link's data from its institution: `POST` and `PATCH` on the data resources.

A retrieval runs like a login on an existing link (see `vinculo.links.logins`). It takes the
link's login lease and calls the connector with no transaction open. Then one unit of work
stores everything the connector returned, moves the link's `last_accessed_at` and releases the
lease. A retrieval that fails at any point stores nothing. A 428 keeps the client's request in
the MFA session, so the PATCH that resumes it fetches the same data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
import structlog
from msgspec import UNSET, UnsetType

from vinculo.accounts import repository as accounts_repository
from vinculo.accounts.schemas import ResumeRequest, is_save_requested
from vinculo.accounts.service import save_accounts
from vinculo.balances.service import save_balances
from vinculo.connectors.base import Challenge, Fetched, FetchOutcome, FetchRequest, Resource
from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.institutions.service import check_status_up
from vinculo.links import repository as links_repository
from vinculo.links.credentials import SessionState, open_credentials, open_session
from vinculo.links.forms import find_institution
from vinculo.links.logins import (
    LoginLease,
    raise_login_failure,
    session_lifetime,
    start_session,
)
from vinculo.links.status import LinkEvent, LinkStatus, next_status
from vinculo.owners.service import save_owners
from vinculo.security.vault import Sealed
from vinculo.tenants.service import Principal
from vinculo.transactions.service import save_transactions
from vinculo.wire.errors import (
    DoesNotExist,
    ExpiredCredentials,
    InvalidLink,
    InvalidValue,
    SessionExpired,
    UnconfirmedLink,
    UnsupportedOperation,
    ValidationError,
)

logger = structlog.get_logger(__name__)

# Belvo rejects a range of more than a year with 400 `validation_error`.
MAX_RANGE_DAYS = 365
# SDKs default `date_to` to the client's local date, which can be a day ahead of UTC.
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetrievalInput:
    """The fields of a retrieval body that every resource shares, already parsed."""

    link: uuid.UUID
    token: str | None
    save: bool
    encryption_key: str | None
    date_from: date | None = None
    date_to: date | None = None
    account: uuid.UUID | None = None


def retrieval_input(body: Any) -> RetrievalInput:
    """Read a decoded accounts, owners, transactions or balances request body."""
    return RetrievalInput(
        link=body.link,
        token=_unset_to_none(body.token),
        save=is_save_requested(body.save_data),
        encryption_key=_unset_to_none(body.encryption_key),
        date_from=getattr(body, "date_from", None),
        date_to=getattr(body, "date_to", None),
        account=_unset_to_none(getattr(body, "account", UNSET)),
    )


def _unset_to_none(value: Any) -> Any:
    return None if value is UNSET else value


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The result of a retrieval: the objects, and whether they were stored (201) or not (200)."""

    items: list[msgspec.Raw]
    saved: bool


def check_dates(date_from: date, date_to: date, *, today: date) -> None:
    """Apply Belvo's rules on a retrieval's date range."""
    if date_from > date_to:
        raise InvalidValue("date_from cannot be later than date_to.", field="date_from")
    if date_to > today + FUTURE_SLACK:
        raise InvalidValue(
            "date_to cannot be a future date (later than tomorrow in UTC).", field="date_to"
        )
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        raise ValidationError(
            f"The date range cannot be longer than {MAX_RANGE_DAYS} days; "
            "split it into several requests."
        )


def check_link(row: Any, resource: Resource | None, now: datetime) -> None:
    """Raise the error that the link's state gives a retrieval of `resource`, if any; None
    checks the link alone.

    A lapsed storage period is checked before the status: retention also marks such a link
    invalid, and the error must not depend on whether retention has run yet.
    """
    expire_at = row.credentials_expire_at
    if expire_at is not None and expire_at <= now:
        raise ExpiredCredentials()
    if row.status == LinkStatus.INVALID:
        raise InvalidLink()
    if row.status == LinkStatus.UNCONFIRMED:
        raise UnconfirmedLink()
    if row.credentials_storage == "nostore":
        raise ExpiredCredentials()
    if (
        resource is not None
        and resource.value.upper() not in find_institution(row.institution).resources
    ):
        raise UnsupportedOperation()


async def check_retrieval(
    context: AppContext, principal: Principal, resource: Resource, body: RetrievalInput
) -> FetchRequest:
    """Apply the checks of a retrieval that need no login, and return what to fetch."""
    tenant_id = principal.tenant_id
    now = context.clock.now()
    if body.date_from is not None and body.date_to is not None:
        check_dates(body.date_from, body.date_to, today=now.date())
    link_id = str(body.link)
    account = None
    async with context.database.unit_of_work() as uow:
        row = await links_repository.get_link(uow, tenant_id, link_id)
        if row is not None and body.account is not None:
            account = await accounts_repository.get_reference(uow, tenant_id, str(body.account))
    if row is None:
        raise DoesNotExist(f'Invalid pk "{link_id}" - object does not exist.', field="link")
    check_link(row, resource, now)
    if body.account is not None and (account is None or account.link_id != link_id):
        raise DoesNotExist(f'Invalid pk "{body.account}" - object does not exist.', field="account")
    return FetchRequest(
        resource,
        date_from=body.date_from,
        date_to=body.date_to,
        account=account.internal_identification if account is not None else None,
    )


async def retrieve(
    context: AppContext, principal: Principal, resource: Resource, body: RetrievalInput
) -> Retrieval:
    """Fetch a link's data from its institution: `POST /api/{resource}/`."""
    tenant_id = principal.tenant_id
    now = context.clock.now()
    link_id = str(body.link)
    request = await check_retrieval(context, principal, resource, body)

    async with LoginLease(context, tenant_id, link_id) as lease:
        # The link may have changed since the checks above.
        check_link(lease.link, resource, now)
        if lease.sealed is None:
            raise ExpiredCredentials()
        credentials = open_credentials(
            context.vault,
            lease.sealed,
            tenant_id=tenant_id,
            link_id=link_id,
            encryption_key=_client_key(lease.sealed, body.encryption_key),
        )
        state = SessionState(
            credentials,
            {},
            body.encryption_key,
            retrieval=request,
            account_id=str(body.account) if body.account is not None else None,
        )
        institution = find_institution(lease.link.institution)
        check_status_up(context, lease.link.institution_status)
        outcome = await context.connector.fetch(
            institution.name, credentials, request, collected_at=now, token=body.token
        )
        return await _conclude(
            context, lease, tenant_id, lease.link, state, outcome, save=body.save, now=now
        )


def _client_key(sealed: Sealed, encryption_key: str | None) -> str | None:
    # A key sent for credentials that the client never sealed is not needed, and ignored.
    return encryption_key if sealed.client_key_salt is not None else None


async def resume(
    context: AppContext, principal: Principal, resource: Resource, body: ResumeRequest
) -> Retrieval:
    """Resume a retrieval paused by a 428, sending the MFA token: `PATCH /api/{resource}/`."""
    tenant_id = principal.tenant_id
    now = context.clock.now()
    async with context.database.unit_of_work() as uow:
        session = await links_repository.get_session(uow, tenant_id, body.session)
        if session is None:
            raise SessionExpired()
        _check_session(session, resource, body.link)
        expired = session.expires_at <= now
        if expired:
            # Deleted in this unit of work, which must commit before the error is raised.
            await links_repository.delete_session(uow, tenant_id, session.id)
        row = await links_repository.get_link(uow, tenant_id, session.link_id)
    if expired:
        logger.info("retrieval.session_expired", link_id=session.link_id, session=session.id)
        raise SessionExpired()
    assert row is not None, "sessions are deleted with their link"
    sealed = Sealed(session.wrapped_key, session.ciphertext, session.client_key_salt)
    state = open_session(
        context.vault, sealed, tenant_id=tenant_id, session_id=session.id, link_id=row.id
    )
    if state.retrieval is None:
        raise SessionExpired()
    check_link(row, resource, now)
    if state.account_id is not None:
        # The account may have been deleted since the 428; the retrieval must not bring it back.
        await _check_account(context, tenant_id, row.id, state.account_id)

    async with LoginLease(context, tenant_id, row.id) as lease:
        institution = find_institution(row.institution)
        check_status_up(context, lease.link.institution_status)
        outcome = await context.connector.fetch(
            institution.name,
            state.credentials,
            state.retrieval,
            collected_at=now,
            token=_unset_to_none(body.token),
            state=state.connector_state,
        )
        return await _conclude(
            context,
            lease,
            tenant_id,
            lease.link,
            state,
            outcome,
            save=is_save_requested(body.save_data),
            now=now,
            session_id=session.id,
        )


async def _check_account(
    context: AppContext, tenant_id: str, link_id: str, account_id: str
) -> None:
    async with context.database.unit_of_work() as uow:
        account = await accounts_repository.get_reference(uow, tenant_id, account_id)
    if account is None or account.link_id != link_id:
        raise DoesNotExist(f'Invalid pk "{account_id}" - object does not exist.', field="account")


def _check_session(session: Any, resource: Resource, link: uuid.UUID | UnsetType) -> None:
    if link is not UNSET and str(link) != session.link_id:
        raise InvalidValue("The session does not belong to this link.", field="link")
    if session.purpose != resource.value:
        raise InvalidValue(
            "This session was not opened by a request on this endpoint; resume it where the "
            "428 response came from.",
            field="session",
        )


async def _conclude(
    context: AppContext,
    lease: LoginLease,
    tenant_id: str,
    row: Any,
    state: SessionState,
    outcome: FetchOutcome,
    *,
    save: bool,
    now: datetime,
    session_id: str | None = None,
) -> Retrieval:
    """Store the connector's data, or open an MFA session, or raise its error."""
    assert state.retrieval is not None
    resource = state.retrieval.resource
    if not isinstance(outcome, Fetched | Challenge):
        logger.info("retrieval.failed", link_id=row.id, resource=resource.value, code=outcome.code)
        # The session, when there is one, stays usable until it expires.
        raise_login_failure(outcome)
    async with context.database.unit_of_work() as uow:
        if session_id is not None and not await links_repository.delete_session(
            uow, tenant_id, session_id
        ):
            # Another request completed this session while the institution handled this one.
            raise SessionExpired()
        if isinstance(outcome, Challenge):
            challenge = await start_session(
                context,
                uow,
                tenant_id,
                row.id,
                purpose=resource.value,
                state=state.with_connector_state(outcome.state),
                lifetime=session_lifetime(context, row.credentials_storage),
                outcome=outcome,
            )
        else:
            status = next_status(LinkStatus(row.status), LinkEvent.LOGIN_SUCCEEDED)
            updated = await links_repository.record_login(
                uow, tenant_id, row.id, status=status.value, now=now
            )
            if updated is None:
                # The link was deleted while the institution handled the retrieval.
                raise DoesNotExist(f'Invalid pk "{row.id}" - object does not exist.', field="link")
            if state.account_id is not None and (
                await accounts_repository.get_reference(uow, tenant_id, state.account_id) is None
            ):
                # Deleted while the institution handled the retrieval, so storing would
                # bring it back.
                raise DoesNotExist(
                    f'Invalid pk "{state.account_id}" - object does not exist.', field="account"
                )
            items = await _save(uow, tenant_id, row.id, resource, outcome, save=save)
            lease.released_by(uow)
            uow.after_commit(
                lambda: logger.info(
                    "retrieval.succeeded",
                    link_id=row.id,
                    tenant_id=tenant_id,
                    resource=resource.value,
                    count=len(items),
                    saved=save,
                )
            )
    if isinstance(outcome, Challenge):
        logger.info("retrieval.token_required", link_id=row.id, resource=resource.value)
        raise challenge
    return Retrieval(items, saved=save)


async def _save(
    uow: UnitOfWork,
    tenant_id: str,
    link_id: str,
    resource: Resource,
    fetched: Fetched,
    *,
    save: bool,
) -> list[msgspec.Raw]:
    if resource is Resource.OWNERS:
        return await save_owners(
            uow, tenant_id=tenant_id, link_id=link_id, collected=fetched.owners, save=save
        )
    accounts = await save_accounts(
        uow, tenant_id=tenant_id, link_id=link_id, collected=fetched.accounts, save=save
    )
    if resource is Resource.ACCOUNTS:
        return [msgspec.Raw(account.body) for account in accounts.values()]
    if resource is Resource.TRANSACTIONS:
        return await save_transactions(
            uow,
            tenant_id=tenant_id,
            link_id=link_id,
            stored_accounts=accounts,
            collected=fetched.transactions,
            save=save,
        )
    return await save_balances(
        uow,
        tenant_id=tenant_id,
        link_id=link_id,
        stored_accounts=accounts,
        collected=fetched.balances,
        save=save,
    )
