"""Link reads and simple changes: detail, list, access mode and retention, deletion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from msgspec import UNSET

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import links
from vinculo.institutions import catalogue
from vinculo.links import repository
from vinculo.links.schemas import DEFAULT_REFRESH_RATE, Link, LinkModifyRequest
from vinculo.links.status import LinkStatus
from vinculo.refreshes.schedule import FIRST_REFRESH_AFTER_SWITCH
from vinculo.tenants.service import Principal
from vinculo.wire.errors import FieldRequired, InvalidAccessModeSwitch, InvalidValue, NotFound
from vinculo.wire.query import (
    EXACT_OR_IN,
    ORDERED,
    FilterField,
    PageRequest,
    parse_filters,
    parse_path_id,
)

EXACT = frozenset({"exact"})
EXACT_IN_NOT_IN = frozenset({"exact", "in", "not_in"})

logger = structlog.get_logger(__name__)


def link_from_row(row: Any) -> Link:
    return Link(
        id=row.id,
        institution=row.institution,
        access_mode=row.access_mode,
        last_accessed_at=row.last_accessed_at,
        created_at=row.created_at,
        external_id=row.external_id,
        institution_user_id=row.institution_user_id,
        status=row.status,
        created_by=row.created_by,
        refresh_rate=row.refresh_rate,
        credentials_storage=row.credentials_storage,
        stale_in=row.stale_in,
        fetch_resources=list(row.fetch_resources or []),
    )


def parse_link_id(raw: str) -> str:
    """Normalise a link id from a URL; anything that is not a UUID is simply not found."""
    return parse_path_id(raw)


async def get_link(uow: UnitOfWork, principal: Principal, link_id: str) -> Link:
    row = await repository.get_link(uow, principal.tenant_id, parse_link_id(link_id))
    if row is None:
        raise NotFound()
    return link_from_row(row)


LINK_FILTERS: dict[str, FilterField] = {
    "access_mode": FilterField(links.c.access_mode, "choice", EXACT, ("single", "recurrent")),
    "created_at": FilterField(links.c.created_at, "datetime", ORDERED),
    "created_by": FilterField(links.c.created_by, "uuid", EXACT_IN_NOT_IN),
    "external_id": FilterField(links.c.external_id, "str", EXACT_OR_IN),
    "id": FilterField(links.c.id, "uuid", EXACT_OR_IN),
    "institution": FilterField(links.c.institution, "str", EXACT_OR_IN),
    "institution_user_id": FilterField(links.c.institution_user_id, "str", EXACT_OR_IN),
    "refresh_rate": FilterField(
        links.c.refresh_rate, "choice", EXACT, ("6h", "12h", "24h", "7d", "30d")
    ),
    "status": FilterField(
        links.c.status,
        "choice",
        EXACT_OR_IN,
        tuple(status.value for status in LinkStatus),
    ),
}


async def list_links(
    uow: UnitOfWork, principal: Principal, multi_query: Any, page: PageRequest
) -> tuple[int, list[Link]]:
    conditions = parse_filters(multi_query, LINK_FILTERS)
    count, rows = await repository.list_links(
        uow, principal.tenant_id, conditions, offset=page.offset, limit=page.size
    )
    return count, [link_from_row(row) for row in rows]


async def modify_link(
    uow: UnitOfWork, principal: Principal, link_id: str, body: LinkModifyRequest, *, now: datetime
) -> Link:
    """Change a link's access mode, `stale_in` or `fetch_resources`.

    Switching to recurrent needs stored credentials that the server can read, and makes the
    link keep them (`credentials_storage` becomes `store`), because recurrent links must.
    """
    if body.access_mode is UNSET and body.stale_in is UNSET and body.fetch_resources is UNSET:
        raise FieldRequired(field="access_mode")
    tenant_id = principal.tenant_id
    # Read inside the write transaction, so another process cannot change the link between
    # the checks below and the update.
    await uow.begin_write()
    row = await repository.get_link(uow, tenant_id, parse_link_id(link_id))
    if row is None:
        raise NotFound()

    changes: dict[str, Any] = {}
    if body.access_mode is not UNSET and body.access_mode != row.access_mode:
        if body.access_mode == "recurrent":
            sealed = await repository.get_credentials(uow, tenant_id, row.id)
            expire_at = row.credentials_expire_at
            if sealed is None or (expire_at is not None and expire_at <= now):
                raise InvalidAccessModeSwitch()
            if sealed.client_key_salt is not None:
                raise InvalidAccessModeSwitch(
                    "This link's credentials are sealed with an encryption_key, hence it can't "
                    "be switched to recurrent mode"
                )
            changes.update(
                access_mode="recurrent",
                refresh_rate=DEFAULT_REFRESH_RATE,
                credentials_storage="store",
                credentials_expire_at=None,
                fetch_historical=True,
                next_refresh_at=now + FIRST_REFRESH_AFTER_SWITCH,
                historical_update_pending=True,
            )
        else:
            changes.update(
                access_mode="single",
                refresh_rate=None,
                next_refresh_at=None,
                historical_update_pending=False,
            )
    if body.stale_in is not UNSET:
        changes["stale_in"] = body.stale_in
    if body.fetch_resources is not UNSET:
        institution = catalogue.find_by_name(row.institution)
        supported = institution.resources if institution is not None else []
        if any(name not in supported for name in body.fetch_resources):
            raise InvalidValue(
                "The institution only supports the following resources: " + ", ".join(supported),
                field="resources",
            )
        changes["fetch_resources"] = list(body.fetch_resources)
    if changes:
        changes["updated_at"] = now
        await repository.update_link(uow, tenant_id, row.id, **changes)
        logger.info("link.modified", link_id=row.id, tenant_id=tenant_id, fields=sorted(changes))
    return await get_link(uow, principal, row.id)


async def delete_link(uow: UnitOfWork, principal: Principal, link_id: str) -> None:
    """Delete a link and everything it owns; an unknown id is a 404."""
    normalized = parse_link_id(link_id)
    if not await repository.delete_link(uow, principal.tenant_id, normalized):
        raise NotFound()
    logger.info("link.deleted", link_id=normalized, tenant_id=principal.tenant_id)
