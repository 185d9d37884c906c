"""SQL of the sandbox control API: deleting a tenant's links and everything they own."""

from __future__ import annotations

from sqlalchemy import Table, delete

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import (
    accounts,
    balances,
    link_credentials,
    links,
    mfa_sessions,
    owners,
    transactions,
)

# Children before their parents: transactions and balances refer to accounts, and every
# table here refers to links.
_TENANT_TABLES: tuple[tuple[str, Table], ...] = (
    ("transactions", transactions),
    ("balances", balances),
    ("owners", owners),
    ("accounts", accounts),
    ("mfa_sessions", mfa_sessions),
    ("credentials", link_credentials),
    ("links", links),
)


async def delete_tenant_links(uow: UnitOfWork, tenant_id: str) -> dict[str, int]:
    """Delete the tenant's links with their data, credentials and MFA sessions.

    Returns the number of deleted rows by kind. API keys and other tenants' rows stay.
    """
    counts: dict[str, int] = {}
    for kind, table in _TENANT_TABLES:
        counts[kind] = await uow.execute(delete(table).where(table.c.tenant_id == tenant_id))
    return counts
