"""Institution look-ups and list filters over the catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from vinculo.institutions import catalogue, repository
from vinculo.institutions.schemas import Institution
from vinculo.wire.errors import InstitutionDown, InvalidValue, NotFound

if TYPE_CHECKING:
    from vinculo.context import AppContext
from vinculo.wire.query import split_values

STATUSES = ("healthy", "down")
TYPES = ("bank", "fiscal", "employment")

# The filters below, for the OpenAPI document: name -> (value kind, lookups, choices).
FILTER_DOCS: dict[str, tuple[str, frozenset[str], tuple[str, ...]]] = {
    "country_code": ("str", frozenset({"exact", "in"}), ()),
    "display_name": ("str", frozenset({"partial"}), ()),
    "name": ("str", frozenset({"exact", "in"}), ()),
    "resources": ("str", frozenset({"allin"}), ()),
    "status": ("choice", frozenset({"exact", "in"}), STATUSES),
    "type": ("choice", frozenset({"exact", "in"}), TYPES),
    "website": ("str", frozenset({"exact"}), ()),
}


async def stored_statuses(context: AppContext, tenant_id: str) -> dict[str, str]:
    """Return the statuses the sandbox control API set for the tenant, by institution name.

    Only sandbox mode reads them, because only the sandbox control API sets them.
    """
    if not context.settings.is_sandbox:
        return {}
    async with context.database.unit_of_work() as uow:
        return await repository.statuses(uow, tenant_id)


async def check_institution_up(context: AppContext, tenant_id: str, institution: str) -> None:
    """Raise `InstitutionDown` when the sandbox control API set `institution` down for the
    tenant. Call it just before a connector logs in or retrieves data."""
    if not context.settings.is_sandbox:
        return
    async with context.database.unit_of_work() as uow:
        status = await repository.get_status(uow, tenant_id, institution)
    if is_down(context, status):
        raise InstitutionDown()


def check_status_up(context: AppContext, status: str | None) -> None:
    """Raise `InstitutionDown` when `status`, read with the link (see `LoginLease`), is down.

    Use it in place of `check_institution_up` where the status came with the link's row.
    """
    if is_down(context, status):
        raise InstitutionDown()


def is_down(context: AppContext, status: str | None) -> bool:
    """Return whether a stored institution status, which only the sandbox control API sets,
    makes the institution unreachable."""
    return context.settings.is_sandbox and status == "down"


def with_status(institution: Institution, statuses: Mapping[str, str]) -> Institution:
    """Return `institution` with its status from `statuses`, or the catalogue's when absent."""
    status = statuses.get(institution.name)
    if status is None or status == institution.status:
        return institution
    return msgspec.structs.replace(institution, status=status)


def get_institution(raw_id: str) -> Institution:
    """Return the institution with integer id `raw_id`; anything else is a 404."""
    # ASCII digits only: str.isdigit() also accepts "²", which int() rejects.
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        raise NotFound()
    institution = catalogue.find_by_id(int(raw_id))
    if institution is None:
        raise NotFound()
    return institution


def _choices(multi_query: Any, key: str, allowed: tuple[str, ...]) -> set[str] | None:
    values = split_values(multi_query.getall(key, []))
    if not values:
        return None
    for value in values:
        if value not in allowed:
            raise InvalidValue(
                f"Select a valid choice. {value} is not one of the available choices.", field=key
            )
    return set(values)


def _values(multi_query: Any, key: str) -> set[str] | None:
    values = split_values(multi_query.getall(key, []))
    return set(values) if values else None


def filter_institutions(
    multi_query: Any, overrides: Mapping[str, str] | None = None
) -> list[Institution]:
    """Apply Belvo's institution filters (country, name, type, status, resources, website).

    `overrides` replaces the catalogue's status by institution name, before filtering.
    """
    countries = {
        code.upper()
        for code in (_values(multi_query, "country_code") or set())
        | (_values(multi_query, "country_code__in") or set())
    }
    names = (_values(multi_query, "name") or set()) | (_values(multi_query, "name__in") or set())
    types = _union(_choices(multi_query, "type", TYPES), _choices(multi_query, "type__in", TYPES))
    statuses = _union(
        _choices(multi_query, "status", STATUSES),
        _choices(multi_query, "status__in", STATUSES),
    )
    required_resources = _values(multi_query, "resources__allin") or set()
    display_name = multi_query.get("display_name")
    website = multi_query.get("website")

    def matches(institution: Institution) -> bool:
        if countries and not countries & {code.upper() for code in institution.country_codes}:
            return False
        if names and institution.name not in names:
            return False
        if types and institution.type not in types:
            return False
        if statuses and institution.status not in statuses:
            return False
        if not required_resources <= set(institution.resources):
            return False
        if display_name and display_name.lower() not in institution.display_name.lower():
            return False
        return not (website and institution.website != website)

    overridden = [with_status(item, overrides or {}) for item in catalogue.SANDBOX_INSTITUTIONS]
    return [institution for institution in overridden if matches(institution)]


def _union(first: set[str] | None, second: set[str] | None) -> set[str] | None:
    if first is None and second is None:
        return None
    return (first or set()) | (second or set())
