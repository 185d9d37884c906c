"""SQL for links, their sealed credentials and their MFA sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    bindparam,
    delete,
    exists,
    func,
    insert,
    null,
    or_,
    select,
    update,
)

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
from vinculo.db.prepared import Prepared
from vinculo.institutions.repository import LINK_INSTITUTION_STATUS
from vinculo.security.vault import Sealed

LINK_COLUMNS = (
    links.c.id,
    links.c.institution,
    links.c.access_mode,
    links.c.last_accessed_at,
    links.c.created_at,
    links.c.external_id,
    links.c.institution_user_id,
    links.c.status,
    links.c.created_by,
    links.c.refresh_rate,
    links.c.credentials_storage,
    links.c.stale_in,
    links.c.fetch_resources,
    links.c.fetch_historical,
    links.c.credentials_expire_at,
)


_LINK_BY_ID = Prepared(
    select(*LINK_COLUMNS).where(
        links.c.tenant_id == bindparam("tenant_id"), links.c.id == bindparam("link_id")
    )
)
_LINK_BY_USER = Prepared(
    select(*LINK_COLUMNS).where(
        links.c.tenant_id == bindparam("tenant_id"),
        links.c.institution_user_id == bindparam("institution_user_id"),
    )
)


def _credentials_column(column: Any) -> Any:
    statement = select(column).where(link_credentials.c.link_id == links.c.id)
    return statement.scalar_subquery().label(column.key)


# Takes the lease and returns the link with its sealed credentials, in one statement.
_TAKE_LEASE = Prepared(
    update(links)
    .where(
        links.c.tenant_id == bindparam("tenant_id"),
        links.c.id == bindparam("link_id"),
        or_(
            links.c.login_lease_until.is_(None),
            links.c.login_lease_until <= bindparam("now"),
            # A LIKE pattern; NULL for client requests, which never match.
            links.c.login_lease_holder.like(bindparam("takeover")),
        ),
    )
    .values(login_lease_until=bindparam("until"), login_lease_holder=bindparam("holder"))
    .returning(
        *LINK_COLUMNS,
        _credentials_column(link_credentials.c.wrapped_key),
        _credentials_column(link_credentials.c.ciphertext),
        _credentials_column(link_credentials.c.client_key_salt),
        exists().where(mfa_sessions.c.link_id == links.c.id).label("has_sessions"),
        LINK_INSTITUTION_STATUS,
    )
)
_CREDENTIALS_BY_LINK = Prepared(
    select(
        link_credentials.c.wrapped_key,
        link_credentials.c.ciphertext,
        link_credentials.c.client_key_salt,
    ).where(
        link_credentials.c.tenant_id == bindparam("tenant_id"),
        link_credentials.c.link_id == bindparam("link_id"),
    )
)


async def get_link(uow: UnitOfWork, tenant_id: str, link_id: str) -> Any:
    """Return the link's row (the columns of `LINK_COLUMNS`), or None."""
    return await uow.first(_LINK_BY_ID, tenant_id=tenant_id, link_id=link_id)


async def get_link_by_user(uow: UnitOfWork, tenant_id: str, institution_user_id: str) -> Any:
    return await uow.first(
        _LINK_BY_USER, tenant_id=tenant_id, institution_user_id=institution_user_id
    )


async def list_links(
    uow: UnitOfWork,
    tenant_id: str,
    conditions: Sequence[ColumnElement[bool]],
    *,
    offset: int,
    limit: int,
) -> tuple[int, Sequence[Row[Any]]]:
    """Return the number of matching links and one page of them, newest first."""
    where = (links.c.tenant_id == tenant_id, *conditions)
    count = await uow.scalar(select(func.count()).select_from(links).where(*where))
    page = select(*LINK_COLUMNS).where(*where)
    page = page.order_by(links.c.created_at.desc(), links.c.id.desc()).offset(offset).limit(limit)
    return int(count or 0), await uow.rows(page)


async def insert_link(uow: UnitOfWork, **values: Any) -> None:
    await uow.execute(insert(links).values(**values))


async def update_link(uow: UnitOfWork, tenant_id: str, link_id: str, **values: Any) -> None:
    statement = (
        update(links).where(links.c.tenant_id == tenant_id, links.c.id == link_id).values(**values)
    )
    await uow.execute(statement)


async def delete_link(uow: UnitOfWork, tenant_id: str, link_id: str) -> bool:
    """Delete a link with its data, credentials and sessions; return whether it existed."""
    # Children first: transactions and balances refer to accounts as well as to the link.
    for table in (transactions, balances, owners, accounts):
        await uow.execute(
            delete(table).where(table.c.tenant_id == tenant_id, table.c.link_id == link_id)
        )
    await uow.execute(
        delete(mfa_sessions).where(
            mfa_sessions.c.tenant_id == tenant_id, mfa_sessions.c.link_id == link_id
        )
    )
    await uow.execute(
        delete(link_credentials).where(
            link_credentials.c.tenant_id == tenant_id, link_credentials.c.link_id == link_id
        )
    )
    statement = delete(links).where(links.c.tenant_id == tenant_id, links.c.id == link_id)
    return await uow.execute(statement) > 0


async def take_login_lease(
    uow: UnitOfWork,
    tenant_id: str,
    link_id: str,
    *,
    now: datetime,
    until: datetime,
    holder: str = "request",
    takeover: str | None = None,
) -> tuple[Any, Sealed | None] | None:
    """Mark a login as running on the link unless another one holds an unexpired lease.

    A lease whose holder matches the LIKE pattern `takeover` is taken over even before it
    expires (see `LoginLease` for the refresh jobs that use it).
    Returns the link's row (with `has_sessions` and `institution_status`) and its sealed
    credentials, or None when the link does not exist or its lease is taken.
    """
    rows = await uow.execute_returning(
        _TAKE_LEASE,
        tenant_id=tenant_id,
        link_id=link_id,
        now=now,
        until=until,
        holder=holder,
        takeover=takeover,
    )
    if not rows:
        return None
    row = rows[0]
    if row.wrapped_key is None:
        return row, None
    return row, Sealed(row.wrapped_key, row.ciphertext, row.client_key_salt)


_RELEASE_LEASE = Prepared(
    update(links)
    .where(links.c.tenant_id == bindparam("tenant_id"), links.c.id == bindparam("link_id"))
    .values(login_lease_until=null())
)
_RECORD_LOGIN = Prepared(
    update(links)
    .where(links.c.tenant_id == bindparam("tenant_id"), links.c.id == bindparam("link_id"))
    .values(
        status=bindparam("status"),
        last_accessed_at=bindparam("now"),
        updated_at=bindparam("now"),
        login_lease_until=null(),
    )
    .returning(*LINK_COLUMNS)
)


_LEASE_HOLDER = Prepared(
    select(links.c.login_lease_holder, links.c.login_lease_until).where(
        links.c.tenant_id == bindparam("tenant_id"), links.c.id == bindparam("link_id")
    )
)


async def lease_holder(uow: UnitOfWork, tenant_id: str, link_id: str) -> Any:
    """Return the link's lease holder and expiry, or None when the link does not exist."""
    return await uow.first(_LEASE_HOLDER, tenant_id=tenant_id, link_id=link_id)


async def release_lease_held_by(uow: UnitOfWork, tenant_id: str, link_id: str, holder: str) -> bool:
    """Release the link's lease if `holder` holds it; return whether it did."""
    statement = (
        update(links)
        .where(
            links.c.tenant_id == tenant_id,
            links.c.id == link_id,
            links.c.login_lease_holder == holder,
            links.c.login_lease_until.is_not(None),
        )
        .values(login_lease_until=null())
    )
    return await uow.execute(statement) > 0


async def release_login_lease(uow: UnitOfWork, tenant_id: str, link_id: str) -> None:
    await uow.execute(_RELEASE_LEASE, tenant_id=tenant_id, link_id=link_id)


async def record_login(
    uow: UnitOfWork, tenant_id: str, link_id: str, *, status: str, now: datetime
) -> Any:
    """Store a successful login's status and time, and release the link's login lease.

    Returns the link's row as updated, or None when the link was deleted meanwhile.
    """
    rows = await uow.execute_returning(
        _RECORD_LOGIN, tenant_id=tenant_id, link_id=link_id, status=status, now=now
    )
    return rows[0] if rows else None


async def get_credentials(uow: UnitOfWork, tenant_id: str, link_id: str) -> Sealed | None:
    row = await uow.first(_CREDENTIALS_BY_LINK, tenant_id=tenant_id, link_id=link_id)
    if row is None:
        return None
    return Sealed(row.wrapped_key, row.ciphertext, row.client_key_salt)


_UPDATE_CREDENTIALS = Prepared(
    update(link_credentials)
    .where(
        link_credentials.c.tenant_id == bindparam("tenant_id"),
        link_credentials.c.link_id == bindparam("link_id"),
    )
    .values(
        wrapped_key=bindparam("wrapped_key"),
        ciphertext=bindparam("ciphertext"),
        client_key_salt=bindparam("client_key_salt"),
        updated_at=bindparam("updated_at"),
    )
)
_INSERT_CREDENTIALS = Prepared(
    insert(link_credentials).values(
        link_id=bindparam("link_id"),
        tenant_id=bindparam("tenant_id"),
        wrapped_key=bindparam("wrapped_key"),
        ciphertext=bindparam("ciphertext"),
        client_key_salt=bindparam("client_key_salt"),
        updated_at=bindparam("updated_at"),
    )
)


async def save_credentials(
    uow: UnitOfWork, tenant_id: str, link_id: str, sealed: Sealed, now: datetime
) -> None:
    """Store a link's sealed credentials, replacing any it had."""
    values = {
        "tenant_id": tenant_id,
        "link_id": link_id,
        "wrapped_key": sealed.wrapped_key,
        "ciphertext": sealed.ciphertext,
        "client_key_salt": sealed.client_key_salt,
        "updated_at": now,
    }
    if await uow.execute(_UPDATE_CREDENTIALS, **values) == 0:
        await uow.execute(_INSERT_CREDENTIALS, **values)


async def insert_session(
    uow: UnitOfWork,
    *,
    session_id: str,
    tenant_id: str,
    link_id: str,
    purpose: str,
    sealed: Sealed,
    expires_at: datetime,
    now: datetime,
) -> None:
    await uow.execute(
        insert(mfa_sessions).values(
            id=session_id,
            tenant_id=tenant_id,
            link_id=link_id,
            purpose=purpose,
            wrapped_key=sealed.wrapped_key,
            ciphertext=sealed.ciphertext,
            client_key_salt=sealed.client_key_salt,
            expires_at=expires_at,
            created_at=now,
        )
    )


async def get_session(uow: UnitOfWork, tenant_id: str, session_id: str) -> Any:
    statement = select(mfa_sessions).where(
        mfa_sessions.c.tenant_id == tenant_id, mfa_sessions.c.id == session_id
    )
    return await uow.first(statement)


async def delete_session(uow: UnitOfWork, tenant_id: str, session_id: str) -> bool:
    """Delete a session; return whether it still existed."""
    deleted = await uow.execute(
        delete(mfa_sessions).where(
            mfa_sessions.c.tenant_id == tenant_id, mfa_sessions.c.id == session_id
        )
    )
    return deleted > 0


_DELETE_LINK_SESSIONS = Prepared(
    delete(mfa_sessions).where(
        mfa_sessions.c.tenant_id == bindparam("tenant_id"),
        mfa_sessions.c.link_id == bindparam("link_id"),
    )
)


async def delete_link_sessions(uow: UnitOfWork, tenant_id: str, link_id: str) -> None:
    await uow.execute(_DELETE_LINK_SESSIONS, tenant_id=tenant_id, link_id=link_id)
