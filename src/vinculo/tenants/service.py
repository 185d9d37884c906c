"""Tenants and API keys: creation, listing, revocation and request authentication."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Row

from vinculo.clock import Clock
from vinculo.db.engine import UnitOfWork
from vinculo.security.api_keys import (
    new_secret_id,
    new_secret_password,
    secret_digest,
)
from vinculo.tenants import repository

logger = structlog.get_logger(__name__)

SANDBOX_TENANT = "sandbox"


@dataclass(frozen=True, slots=True)
class Principal:
    """The sender of a request: the tenant and the key's principal (a link's `created_by`)."""

    tenant_id: str
    principal_id: str
    secret_id: str


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly created key; the password exists only in this object, never in storage."""

    tenant_name: str
    tenant_id: str
    secret_id: str
    secret_password: str


async def ensure_tenant(uow: UnitOfWork, name: str, clock: Clock) -> str:
    """Return the id of tenant `name`, creating it when it does not exist."""
    # Look up inside the write transaction, so a concurrent creator cannot slip in between.
    await uow.begin_write()
    row = await repository.tenant_by_name(uow, name)
    if row is not None:
        return str(row.id)
    tenant_id = str(uuid.uuid4())
    await repository.insert_tenant(uow, tenant_id=tenant_id, name=name, now=clock.now())
    logger.info("tenant.created", tenant_id=tenant_id, tenant_name=name)
    return tenant_id


async def create_api_key(
    uow: UnitOfWork,
    *,
    pepper: bytes,
    clock: Clock,
    tenant_name: str,
    label: str | None = None,
    secret_id: str | None = None,
    secret_password: str | None = None,
) -> NewApiKey:
    """Create a key for `tenant_name` (and the tenant itself if needed)."""
    tenant_id = await ensure_tenant(uow, tenant_name, clock)
    secret_id = secret_id or new_secret_id()
    secret_password = secret_password or new_secret_password()
    await repository.insert_api_key(
        uow,
        secret_id=secret_id,
        tenant_id=tenant_id,
        principal_id=str(uuid.uuid4()),
        secret_digest=secret_digest(pepper, secret_id, secret_password),
        label=label,
        now=clock.now(),
    )
    logger.info("api_key.created", tenant_id=tenant_id, secret_id=secret_id)
    return NewApiKey(tenant_name, tenant_id, secret_id, secret_password)


async def has_any_tenant(uow: UnitOfWork) -> bool:
    return await repository.count_tenants(uow) > 0


async def list_api_keys(uow: UnitOfWork) -> Sequence[Row[Any]]:
    return await repository.list_api_keys(uow)


async def revoke_api_key(uow: UnitOfWork, secret_id: str, clock: Clock) -> bool:
    revoked = await repository.revoke_api_key(uow, secret_id, clock.now()) > 0
    if revoked:
        logger.info("api_key.revoked", secret_id=secret_id)
    return revoked


class Authenticator:
    """Checks Basic-auth secret keys, trusting a verified key for `cache_seconds`.

    The cache keeps a database read and an HMAC off the hot path. It is keyed by a keyed
    BLAKE2b digest of the whole `Authorization` header, so no secret is held in plain text.
    Its lifetime bounds how long a revoked key keeps working in a process that verified it.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, *, pepper: bytes, cache_seconds: float) -> None:
        self._pepper = pepper
        self._cache_key = hashlib.blake2b(pepper, digest_size=32).digest()
        self._cache_seconds = cache_seconds
        self._verified: dict[bytes, tuple[float, Principal]] = {}

    def _header_digest(self, header: bytes) -> bytes:
        return hashlib.blake2b(header, key=self._cache_key, digest_size=32).digest()

    def cached(self, header: bytes) -> Principal | None:
        """Return the principal of an `Authorization` header verified recently, if any."""
        entry = self._verified.get(self._header_digest(header))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    async def authenticate(
        self, uow: UnitOfWork, secret_id: str, password: str, *, header: bytes | None = None
    ) -> Principal | None:
        """Check a key against storage; remember a valid one under its `header`, if given."""
        row = await repository.api_key_by_id(uow, secret_id)
        if row is None or row.revoked_at is not None:
            return None
        digest = secret_digest(self._pepper, secret_id, password)
        if not hmac.compare_digest(digest, row.secret_digest):
            return None
        principal = Principal(str(row.tenant_id), str(row.principal_id), secret_id)
        if header is not None and self._cache_seconds > 0:
            if len(self._verified) >= self.MAX_ENTRIES:
                self._verified.clear()
            expires = time.monotonic() + self._cache_seconds
            self._verified[self._header_digest(header)] = (expires, principal)
        return principal
