"""Stored accounts: saving what a retrieval collected, and listing, reading and deleting."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from vinculo.accounts import repository
from vinculo.accounts.schemas import Account
from vinculo.db.engine import UnitOfWork
from vinculo.db.models import accounts
from vinculo.tenants.service import Principal
from vinculo.wire.errors import NotFound
from vinculo.wire.query import (
    EXACT_OR_IN,
    ORDERED,
    TEXT,
    FilterField,
    PageRequest,
    parse_filters,
    parse_path_id,
)

logger = structlog.get_logger(__name__)

EXACT = frozenset({"exact"})
CATEGORIES = (
    "CHECKING_ACCOUNT",
    "CREDIT_CARD",
    "INVESTMENT_ACCOUNT",
    "LOAN_ACCOUNT",
    "PENSION_FUND_ACCOUNT",
    "RECEIVABLES_ACCOUNT",
    "SAVINGS_ACCOUNT",
    "UNCATEGORIZED",
)

# The union of the filters in Belvo's accounts list operation and in its accounts tag.
ACCOUNT_FILTERS: dict[str, FilterField] = {
    "link": FilterField(accounts.c.link_id, "uuid", EXACT_OR_IN),
    "id": FilterField(accounts.c.id, "uuid", EXACT_OR_IN),
    "balance__available": FilterField(accounts.c.balance_available, "number", ORDERED),
    "balance__current": FilterField(accounts.c.balance_current, "number", ORDERED),
    "category": FilterField(accounts.c.category, "choice", EXACT_OR_IN, CATEGORIES),
    "created_at": FilterField(accounts.c.created_at, "datetime", ORDERED),
    "currency": FilterField(accounts.c.currency, "str", EXACT_OR_IN),
    "institution": FilterField(accounts.c.institution, "str", EXACT_OR_IN),
    "name": FilterField(accounts.c.name, "str", TEXT),
    "number": FilterField(accounts.c.number, "str", EXACT_OR_IN),
    "public_identification_name": FilterField(accounts.c.public_identification_name, "str", EXACT),
    "public_identification_value": FilterField(
        accounts.c.public_identification_value, "str", EXACT
    ),
    "type": FilterField(accounts.c.type, "str", EXACT_OR_IN),
    "bank_product_id": FilterField(accounts.c.bank_product_id, "str", EXACT),
    "internal_identification": FilterField(accounts.c.internal_identification, "str", EXACT),
}


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """An account as the server sends it: its id and its JSON body, and its currency."""

    id: str
    body: bytes
    currency: str | None


async def save_accounts(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    link_id: str,
    collected: Sequence[Account],
    save: bool,
) -> dict[str, StoredAccount]:
    """Give collected accounts their ids and, when `save` is true, store them.

    An account the link already has keeps its id and `created_at`; everything else is
    replaced by what the institution returned now. Without `save` nothing is written, but
    known accounts keep their stored ids in the response. Returns the accounts by the
    institution's own id.
    """
    known = await repository.known_accounts(uow, tenant_id, link_id)
    stored: dict[str, StoredAccount] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for account in collected:
        internal_id = account.internal_identification or ""
        previous = known.get(internal_id)
        account_id = previous.id if previous is not None else str(uuid.uuid4())
        created_at = previous.created_at if previous is not None else account.collected_at
        account = msgspec.structs.replace(
            account, id=account_id, link=link_id, created_at=created_at
        )
        body = msgspec.json.encode(account)
        stored[internal_id] = StoredAccount(account_id, body, account.currency)
        row = _columns(account, body)
        if previous is not None:
            updates.append({"row_id": account_id, **row})
        else:
            inserts.append(
                {
                    "id": account_id,
                    "tenant_id": tenant_id,
                    "link_id": link_id,
                    "internal_identification": internal_id,
                    "created_at": created_at,
                    **row,
                }
            )
    if save:
        await repository.update_accounts(uow, updates)
        await repository.insert_accounts(uow, inserts)
    return stored


def _columns(account: Account, body: bytes) -> dict[str, Any]:
    return {
        "institution": account.institution.name,
        "category": account.category,
        "type": account.type,
        "name": account.name,
        "number": account.number,
        "currency": account.currency,
        "public_identification_name": account.public_identification_name,
        "public_identification_value": account.public_identification_value,
        "bank_product_id": account.bank_product_id,
        "balance_current": account.balance.current,
        "balance_available": account.balance.available,
        "collected_at": account.collected_at,
        "body": body,
    }


async def list_accounts(
    uow: UnitOfWork, principal: Principal, multi_query: Any, page: PageRequest
) -> tuple[int, list[msgspec.Raw]]:
    conditions = parse_filters(multi_query, ACCOUNT_FILTERS)
    count, bodies = await repository.list_accounts(
        uow, principal.tenant_id, conditions, offset=page.offset, limit=page.size
    )
    return count, [msgspec.Raw(body) for body in bodies]


async def get_account(uow: UnitOfWork, principal: Principal, account_id: str) -> msgspec.Raw:
    body = await repository.get_body(uow, principal.tenant_id, parse_path_id(account_id))
    if body is None:
        raise NotFound()
    return msgspec.Raw(body)


async def delete_account(uow: UnitOfWork, principal: Principal, account_id: str) -> None:
    """Delete an account with its transactions, balances and owners; unknown ids are 404."""
    normalized = parse_path_id(account_id)
    await uow.begin_write()
    if not await repository.delete_account(uow, principal.tenant_id, normalized):
        raise NotFound()
    logger.info("account.deleted", account_id=normalized, tenant_id=principal.tenant_id)
