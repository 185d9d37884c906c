"""SQL for links, their sealed credentials and their MFA sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, insert, or_, select, update

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import link_credentials, links, mfa_sessions
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


async def get_link(uow: UnitOfWork, tenant_id: str, link_id: str) -> Row[Any] | None:
    statement = select(*LINK_COLUMNS).where(links.c.tenant_id == tenant_id, links.c.id == link_id)
    return await uow.first(statement)


async def get_link_by_user(
    uow: UnitOfWork, tenant_id: str, institution_user_id: str
) -> Row[Any] | None:
    statement = select(*LINK_COLUMNS).where(
        links.c.tenant_id == tenant_id, links.c.institution_user_id == institution_user_id
    )
    return await uow.first(statement)


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
    """Delete a link with its credentials and sessions; return whether it existed."""
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
    uow: UnitOfWork, tenant_id: str, link_id: str, *, now: datetime, until: datetime
) -> bool:
    """Mark a login as running on the link unless another one holds an unexpired lease."""
    statement = (
        update(links)
        .where(
            links.c.tenant_id == tenant_id,
            links.c.id == link_id,
            or_(links.c.login_lease_until.is_(None), links.c.login_lease_until <= now),
        )
        .values(login_lease_until=until)
    )
    return await uow.execute(statement) > 0


async def release_login_lease(uow: UnitOfWork, tenant_id: str, link_id: str) -> None:
    await update_link(uow, tenant_id, link_id, login_lease_until=None)


async def get_credentials(uow: UnitOfWork, tenant_id: str, link_id: str) -> Sealed | None:
    statement = select(
        link_credentials.c.wrapped_key,
        link_credentials.c.ciphertext,
        link_credentials.c.client_key_salt,
    ).where(link_credentials.c.tenant_id == tenant_id, link_credentials.c.link_id == link_id)
    row = await uow.first(statement)
    if row is None:
        return None
    return Sealed(row.wrapped_key, row.ciphertext, row.client_key_salt)


async def save_credentials(
    uow: UnitOfWork, tenant_id: str, link_id: str, sealed: Sealed, now: datetime
) -> None:
    await uow.execute(
        delete(link_credentials).where(
            link_credentials.c.tenant_id == tenant_id, link_credentials.c.link_id == link_id
        )
    )
    await uow.execute(
        insert(link_credentials).values(
            link_id=link_id,
            tenant_id=tenant_id,
            wrapped_key=sealed.wrapped_key,
            ciphertext=sealed.ciphertext,
            client_key_salt=sealed.client_key_salt,
            updated_at=now,
        )
    )


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


async def get_session(uow: UnitOfWork, tenant_id: str, session_id: str) -> Row[Any] | None:
    statement = select(mfa_sessions).where(
        mfa_sessions.c.tenant_id == tenant_id, mfa_sessions.c.id == session_id
    )
    return await uow.first(statement)


async def delete_session(uow: UnitOfWork, tenant_id: str, session_id: str) -> None:
    await uow.execute(
        delete(mfa_sessions).where(
            mfa_sessions.c.tenant_id == tenant_id, mfa_sessions.c.id == session_id
        )
    )


async def delete_link_sessions(uow: UnitOfWork, tenant_id: str, link_id: str) -> None:
    await uow.execute(
        delete(mfa_sessions).where(
            mfa_sessions.c.tenant_id == tenant_id, mfa_sessions.c.link_id == link_id
        )
    )
