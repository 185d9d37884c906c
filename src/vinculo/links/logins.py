"""Logins on existing links: shared steps, credential updates (PUT) and MFA resumption.

A login talks to the institution, which may take seconds, so no database transaction is held
open across it. A login on an existing link runs in three short units of work: take the link's
login lease, call the connector, then store the outcome and release the lease. A failed login
stores nothing but the lease release.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NoReturn

import structlog
from msgspec import UNSET

from vinculo.connectors.base import Challenge, Credentials, LoginFailed
from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.institutions.schemas import Institution
from vinculo.institutions.service import check_status_up
from vinculo.links import repository
from vinculo.links.credentials import (
    SessionState,
    institution_user_id,
    open_credentials,
    open_session,
    seal_credentials,
    seal_session,
)
from vinculo.links.forms import (
    RECURRENT_ENCRYPTION_KEY,
    check_certificate_pair,
    find_institution,
    form_errors,
    unset_to_none,
    used_fields,
)
from vinculo.links.schemas import (
    Link,
    LinkResumeRequest,
    LinkUpdateRequest,
    TokenGenerationDataOut,
)
from vinculo.links.service import link_from_row, parse_link_id
from vinculo.links.status import LinkEvent, LinkStatus, next_status
from vinculo.refreshes.schedule import schedule_historical_update
from vinculo.security.vault import Sealed
from vinculo.tenants.service import Principal
from vinculo.wire.errors import (
    Duplicated,
    InvalidValue,
    NotFound,
    SessionExpired,
    TokenRequired,
    TooManySessions,
    ValidationError,
    ValidationFailed,
    error_for_code,
)

logger = structlog.get_logger(__name__)

# Belvo keeps the credentials of a `nostore` link only while an MFA session is open, 15 minutes
# at most.
NOSTORE_SESSION_LIMIT = timedelta(minutes=15)
# The MFA sessions that `PATCH /api/links/` resumes; data retrievals name their resource.
LOGIN_PURPOSES = frozenset({"register", "update"})
NO_CREDENTIALS = "This link keeps no credentials to update; register the link again."


def raise_login_failure(outcome: LoginFailed) -> NoReturn:
    raise error_for_code(outcome.code, outcome.message, outcome.status)


def storage_expiry(storage: str, created_at: datetime) -> datetime | None:
    if storage.endswith("d") and storage != "nostore":
        return created_at + timedelta(days=int(storage[:-1]))
    return None


def session_lifetime(context: AppContext, storage: str) -> timedelta:
    lifetime = timedelta(seconds=context.settings.mfa_session_seconds)
    if storage == "nostore":
        lifetime = min(lifetime, NOSTORE_SESSION_LIMIT)
    return lifetime


async def store_credentials(
    context: AppContext,
    uow: UnitOfWork,
    tenant_id: str,
    link_id: str,
    storage: str,
    credentials: Credentials,
    encryption_key: str | None,
    now: datetime,
) -> None:
    if storage == "nostore":
        return
    sealed = seal_credentials(
        context.vault,
        credentials,
        tenant_id=tenant_id,
        link_id=link_id,
        encryption_key=encryption_key,
    )
    await repository.save_credentials(uow, tenant_id, link_id, sealed, now)


async def start_session(
    context: AppContext,
    uow: UnitOfWork,
    tenant_id: str,
    link_id: str,
    *,
    purpose: str,
    state: SessionState,
    lifetime: timedelta,
    outcome: Challenge,
) -> TokenRequired:
    """Store an MFA session and return the 428 error with what the client needs to resume."""
    await uow.begin_write()
    if await repository.get_link(uow, tenant_id, link_id) is None:
        # The link was deleted while the institution handled the login.
        raise NotFound()
    session_id = uuid.uuid4().hex
    now = context.clock.now()
    sealed = seal_session(
        context.vault, state, tenant_id=tenant_id, session_id=session_id, link_id=link_id
    )
    await repository.insert_session(
        uow,
        session_id=session_id,
        tenant_id=tenant_id,
        link_id=link_id,
        purpose=purpose,
        sealed=sealed,
        expires_at=now + lifetime,
        now=now,
    )
    data = outcome.token_generation_data
    token_data = TokenGenerationDataOut(
        instructions=data.instructions,
        type=data.type,
        value=data.value,
        expects_user_input=data.expects_user_input,
    )
    return TokenRequired(
        session=session_id,
        expiry=int(lifetime.total_seconds()),
        link=link_id,
        token_generation_data=token_data,
    )


REQUEST_HOLDER = "request"
REFRESH_HOLDER = "refresh"
JOB_HOLDER_PREFIX = f"{REFRESH_HOLDER}:"
# The leases of every refresh job, which a refresh job takes over (see `LoginLease`).
JOB_LEASE_PATTERN = f"{JOB_HOLDER_PREFIX}%"
# How often a client's request looks again at a link that a background refresh holds.
REFRESH_POLL_SECONDS = 0.05


class LoginLease:
    """The right to run the one login a link may have at a time (`too_many_sessions`).

    Entering takes the lease and loads the link with its sealed credentials in one statement,
    so a login costs two commits in all: this one and the one that stores the outcome and
    releases the lease (see `released_by`). A login that fails releases it on exit.

    `holder` names who logs in: a client's request (`request`), or a background refresh
    (`refresh`, or `refresh:<job id>` in a job). A request that finds a refresh running waits
    for it, up to `refresh_wait_seconds`, because the client did not start that refresh and
    cannot know about it. A request that finds another request running gets
    `too_many_sessions` at once, as Belvo answers.

    A refresh job takes over a lease that any refresh job holds, its own or another's.
    Procrastinate runs one job at a time per link (the `link:<id>` lock), so such a lease was
    left by a run that ended without releasing it: its worker died, or the database was cut
    off when it tried.
    """

    def __init__(
        self, context: AppContext, tenant_id: str, link_id: str, *, holder: str = REQUEST_HOLDER
    ) -> None:
        self._context = context
        self._tenant_id = tenant_id
        self._link_id = link_id
        self._holder = holder
        self._held = False
        self.link: Any = None
        self.sealed: Sealed | None = None

    async def __aenter__(self) -> LoginLease:
        settings = self._context.settings
        deadline = time.monotonic() + settings.refresh_wait_seconds
        is_job = self._holder.startswith(JOB_HOLDER_PREFIX)
        while True:
            now = self._context.clock.real_now()
            until = now + timedelta(seconds=settings.login_lease_seconds)
            # Taking the lease is one conditional UPDATE of the link's row, and only leases
            # read and write its lease columns.
            async with self._context.database.single_statement() as uow:
                taken = await repository.take_login_lease(
                    uow,
                    self._tenant_id,
                    self._link_id,
                    now=now,
                    until=until,
                    holder=self._holder,
                    takeover=JOB_LEASE_PATTERN if is_job else None,
                )
                if taken is None:
                    current = await repository.lease_holder(uow, self._tenant_id, self._link_id)
            if taken is not None:
                break
            if current is None:
                raise NotFound()
            if (
                self._holder == REQUEST_HOLDER
                and (current.login_lease_holder or "").startswith(REFRESH_HOLDER)
                and time.monotonic() < deadline
            ):
                await asyncio.sleep(REFRESH_POLL_SECONDS)
                continue
            logger.info("link.login_rejected_busy", link_id=self._link_id, holder=self._holder)
            raise TooManySessions()
        self.link, self.sealed = taken
        self._held = True
        return self

    def released_by(self, uow: UnitOfWork) -> None:
        """Note that `uow` clears the lease; it stays held if that work rolls back."""
        uow.after_commit(self._mark_released)

    def _mark_released(self) -> None:
        self._held = False

    async def __aexit__(self, *exc_info: object) -> None:
        if not self._held:
            return
        # Shielded: a login cancelled by a shutdown still releases the link, rather than
        # leaving it busy until the lease expires.
        await asyncio.shield(self._release())
        self._held = False

    async def _release(self) -> None:
        async with self._context.database.single_statement() as uow:
            await repository.release_login_lease(uow, self._tenant_id, self._link_id)


def _user_id_after(
    context: AppContext,
    tenant_id: str,
    institution: Institution,
    stored: Credentials,
    credentials: Credentials,
) -> str | None:
    """Return the new `institution_user_id` when an update changes `username_type`."""
    if credentials.username_type == stored.username_type:
        return None
    return institution_user_id(
        context.pepper,
        tenant_id=tenant_id,
        institution=institution.name,
        username_type=credentials.username_type,
        username=credentials.username,
    )


def _merge_update(
    institution: Institution, stored: Credentials, body: LinkUpdateRequest
) -> Credentials:
    """Apply the PUT body to the stored credentials, keeping only fields the form uses."""
    submitted = {
        "password": unset_to_none(body.password),
        "password2": unset_to_none(body.password2),
        "username_type": unset_to_none(body.username_type),
        "certificate": unset_to_none(body.certificate),
        "private_key": unset_to_none(body.private_key),
    }
    errors = form_errors(institution, submitted, require_all=False)
    if errors:
        raise ValidationFailed(errors)
    check_certificate_pair(submitted["certificate"], submitted["private_key"])
    wanted = used_fields(institution)
    changes = {
        name: value for name, value in submitted.items() if value is not None and name in wanted
    }
    return replace(stored, **changes)


async def update_credentials(
    context: AppContext, principal: Principal, link_id: str, body: LinkUpdateRequest
) -> Link:
    """Log in again with new credentials (or a token); 200 with the link, or a 428."""
    tenant_id = principal.tenant_id
    link_id = parse_link_id(link_id)
    encryption_key = unset_to_none(body.encryption_key)
    async with LoginLease(context, tenant_id, link_id) as lease:
        row, sealed = lease.link, lease.sealed
        institution = find_institution(row.institution)
        if row.access_mode == "recurrent" and encryption_key is not None:
            raise InvalidValue(RECURRENT_ENCRYPTION_KEY, field="encryption_key")
        expire_at = row.credentials_expire_at
        if sealed is None or (expire_at is not None and expire_at <= context.clock.now()):
            raise ValidationError(NO_CREDENTIALS)
        stored = open_credentials(
            context.vault,
            sealed,
            tenant_id=tenant_id,
            link_id=link_id,
            encryption_key=encryption_key,
        )
        credentials = _merge_update(institution, stored, body)

        check_status_up(context, row.institution_status)
        outcome = await context.connector.login(
            institution.name, credentials, token=unset_to_none(body.token)
        )
        if isinstance(outcome, LoginFailed):
            logger.info("link.update_failed", link_id=link_id, code=outcome.code)
            raise_login_failure(outcome)
        state = SessionState(credentials, {}, encryption_key)
        async with context.database.unit_of_work() as uow:
            if isinstance(outcome, Challenge):
                challenge = await start_session(
                    context,
                    uow,
                    tenant_id,
                    link_id,
                    purpose="update",
                    state=state.with_connector_state(outcome.state),
                    lifetime=session_lifetime(context, row.credentials_storage),
                    outcome=outcome,
                )
            else:
                link = await _finish_login(
                    context,
                    uow,
                    tenant_id,
                    row,
                    state,
                    stored=stored,
                    stored_with_client_key=sealed.client_key_salt is not None,
                    new_user_id=_user_id_after(
                        context, tenant_id, institution, stored, credentials
                    ),
                )
                lease.released_by(uow)
    if isinstance(outcome, Challenge):
        logger.info("link.token_required", link_id=link_id, tenant_id=tenant_id)
        raise challenge
    return link


async def _finish_login(
    context: AppContext,
    uow: UnitOfWork,
    tenant_id: str,
    row: Any,
    state: SessionState,
    *,
    stored: Credentials | None = None,
    stored_with_client_key: bool = False,
    new_user_id: str | None = None,
) -> Link:
    """Store a successful login: credentials, `valid` status, access time; close sessions.

    `stored` is what the link kept before, when known: credentials equal to it and sealed the
    same way (with or without a client key) are not sealed and written again. `new_user_id` is
    the link's `institution_user_id` after a change of `username_type`.
    Returns the link as it is after this work commits.
    """
    now = context.clock.now()
    status = next_status(LinkStatus(row.status), LinkEvent.LOGIN_SUCCEEDED)
    unchanged = stored == state.credentials and stored_with_client_key == (
        state.encryption_key is not None
    )
    updated = await repository.record_login(uow, tenant_id, row.id, status=status.value, now=now)
    if updated is None:
        # The link was deleted while the institution handled the login.
        raise NotFound()
    # The link may have changed while the institution handled the login (a PATCH to recurrent, or
    # its storage period ending), so the rules are checked again on the row as it is now.
    if updated.access_mode == "recurrent" and state.encryption_key is not None:
        raise InvalidValue(RECURRENT_ENCRYPTION_KEY, field="encryption_key")
    expire_at = updated.credentials_expire_at
    if expire_at is not None and expire_at <= now:
        raise ValidationError(NO_CREDENTIALS)
    if new_user_id is not None and new_user_id != updated.institution_user_id:
        other = await repository.get_link_by_user(uow, tenant_id, new_user_id)
        if other is not None and other.id != row.id:
            raise Duplicated(institution_user_id=new_user_id)
        await repository.update_link(uow, tenant_id, row.id, institution_user_id=new_user_id)
        updated = updated._replace(institution_user_id=new_user_id)
    if not unchanged:
        await store_credentials(
            context,
            uow,
            tenant_id,
            row.id,
            updated.credentials_storage,
            state.credentials,
            state.encryption_key,
            now,
        )
    if getattr(row, "has_sessions", True):
        await repository.delete_link_sessions(uow, tenant_id, row.id)
    if updated.access_mode == "recurrent":
        # Belvo runs a historical update after a recurrent link's credentials are updated,
        # and after its registration completes.
        await schedule_historical_update(context, uow, tenant_id, row.id, now=now)
    uow.after_commit(
        lambda: logger.info("link.login_succeeded", link_id=row.id, tenant_id=tenant_id)
    )
    return link_from_row(updated)


async def resume(context: AppContext, principal: Principal, body: LinkResumeRequest) -> Link:
    """Resume a login with the MFA token (`PATCH /api/links/`).

    `link` is optional; when sent, it must be the session's link.
    """
    tenant_id = principal.tenant_id
    async with context.database.unit_of_work() as uow:
        session = await repository.get_session(uow, tenant_id, body.session)
        if session is None:
            raise SessionExpired()
        if session.purpose not in LOGIN_PURPOSES:
            raise InvalidValue(
                "This session belongs to a data retrieval; resume it with PATCH on the "
                "endpoint that answered 428.",
                field="session",
            )
        if body.link is not UNSET and _same_id(body.link) != session.link_id:
            raise InvalidValue("The session does not belong to this link.", field="link")
        expired = session.expires_at <= context.clock.now()
        if expired:
            # Deleted in this unit of work, which must commit before the error is raised.
            await repository.delete_session(uow, tenant_id, session.id)
        row = await repository.get_link(uow, tenant_id, session.link_id)
    if expired:
        logger.info("link.session_expired", link_id=session.link_id, session=session.id)
        raise SessionExpired()
    assert row is not None, "sessions are deleted with their link"
    sealed = Sealed(session.wrapped_key, session.ciphertext, session.client_key_salt)
    state = open_session(
        context.vault, sealed, tenant_id=tenant_id, session_id=session.id, link_id=row.id
    )
    institution = find_institution(row.institution)

    async with LoginLease(context, tenant_id, row.id) as lease:
        check_status_up(context, lease.link.institution_status)
        outcome = await context.connector.resume(
            institution.name, state.credentials, state.connector_state, unset_to_none(body.token)
        )
        if isinstance(outcome, LoginFailed):
            # The session stays usable until it expires, so the user can try another token.
            logger.info("link.resume_failed", link_id=row.id, code=outcome.code)
            raise_login_failure(outcome)
        async with context.database.unit_of_work() as uow:
            if not await repository.delete_session(uow, tenant_id, session.id):
                # Another process completed this session while the institution handled this login.
                raise SessionExpired()
            if isinstance(outcome, Challenge):
                if session.purpose == "register":
                    next_status(LinkStatus(row.status), LinkEvent.REGISTRATION_CHALLENGED)
                challenge = await start_session(
                    context,
                    uow,
                    tenant_id,
                    row.id,
                    purpose=session.purpose,
                    state=state.with_connector_state(outcome.state),
                    lifetime=session_lifetime(context, row.credentials_storage),
                    outcome=outcome,
                )
            else:
                # An update may have changed `username_type`, and so the user's id.
                user_id = institution_user_id(
                    context.pepper,
                    tenant_id=tenant_id,
                    institution=institution.name,
                    username_type=state.credentials.username_type,
                    username=state.credentials.username,
                )
                link = await _finish_login(context, uow, tenant_id, row, state, new_user_id=user_id)
                lease.released_by(uow)
    if isinstance(outcome, Challenge):
        raise challenge
    return link


def _same_id(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise InvalidValue(f'"{raw}" is not a valid UUID.', field="link") from None
