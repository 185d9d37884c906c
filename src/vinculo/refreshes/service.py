"""Refreshing a link in the background, and deciding when it is due.

A link is due when its `next_refresh_at` has passed. Recurrent links are due every
`refresh_rate`. Any link becomes due at once, with its historical update pending, when a
recurrent link logs in (registration, MFA resumption, credential update), when a client
requests a refresh with `POST /api/links/{id}/refresh/`, or when the sandbox control API does.

The schedule lives in the link's row. A job that is lost (a crash before it was queued,
SQLite's in-memory queue after a restart) is queued again by the scheduler, and a job that
runs twice finds the link no longer due and does nothing.

A refresh runs like a retrieval (see `vinculo.retrieval.service`): it takes the link's login
lease, fetches with no transaction open, then stores everything in one unit of work together
with the webhook events that describe it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from vinculo.accounts.service import save_accounts
from vinculo.connectors.base import Challenge, Fetched, FetchOutcome, FetchRequest, Resource
from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.institutions.service import is_down
from vinculo.links import repository as links_repository
from vinculo.links.credentials import open_credentials
from vinculo.links.forms import find_institution
from vinculo.links.logins import JOB_HOLDER_PREFIX, REFRESH_HOLDER, LoginLease
from vinculo.links.status import LinkEvent, LinkStatus, next_status
from vinculo.owners.service import save_owners
from vinculo.refreshes import repository
from vinculo.refreshes.schedule import refresh_interval, schedule_historical_update
from vinculo.retrieval.service import check_link
from vinculo.sandbox_api.clock import refresh_shared_clock
from vinculo.transactions.service import save_transactions
from vinculo.webhooks.service import enqueue_event
from vinculo.wire.errors import (
    ExpiredCredentials,
    LinkRefreshed,
    NotFound,
    TooManySessions,
    UnsupportedOperation,
    ValidationError,
)

logger = structlog.get_logger(__name__)

# A historical update fetches a year, the longest range that one retrieval may ask for.
HISTORY_DAYS = 365
# A recurrent refresh fetches again from a week before the last one, so that transactions the
# bank posts late are still collected.
RECURRENT_OVERLAP = timedelta(days=7)
# NOTE: chosen, not measured: when to try again after the bank failed (down, timed out), and
# after finding another login running on the link.
RETRY_AFTER_FAILURE = timedelta(minutes=30)
RETRY_AFTER_BUSY = timedelta(minutes=1)
# The resources that a refresh collects, and the webhook type that reports each.
REFRESHED = {"ACCOUNTS": "accounts", "TRANSACTIONS": "transactions", "OWNERS": "owners"}
CREDENTIAL_FAILURES = frozenset({"login_error"})


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """The result of one refresh run: `outcome` names it, and `events` lists the webhooks sent."""

    link_id: str
    outcome: str
    events: list[str] = field(default_factory=list)
    new: dict[str, int] = field(default_factory=dict)


async def request_refresh(
    context: AppContext, tenant_id: str, link_id: str, *, request_id: str
) -> None:
    """Accept a client's `POST /api/links/{id}/refresh/`, or raise `LinkRefreshed` inside the
    cooldown and the error that the link's state gives a retrieval."""
    now = context.clock.now()
    cooldown = timedelta(seconds=context.settings.refresh_cooldown_seconds)
    async with context.database.unit_of_work() as uow:
        await uow.begin_write()
        link = await repository.get_target(uow, tenant_id, link_id)
        if link is None:
            raise NotFound()
        check_link(link, None, now)
        if link.status == LinkStatus.TOKEN_REQUIRED:
            raise ValidationError(
                "The institution asks this link for a new MFA token: send it with "
                "PUT /api/links/{id}/, which also refreshes the link."
            )
        if not _resources(link.fetch_resources, find_institution(link.institution).resources):
            raise UnsupportedOperation(
                "This link has none of the resources that a refresh collects (accounts, "
                "transactions, owners) in its fetch_resources or at its institution."
            )
        sealed = await links_repository.get_credentials(uow, tenant_id, link_id)
        if sealed is None:
            raise ExpiredCredentials()
        if sealed.client_key_salt is not None:
            raise ValidationError(
                "This link's credentials are sealed with an encryption_key, which the server "
                "does not keep, so it cannot refresh the link on its own; retrieve its data "
                "with POST requests that send the key instead."
            )
        requested_at = link.refresh_requested_at
        if requested_at is not None and now < requested_at + cooldown:
            raise LinkRefreshed(minutes_left=_minutes_until(requested_at + cooldown, now))
        await repository.set_schedule(uow, tenant_id, link_id, refresh_requested_at=now)
        await schedule_historical_update(
            context, uow, tenant_id, link_id, now=now, request_id=request_id
        )
    logger.info("link.refresh_requested", link_id=link_id, tenant_id=tenant_id)


def _minutes_until(moment: datetime, now: datetime) -> int:
    seconds = (moment - now).total_seconds()
    return max(1, -int(-seconds // 60))


async def refresh_link(
    context: AppContext, tenant_id: str, link_id: str, *, job_id: int | None = None
) -> RefreshResult:
    """Refresh the link if it is due: fetch its data, store it and queue its webhooks.

    `job_id` is the id of the job that runs the refresh, if one does.
    """
    await refresh_shared_clock(context)
    now = context.clock.now()
    async with context.database.single_statement() as uow:
        link = await repository.get_target(uow, tenant_id, link_id)
    if link is None:
        return RefreshResult(link_id, "gone")
    if link.next_refresh_at is None or link.next_refresh_at > now:
        return RefreshResult(link_id, "not_due")
    blocker = _blocker(link, now)
    if blocker is None and not _resources(
        link.fetch_resources, find_institution(link.institution).resources
    ):
        blocker = "unsupported"
    if blocker is not None:
        await _unschedule(context, tenant_id, link_id, blocker)
        return RefreshResult(link_id, blocker)
    try:
        holder = REFRESH_HOLDER if job_id is None else f"{JOB_HOLDER_PREFIX}{job_id}"
        async with LoginLease(context, tenant_id, link_id, holder=holder) as lease:
            return await _refresh_with_lease(context, lease, link, now)
    except TooManySessions:
        await _postpone(context, tenant_id, link_id, now + RETRY_AFTER_BUSY)
        return RefreshResult(link_id, "busy")
    except NotFound:
        return RefreshResult(link_id, "gone")


def _blocker(link: Any, now: datetime) -> str | None:
    """Name why the link cannot be refreshed until a client acts, if it cannot."""
    if link.status != LinkStatus.VALID:
        return f"status_{link.status}"
    if link.credentials_storage == "nostore":
        return "no_credentials"
    expire_at = link.credentials_expire_at
    if expire_at is not None and expire_at <= now:
        return "credentials_expired"
    return None


async def _unschedule(context: AppContext, tenant_id: str, link_id: str, reason: str) -> None:
    """Stop refreshing the link until a login schedules it again."""
    async with context.database.unit_of_work() as uow:
        await repository.set_schedule(uow, tenant_id, link_id, next_refresh_at=None)
    logger.info("refresh.unscheduled", link_id=link_id, tenant_id=tenant_id, reason=reason)


async def _postpone(context: AppContext, tenant_id: str, link_id: str, until: datetime) -> None:
    async with context.database.unit_of_work() as uow:
        await repository.set_schedule(uow, tenant_id, link_id, next_refresh_at=until)


async def _refresh_with_lease(
    context: AppContext, lease: LoginLease, link: Any, now: datetime
) -> RefreshResult:
    tenant_id, link_id = link.tenant_id, link.id
    sealed = lease.sealed
    if sealed is None or sealed.client_key_salt is not None:
        # Credentials sealed with the client's `encryption_key` open only with that key,
        # which the server never keeps.
        await _unschedule(context, tenant_id, link_id, "no_credentials")
        return RefreshResult(link_id, "no_credentials")
    credentials = open_credentials(
        context.vault, sealed, tenant_id=tenant_id, link_id=link_id, encryption_key=None
    )
    institution = find_institution(link.institution)
    historical = bool(link.historical_update_pending)
    resources = _resources(link.fetch_resources, institution.resources)
    number = link.refresh_count + 1
    today = now.date()
    date_from = _date_from(link.last_refreshed_at, today, historical=historical)
    requests = _requests(resources, date_from, today, number)
    # The institution's status was read with the link, in place of `check_institution_up`.
    down = is_down(context, link.institution_status)
    outcomes: list[FetchOutcome] = []
    if not down:
        outcomes = list(
            await asyncio.gather(
                *(
                    context.connector.fetch(
                        institution.name, credentials, request, collected_at=now
                    )
                    for request in requests
                )
            )
        )
    request_id = link.refresh_request_id or uuid.uuid4().hex
    async with context.database.unit_of_work() as uow:
        # Everything below writes the rows of this one link, locked here, so refreshes of
        # other links store at the same time.
        await uow.begin_row_write()
        current = await repository.lock_target(uow, tenant_id, link_id)
        if current is None:
            return RefreshResult(link_id, "gone")
        if current.refresh_count != link.refresh_count:
            # Another run of this refresh, a job retried while this one still ran, stored its
            # result first. Storing this one too would send its webhooks twice.
            return RefreshResult(link_id, "superseded")
        if down:
            await repository.set_schedule(
                uow, tenant_id, link_id, next_refresh_at=now + RETRY_AFTER_FAILURE
            )
            await links_repository.release_login_lease(uow, tenant_id, link_id)
            lease.released_by(uow)
            result = RefreshResult(link_id, "institution_down")
        elif all(isinstance(outcome, Fetched) for outcome in outcomes):
            result = await _store(
                context,
                uow,
                current,
                [outcome for outcome in outcomes if isinstance(outcome, Fetched)],
                started=link,
                historical=historical,
                request_id=request_id,
                now=now,
            )
            lease.released_by(uow)
        else:
            result = await _fail(context, uow, current, outcomes, request_id=request_id, now=now)
            await links_repository.release_login_lease(uow, tenant_id, link_id)
            lease.released_by(uow)
    logger.info(
        "refresh.finished",
        link_id=link_id,
        tenant_id=tenant_id,
        outcome=result.outcome,
        historical=historical,
        refresh=number,
        events=result.events,
        new=result.new,
    )
    return result


def _resources(fetch_resources: list[str] | None, offered: list[str]) -> list[str]:
    wanted = [name for name in (fetch_resources or REFRESHED) if name in REFRESHED]
    return [name for name in wanted if name in offered]


def _date_from(last_refreshed_at: datetime | None, today: date, *, historical: bool) -> date:
    earliest = today - timedelta(days=HISTORY_DAYS)
    if historical or last_refreshed_at is None:
        return earliest
    return max(earliest, last_refreshed_at.date() - RECURRENT_OVERLAP)


def _requests(
    resources: list[str], date_from: date, today: date, number: int
) -> list[FetchRequest]:
    """Build one request for transactions (which bring their accounts) or for accounts alone,
    and one for owners."""
    requests = []
    if "TRANSACTIONS" in resources:
        requests.append(
            FetchRequest(Resource.TRANSACTIONS, date_from=date_from, date_to=today, refresh=number)
        )
    elif "ACCOUNTS" in resources:
        requests.append(FetchRequest(Resource.ACCOUNTS, refresh=number))
    if "OWNERS" in resources:
        requests.append(FetchRequest(Resource.OWNERS, refresh=number))
    return requests


async def _store(
    context: AppContext,
    uow: UnitOfWork,
    link: Any,
    fetched: list[Fetched],
    *,
    started: Any,
    historical: bool,
    request_id: str,
    now: datetime,
) -> RefreshResult:
    """Store what a refresh fetched and queue its webhooks.

    `link` is the link as `repository.lock_target` read it now, with its stored counts, and
    `started` as it was when the refresh began.
    """
    tenant_id, link_id = link.tenant_id, link.id
    before = repository.counts_of(link)
    stored_accounts = {}
    for item in fetched:
        if item.accounts:
            stored_accounts = await save_accounts(
                uow, tenant_id=tenant_id, link_id=link_id, collected=item.accounts, save=True
            )
    for item in fetched:
        if item.transactions:
            await save_transactions(
                uow,
                tenant_id=tenant_id,
                link_id=link_id,
                stored_accounts=stored_accounts,
                collected=item.transactions,
                save=True,
            )
        if item.owners:
            await save_owners(
                uow, tenant_id=tenant_id, link_id=link_id, collected=item.owners, save=True
            )
    after = await repository.stored_counts(uow, tenant_id, link_id)
    new = {name: after[name] - before[name] for name in after}
    status = next_status(LinkStatus(link.status), LinkEvent.LOGIN_SUCCEEDED)
    interval = refresh_interval(link.refresh_rate) if link.access_mode == "recurrent" else None
    requested_meanwhile = link.refresh_request_id != started.refresh_request_id or (
        link.historical_update_pending and not started.historical_update_pending
    )
    if requested_meanwhile:
        # A client or a login asked for a historical update while this refresh fetched: it
        # stays pending, with its request id (as read under the row lock), and runs next.
        next_refresh_at: datetime | None = now
        pending, pending_request_id = link.historical_update_pending, link.refresh_request_id
    else:
        next_refresh_at = now + interval if interval is not None else None
        pending, pending_request_id = False, None
    await repository.finish_refresh(
        uow,
        tenant_id,
        link_id,
        status=status.value,
        now=now,
        refresh_count=link.refresh_count + 1,
        next_refresh_at=next_refresh_at,
        historical_update_pending=bool(pending),
        refresh_request_id=pending_request_id,
    )
    resources = _resources(link.fetch_resources, find_institution(link.institution).resources)
    send = _event_sender(uow, link, request_id=request_id, now=now)
    events: list[str] = []
    for name in resources:
        resource = REFRESHED[name]
        if historical:
            data = await _historical_data(uow, tenant_id, link_id, resource, after)
            await send(name, "historical_update", "historical_update", data)
            events.append(f"{name}.historical_update")
        elif new[resource] > 0:
            code = f"new_{resource}_available"
            await send(name, code, "recurrent_update", {f"new_{resource}": new[resource]})
            events.append(f"{name}.{code}")
    return RefreshResult(link_id, "refreshed", events, new)


async def _historical_data(
    uow: UnitOfWork, tenant_id: str, link_id: str, resource: str, counts: dict[str, int]
) -> dict[str, Any]:
    if resource != "transactions":
        return {f"total_{resource}": counts[resource]}
    totals = await repository.transaction_totals(uow, tenant_id, link_id)
    return {
        "total_transactions": int(totals.total),
        "total_inflow_transactions": int(totals.inflows),
        "total_outflow_transactions": int(totals.outflows),
        "first_transaction_date": _iso(totals.first_date),
        "last_transaction_date": _iso(totals.last_date),
    }


def _iso(value: date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


async def _fail(
    context: AppContext,
    uow: UnitOfWork,
    link: Any,
    outcomes: list[FetchOutcome],
    *,
    request_id: str,
    now: datetime,
) -> RefreshResult:
    """Record a refresh that the bank rejected.

    A credential error or a token request changes the link's status and sends a LINK webhook.
    Any other failure is tried again later.
    """
    tenant_id, link_id = link.tenant_id, link.id
    count = link.refresh_count + 1
    challenge = next((item for item in outcomes if isinstance(item, Challenge)), None)
    failures = [item for item in outcomes if not isinstance(item, Fetched | Challenge)]
    rejected = next((item for item in failures if item.code in CREDENTIAL_FAILURES), None)
    send = _event_sender(uow, link, request_id=request_id, now=now)
    if rejected is not None or challenge is not None:
        if rejected is not None:
            event, code = LinkEvent.REFRESH_REJECTED, "invalid_credentials"
            data = {"error_code": rejected.code, "error_message": rejected.message, "status": 400}
        else:
            event, code = LinkEvent.REFRESH_CHALLENGED, "token_required"
            data = {
                "error_code": "token_required",
                "error_message": "A MFA token is required by the institution to login",
                "status": 428,
            }
        status = next_status(LinkStatus(link.status), event)
        await repository.set_schedule(
            uow,
            tenant_id,
            link_id,
            status=status.value,
            updated_at=now,
            next_refresh_at=None,
            refresh_count=count,
        )
        await send("LINK", code, None, data)
        return RefreshResult(link_id, status.value, [f"LINK.{code}"])
    await repository.set_schedule(
        uow,
        tenant_id,
        link_id,
        next_refresh_at=now + RETRY_AFTER_FAILURE,
        refresh_count=count,
    )
    codes = sorted({item.code for item in failures})
    logger.warning("refresh.failed", link_id=link_id, tenant_id=tenant_id, codes=codes)
    return RefreshResult(link_id, "failed")


def _event_sender(
    uow: UnitOfWork, link: Any, *, request_id: str, now: datetime
) -> Callable[[str, str, str | None, dict[str, Any]], Any]:
    async def send(
        webhook_type: str, webhook_code: str, process_type: str | None, data: dict[str, Any]
    ) -> None:
        await enqueue_event(
            uow,
            link.tenant_id,
            webhook_type=webhook_type,
            webhook_code=webhook_code,
            link_id=link.id,
            external_id=link.external_id,
            process_type=process_type,
            request_id=request_id,
            data=data,
            now=now,
        )

    return send


async def enqueue_due_refreshes(context: AppContext, *, limit: int) -> int:
    """Queue a refresh job for each link that is due, up to `limit`; return how many."""
    now = context.clock.now()
    async with context.database.unit_of_work() as uow:
        due = await repository.due_links(
            uow, now, limit, skip_queued=context.jobs.kind == "postgresql"
        )
    return await context.jobs.defer_refreshes([(row.tenant_id, row.id) for row in due])
