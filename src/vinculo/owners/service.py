"""Stored owners: saving what a retrieval collected, and listing, reading and deleting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import structlog

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import owners
from vinculo.owners import repository
from vinculo.owners.schemas import Owner
from vinculo.tenants.service import Principal
from vinculo.wire.errors import NotFound
from vinculo.wire.query import (
    EXACT_OR_IN,
    ORDERED,
    FilterField,
    PageRequest,
    parse_filters,
    parse_path_id,
)

logger = structlog.get_logger(__name__)

OWNER_FILTERS: dict[str, FilterField] = {
    "link": FilterField(owners.c.link_id, "uuid", EXACT_OR_IN),
    "id": FilterField(owners.c.id, "uuid", EXACT_OR_IN),
    "created_at": FilterField(owners.c.created_at, "datetime", ORDERED),
    "display_name": FilterField(owners.c.display_name, "str", frozenset({"icontains"})),
    "email": FilterField(owners.c.email, "str", frozenset({"exact"})),
}


async def save_owners(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    link_id: str,
    collected: Sequence[Owner],
    save: bool,
) -> list[msgspec.Raw]:
    """Give collected owners their ids and, when `save` is true, store them.

    An owner the link already has (same `internal_identification`) keeps its id and
    `created_at`. Returns the owners as sent.
    """
    known = await repository.known_owners(uow, tenant_id, link_id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    answer: list[msgspec.Raw] = []
    for owner in collected:
        internal_id = owner.internal_identification or ""
        previous = known.get(internal_id)
        owner_id = previous.id if previous is not None else str(uuid.uuid4())
        created_at = previous.created_at if previous is not None else owner.created_at
        owner = msgspec.structs.replace(owner, id=owner_id, link=link_id, created_at=created_at)
        body = msgspec.json.encode(owner)
        answer.append(msgspec.Raw(body))
        row = {
            "display_name": owner.display_name,
            "email": owner.email,
            "collected_at": owner.collected_at,
            "body": body,
        }
        if previous is not None:
            updates.append({"row_id": owner_id, **row})
        else:
            inserts.append(
                {
                    "id": owner_id,
                    "tenant_id": tenant_id,
                    "link_id": link_id,
                    "internal_identification": internal_id,
                    "created_at": created_at,
                    **row,
                }
            )
    if save:
        await repository.update_owners(uow, updates)
        await repository.insert_owners(uow, inserts)
    return answer


async def list_owners(
    uow: UnitOfWork, principal: Principal, multi_query: Any, page: PageRequest
) -> tuple[int, list[msgspec.Raw]]:
    conditions = parse_filters(multi_query, OWNER_FILTERS)
    count, bodies = await repository.list_owners(
        uow, principal.tenant_id, conditions, offset=page.offset, limit=page.size
    )
    return count, [msgspec.Raw(body) for body in bodies]


async def get_owner(uow: UnitOfWork, principal: Principal, owner_id: str) -> msgspec.Raw:
    body = await repository.get_body(uow, principal.tenant_id, parse_path_id(owner_id))
    if body is None:
        raise NotFound()
    return msgspec.Raw(body)


async def delete_owner(uow: UnitOfWork, principal: Principal, owner_id: str) -> None:
    normalized = parse_path_id(owner_id)
    if not await repository.delete_owner(uow, principal.tenant_id, normalized):
        raise NotFound()
    logger.info("owner.deleted", owner_id=normalized, tenant_id=principal.tenant_id)
