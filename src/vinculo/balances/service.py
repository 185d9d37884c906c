"""Stored daily balances: saving what a retrieval collected, and listing, reading, deleting."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import structlog

from vinculo.accounts.service import StoredAccount
from vinculo.balances import repository
from vinculo.connectors.base import FetchedBalance
from vinculo.db.engine import UnitOfWork
from vinculo.db.models import accounts, balances
from vinculo.tenants.service import Principal
from vinculo.transactions.service import with_accounts
from vinculo.wire.errors import NotFound
from vinculo.wire.query import (
    EXACT_OR_IN,
    ORDERED,
    FilterField,
    PageRequest,
    parse_filters,
    parse_path_id,
)
from vinculo.wire.stored import embed_account

logger = structlog.get_logger(__name__)

# The union of the filters in Belvo's balances list operation and in its tag.
BALANCE_FILTERS: dict[str, FilterField] = {
    "link": FilterField(balances.c.link_id, "uuid", EXACT_OR_IN),
    "id": FilterField(balances.c.id, "uuid", EXACT_OR_IN),
    "account": FilterField(balances.c.account_id, "uuid", EXACT_OR_IN),
    "account__type": FilterField(accounts.c.type, "str", EXACT_OR_IN),
    "account_type": FilterField(accounts.c.type, "str", EXACT_OR_IN),
    "institution": FilterField(accounts.c.institution, "str", EXACT_OR_IN),
    "balance": FilterField(balances.c.balance, "number", ORDERED),
    "current_balance": FilterField(balances.c.balance, "number", ORDERED),
    "currency": FilterField(balances.c.currency, "str", EXACT_OR_IN),
    "value_date": FilterField(balances.c.value_date, "date", ORDERED),
}


async def save_balances(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    link_id: str,
    stored_accounts: Mapping[str, StoredAccount],
    collected: Sequence[FetchedBalance],
    save: bool,
) -> list[msgspec.Raw]:
    """Give collected daily balances their ids and, when `save` is true, store them.

    An account has one balance per day: a day retrieved again keeps its id and takes the new
    figure. Returns the balances as sent, each with its account embedded.
    """
    known = await repository.known_balances(uow, tenant_id, link_id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    answer: list[msgspec.Raw] = []
    for item in collected:
        account = stored_accounts[item.account]
        balance = item.balance
        previous_id = known.get((account.id, balance.value_date))
        balance_id = previous_id or str(uuid.uuid4())
        balance = msgspec.structs.replace(balance, id=balance_id)
        body = msgspec.json.encode(balance)
        answer.append(embed_account(account.body, body))
        row = {
            "balance": balance.balance,
            "currency": account.currency,
            "collected_at": balance.collected_at,
            "body": body,
        }
        if previous_id is not None:
            updates.append({"row_id": balance_id, **row})
        else:
            inserts.append(
                {
                    "id": balance_id,
                    "tenant_id": tenant_id,
                    "link_id": link_id,
                    "account_id": account.id,
                    "value_date": balance.value_date,
                    "created_at": balance.collected_at,
                    **row,
                }
            )
    if save:
        await repository.update_balances(uow, updates)
        await repository.insert_balances(uow, inserts)
    return answer


async def list_balances(
    uow: UnitOfWork, principal: Principal, multi_query: Any, page: PageRequest
) -> tuple[int, list[msgspec.Raw]]:
    conditions = parse_filters(multi_query, BALANCE_FILTERS)
    count, rows = await repository.list_balances(
        uow, principal.tenant_id, conditions, offset=page.offset, limit=page.size
    )
    return count, await with_accounts(uow, principal.tenant_id, rows)


async def get_balance(uow: UnitOfWork, principal: Principal, balance_id: str) -> msgspec.Raw:
    row = await repository.get_balance(uow, principal.tenant_id, parse_path_id(balance_id))
    if row is None:
        raise NotFound()
    return (await with_accounts(uow, principal.tenant_id, [row]))[0]


async def delete_balance(uow: UnitOfWork, principal: Principal, balance_id: str) -> None:
    normalized = parse_path_id(balance_id)
    if not await repository.delete_balance(uow, principal.tenant_id, normalized):
        raise NotFound()
    logger.info("balance.deleted", balance_id=normalized, tenant_id=principal.tenant_id)
