"""Rules of the sandbox control API: what a reset deletes, how the clock moves, which link
and institution states can be forced."""

from __future__ import annotations

import asyncio
import math
import re
import time
from datetime import UTC, datetime, timedelta

import structlog
from msgspec import UNSET

from vinculo.context import AppContext
from vinculo.db.engine import UnitOfWork
from vinculo.institutions import catalogue
from vinculo.institutions import repository as institutions_repository
from vinculo.institutions.schemas import Institution
from vinculo.institutions.service import with_status
from vinculo.links import repository as links_repository
from vinculo.links.schemas import Link
from vinculo.links.service import get_link, parse_link_id
from vinculo.links.status import InvalidTransition, LinkEvent, LinkStatus, next_status
from vinculo.refreshes import repository as refreshes_repository
from vinculo.refreshes.schedule import refresh_interval
from vinculo.refreshes.service import refresh_link
from vinculo.sandbox_api import repository
from vinculo.sandbox_api.clock import StoredOffset, read_offset, write_offset
from vinculo.sandbox_api.schemas import (
    ClockMoveRequest,
    ForcedLinkStatus,
    InstitutionSwitch,
    RefreshReport,
    ResetCounts,
    ResetResult,
    SandboxClock,
)
from vinculo.tenants.service import Principal
from vinculo.wire.errors import FieldRequired, InvalidValue, NotFound, ValidationError

logger = structlog.get_logger(__name__)

# The furthest the sandbox clock may run ahead of real time. Sandbox data is simulated day by
# day up to the clock's date, so a larger offset makes every retrieval slower, and offsets near
# year 9999 would overflow `datetime`.
MAX_OFFSET = timedelta(days=3653)
# How long a sandbox "refresh now" waits for a login or refresh already running on the link.
BUSY_WAIT_SECONDS = 10.0

# An ISO 8601 duration in weeks, days, hours, minutes and seconds. Years and months are
# rejected because their length depends on the date they start from.
_ISO_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
)
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_NEGATIVE_SECONDS = re.compile(r"-\d+(?:\.\d+)?")
# An ISO 8601 duration that counts years or months, which `_ISO_DURATION` leaves out.
_CALENDAR_DURATION = re.compile(r"P(?=\d+[YM])(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T.*)?")
_ADVANCE_HELP = (
    "Enter a number of seconds, such as 3600, or an ISO 8601 duration in weeks, days, hours, "
    "minutes and seconds, such as P1D or PT6H."
)

# The event of the link status table that leads to each status the API can force.
_FORCING_EVENTS = {
    LinkStatus.VALID: LinkEvent.LOGIN_SUCCEEDED,
    LinkStatus.INVALID: LinkEvent.REFRESH_REJECTED,
    LinkStatus.TOKEN_REQUIRED: LinkEvent.REFRESH_CHALLENGED,
}


async def reset_tenant(uow: UnitOfWork, principal: Principal) -> ResetResult:
    """Delete the tenant's links with all their data, and set its institutions up again."""
    tenant_id = principal.tenant_id
    await uow.begin_write()
    counts = await repository.delete_tenant_links(uow, tenant_id)
    institutions_down = await institutions_repository.clear_all(uow, tenant_id)
    result = ResetResult(deleted=ResetCounts(**counts, institutions_down=institutions_down))
    uow.after_commit(lambda: logger.info("sandbox.reset", tenant_id=tenant_id, **counts))
    return result


def parse_advance(raw: float | str) -> timedelta:
    """Read `advance` as seconds (a number or digits) or an ISO 8601 duration."""
    if isinstance(raw, str):
        text = raw.strip()
        if _SECONDS.fullmatch(text) or _NEGATIVE_SECONDS.fullmatch(text):
            seconds = float(text)
        elif _CALENDAR_DURATION.fullmatch(text.upper()):
            raise InvalidValue(
                f"{raw!r} counts years or months, which have no fixed length. Give the same "
                "time in days or weeks instead, such as P30D.",
                field="advance",
            )
        else:
            match = _ISO_DURATION.fullmatch(text.upper())
            if match is None or text.upper() in ("P", "PT") or text.upper().endswith("T"):
                raise InvalidValue(f"{raw!r} is not a duration. {_ADVANCE_HELP}", field="advance")
            parts = {name: float(value) for name, value in match.groupdict().items() if value}
            try:
                delta = timedelta(**parts)
            except OverflowError:
                # Beyond what `timedelta` holds, let alone the largest offset.
                raise _too_far("advance") from None
            return _bounded(delta)
    else:
        seconds = raw
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidValue(
            f"The sandbox clock only moves forward; {raw!r} is not a duration of 0 or more. "
            "DELETE /sandbox/clock/ returns to real time.",
            field="advance",
        )
    if seconds > MAX_OFFSET.total_seconds():
        raise _too_far("advance")
    return timedelta(seconds=seconds)


def _bounded(delta: timedelta) -> timedelta:
    if delta > MAX_OFFSET:
        raise _too_far("advance")
    return delta


def _too_far(field: str) -> InvalidValue:
    return InvalidValue(
        f"The sandbox clock can run at most {MAX_OFFSET.days} days ahead of real time.",
        field=field,
    )


def clock_state(context: AppContext) -> SandboxClock:
    clock = context.clock
    return SandboxClock(now=clock.now(), offset_seconds=clock.offset.total_seconds())


async def read_clock(context: AppContext) -> SandboxClock:
    """Return the sandbox clock as stored, applying it to this process's clock first."""
    async with context.database.unit_of_work() as uow:
        stored = await read_offset(uow)
    context.clock.apply_stored(stored.offset, stored.version)
    return clock_state(context)


async def move_clock(context: AppContext, body: ClockMoveRequest) -> SandboxClock:
    """Move the shared sandbox clock forward by `advance` or to `set`; never backwards."""
    if body.advance is UNSET and body.set is UNSET:
        raise FieldRequired("Send either advance or set.", field="advance")
    if body.advance is not UNSET and body.set is not UNSET:
        raise InvalidValue("Send only one of advance and set.", field="set")
    delta = parse_advance(body.advance) if body.advance is not UNSET else None
    real_now = context.clock.now() - context.clock.offset
    async with context.database.unit_of_work() as uow:
        # Read in the write transaction, so a move made by another process is not lost.
        await uow.begin_write()
        current = await read_offset(uow)
        if delta is not None:
            offset = current.offset + delta
            field = "advance"
        else:
            assert body.set is not UNSET
            target = body.set if body.set.tzinfo is not None else body.set.replace(tzinfo=UTC)
            offset = target - real_now
            field = "set"
            if offset < current.offset:
                raise InvalidValue(
                    f"{target.isoformat()} is earlier than the sandbox clock's "
                    f"{(real_now + current.offset).isoformat()}; the sandbox clock only moves "
                    "forward. DELETE /sandbox/clock/ returns to real time.",
                    field="set",
                )
        if offset > MAX_OFFSET:
            raise _too_far(field)
        stored = await write_offset(uow, offset, now=real_now)
        _apply_after_commit(context, uow, stored)
    logger.info("sandbox.clock_moved", offset_seconds=offset.total_seconds())
    return clock_state(context)


async def reset_clock(context: AppContext) -> SandboxClock:
    """Return the shared sandbox clock to real time."""
    real_now = context.clock.now() - context.clock.offset
    async with context.database.unit_of_work() as uow:
        await uow.begin_write()
        stored = await write_offset(uow, timedelta(0), now=real_now)
        _apply_after_commit(context, uow, stored)
    logger.info("sandbox.clock_reset")
    return clock_state(context)


def _apply_after_commit(context: AppContext, uow: UnitOfWork, stored: StoredOffset) -> None:
    uow.after_commit(lambda: context.clock.apply_stored(stored.offset, stored.version))


async def force_link_status(
    uow: UnitOfWork,
    principal: Principal,
    link_id: str,
    status: ForcedLinkStatus,
    *,
    now: datetime,
) -> Link:
    """Set a link's status through the event of the status table that leads to it.

    Forcing the status a link already has changes nothing. An `unconfirmed` link never
    completed its login, so it keeps no credentials and cannot be forced to any status.
    """
    tenant_id = principal.tenant_id
    await uow.begin_write()
    row = await links_repository.get_link(uow, tenant_id, parse_link_id(link_id))
    if row is None:
        raise NotFound()
    current = LinkStatus(row.status)
    target = LinkStatus(status)
    if current is LinkStatus.UNCONFIRMED:
        raise ValidationError(
            "This link's registration is waiting for its MFA token, so its status cannot be "
            "forced; complete the registration with PATCH /api/links/ or delete the link."
        )
    if current is not target:
        try:
            next_status(current, _FORCING_EVENTS[target])
        except InvalidTransition:
            raise ValidationError(
                f"A link with status {current} cannot become {target}; force it to valid first."
            ) from None
        changes: dict[str, object] = {"status": target.value, "updated_at": now}
        interval = refresh_interval(row.refresh_rate)
        if target is LinkStatus.VALID and interval is not None:
            # A failed refresh took the link off the schedule; a valid one is back on it.
            changes["next_refresh_at"] = now + interval
        await links_repository.update_link(uow, tenant_id, row.id, **changes)
        logger.info(
            "sandbox.link_status_forced",
            link_id=row.id,
            tenant_id=tenant_id,
            before=current.value,
            after=target.value,
        )
    return await get_link(uow, principal, row.id)


async def set_institution_status(
    uow: UnitOfWork,
    principal: Principal,
    name: str,
    switch: InstitutionSwitch,
    *,
    now: datetime,
) -> Institution:
    """Set an institution down or up for the tenant; return it as the tenant now sees it."""
    institution = catalogue.find_by_name(name)
    if institution is None:
        raise NotFound()
    tenant_id = principal.tenant_id
    if switch == "down":
        await institutions_repository.set_status(uow, tenant_id, name, "down", now=now)
        statuses = {name: "down"}
    else:
        await institutions_repository.clear_status(uow, tenant_id, name)
        statuses = {}
    logger.info("sandbox.institution_status_set", institution=name, tenant_id=tenant_id, to=switch)
    return with_status(institution, statuses)


async def refresh_now(context: AppContext, principal: Principal, link_id: str) -> RefreshReport:
    """Make the link due and run its refresh in this request, as a worker would.

    The refresh is the historical update when one is pending, a recurrent refresh otherwise;
    its webhooks go out as the scheduled ones do.
    """
    tenant_id = principal.tenant_id
    link_id = parse_link_id(link_id)
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        async with context.database.unit_of_work() as uow:
            found = await refreshes_repository.set_schedule(
                uow, tenant_id, link_id, next_refresh_at=context.clock.now()
            )
        if not found:
            raise NotFound()
        result = await refresh_link(context, tenant_id, link_id)
        # A login or a worker's refresh has the link's lease, so wait for it rather than report it.
        if result.outcome != "busy" or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    return RefreshReport(
        link=link_id, outcome=result.outcome, webhooks=result.events, new=result.new
    )
