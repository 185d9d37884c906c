"""Link registration (`POST /api/links/`): validation rules, duplicates, first login."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog

from vinculo.connectors.base import Credentials, LoggedIn, LoginFailed
from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.institutions.schemas import Institution
from vinculo.institutions.service import check_institution_up
from vinculo.links import repository
from vinculo.links.credentials import SessionState, institution_user_id
from vinculo.links.forms import (
    RECURRENT_ENCRYPTION_KEY,
    check_certificate_pair,
    find_institution,
    form_errors,
    stored_credentials,
    unset_to_none,
)
from vinculo.links.logins import (
    raise_login_failure,
    session_lifetime,
    start_session,
    storage_expiry,
    store_credentials,
)
from vinculo.links.schemas import DEFAULT_REFRESH_RATE, Link, LinkRegisterRequest
from vinculo.links.service import get_link
from vinculo.links.status import LinkEvent, LinkStatus, next_status
from vinculo.refreshes.schedule import schedule_historical_update
from vinculo.tenants.service import Principal
from vinculo.wire.errors import (
    Duplicated,
    InvalidCredentialsStorage,
    InvalidFetchResources,
    InvalidValue,
    UnsupportedOperation,
    ValidationFailed,
)

logger = structlog.get_logger(__name__)

SINGLE_LINK_STORAGE = "365d"


@dataclass(frozen=True, slots=True)
class RegistrationPlan:
    """A validated registration, ready to log in."""

    institution: Institution
    credentials: Credentials
    access_mode: str
    credentials_storage: str
    fetch_resources: list[str]
    fetch_historical: bool
    stale_in: str | None
    external_id: str | None
    encryption_key: str | None
    token: str | None


def plan_registration(body: LinkRegisterRequest) -> RegistrationPlan:
    """Apply the registration rules that need no database."""
    institution = find_institution(body.institution)
    submitted: dict[str, str | None] = {
        "username": body.username,
        "password": unset_to_none(body.password),
        "username2": unset_to_none(body.username2),
        "username3": unset_to_none(body.username3),
        "password2": unset_to_none(body.password2),
        "username_type": unset_to_none(body.username_type),
        "certificate": unset_to_none(body.certificate),
        "private_key": unset_to_none(body.private_key),
    }
    errors = form_errors(institution, submitted, require_all=True)
    if errors:
        raise ValidationFailed(errors)
    check_certificate_pair(submitted["certificate"], submitted["private_key"])

    recurrent = body.access_mode == "recurrent"
    storage = unset_to_none(body.credentials_storage) or (
        "store" if recurrent else SINGLE_LINK_STORAGE
    )
    if recurrent and storage != "store":
        raise InvalidCredentialsStorage()
    fetch_resources = list(unset_to_none(body.fetch_resources) or [])
    fetch_historical = True if recurrent else bool(unset_to_none(body.fetch_historical))
    if not recurrent and storage == "nostore" and not fetch_resources:
        raise InvalidFetchResources()
    if not recurrent and fetch_resources and not fetch_historical:
        raise UnsupportedOperation(
            "For single links, you must set fetch_historical to true when using the resources "
            "request parameter."
        )
    unsupported = [name for name in fetch_resources if name not in institution.resources]
    if unsupported:
        raise InvalidValue(
            "The institution only supports the following resources: "
            + ", ".join(institution.resources),
            field="resources",
        )
    encryption_key = unset_to_none(body.encryption_key)
    if recurrent and encryption_key is not None:
        raise InvalidValue(RECURRENT_ENCRYPTION_KEY, field="encryption_key")
    return RegistrationPlan(
        institution=institution,
        credentials=stored_credentials(institution, submitted),
        access_mode=body.access_mode,
        credentials_storage=storage,
        fetch_resources=fetch_resources,
        fetch_historical=fetch_historical,
        stale_in=unset_to_none(body.stale_in),
        external_id=body.external_id,
        encryption_key=encryption_key,
        token=unset_to_none(body.token),
    )


async def register(context: AppContext, principal: Principal, body: LinkRegisterRequest) -> Link:
    """Register a link: 201 with the link, or `TokenRequired` (428) with an MFA session."""
    plan = plan_registration(body)
    tenant_id = principal.tenant_id
    user_id = institution_user_id(
        context.pepper,
        tenant_id=tenant_id,
        institution=plan.institution.name,
        username_type=plan.credentials.username_type,
        username=plan.credentials.username,
    )
    async with context.database.unit_of_work() as uow:
        await _check_duplicate(uow, tenant_id, user_id, replace_unconfirmed=False)
    await check_institution_up(context, tenant_id, plan.institution.name)

    outcome = await context.connector.login(
        plan.institution.name, plan.credentials, token=plan.token
    )
    if isinstance(outcome, LoginFailed):
        logger.info("link.login_failed", institution=plan.institution.name, code=outcome.code)
        raise_login_failure(outcome)

    now = context.clock.now()
    link_id = str(uuid.uuid4())
    event = (
        LinkEvent.LOGIN_SUCCEEDED
        if isinstance(outcome, LoggedIn)
        else LinkEvent.REGISTRATION_CHALLENGED
    )
    async with context.database.unit_of_work() as uow:
        # The duplicate check is repeated inside the write transaction: another request, or
        # another process, may have registered the same user while this one was logging in.
        await uow.begin_write()
        await _check_duplicate(uow, tenant_id, user_id, replace_unconfirmed=True)
        await repository.insert_link(
            uow,
            id=link_id,
            tenant_id=tenant_id,
            institution=plan.institution.name,
            access_mode=plan.access_mode,
            status=next_status(None, event).value,
            refresh_rate=DEFAULT_REFRESH_RATE if plan.access_mode == "recurrent" else None,
            created_by=principal.principal_id,
            external_id=plan.external_id,
            institution_user_id=user_id,
            credentials_storage=plan.credentials_storage,
            stale_in=plan.stale_in,
            fetch_resources=plan.fetch_resources,
            fetch_historical=plan.fetch_historical,
            last_accessed_at=now if isinstance(outcome, LoggedIn) else None,
            created_at=now,
            updated_at=now,
            credentials_expire_at=storage_expiry(plan.credentials_storage, now),
        )
        if isinstance(outcome, LoggedIn):
            await store_credentials(
                context,
                uow,
                tenant_id,
                link_id,
                plan.credentials_storage,
                plan.credentials,
                plan.encryption_key,
                now,
            )
            if plan.access_mode == "recurrent" or plan.fetch_resources:
                # Belvo loads a single link's `fetch_resources` in a historical update too.
                await schedule_historical_update(context, uow, tenant_id, link_id, now=now)
            uow.after_commit(
                lambda: logger.info("link.created", link_id=link_id, tenant_id=tenant_id)
            )
        else:
            challenge = await start_session(
                context,
                uow,
                tenant_id,
                link_id,
                purpose="register",
                state=SessionState(plan.credentials, outcome.state, plan.encryption_key),
                lifetime=session_lifetime(context, plan.credentials_storage),
                outcome=outcome,
            )
    if not isinstance(outcome, LoggedIn):
        logger.info("link.token_required", link_id=link_id, tenant_id=tenant_id)
        raise challenge

    async with context.database.unit_of_work() as uow:
        return await get_link(uow, principal, link_id)


async def _check_duplicate(
    uow: UnitOfWork, tenant_id: str, user_id: str, *, replace_unconfirmed: bool
) -> None:
    """Reject a second link for the same user, unless the first one's registration never ended.

    With `replace_unconfirmed`, such an unconfirmed link is deleted so the new one can take
    its place. That happens only once the new login has succeeded or requested a token.
    """
    existing = await repository.get_link_by_user(uow, tenant_id, user_id)
    if existing is None:
        return
    if existing.status != LinkStatus.UNCONFIRMED:
        raise Duplicated(institution_user_id=user_id)
    if replace_unconfirmed:
        await repository.delete_link(uow, tenant_id, existing.id)
        logger.info("link.unconfirmed_replaced", link_id=existing.id, tenant_id=tenant_id)
