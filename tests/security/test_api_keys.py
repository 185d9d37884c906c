"""API secret keys: stored as keyed digests, checked on every request, and revocable."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest
from sqlalchemy import select

from tests.links.calls import check_error, client_with, database_bytes
from vinculo.app import VinculoApp
from vinculo.db.models import api_keys
from vinculo.security.api_keys import (
    new_secret_id,
    new_secret_password,
    secret_digest,
    secret_matches,
)
from vinculo.tenants.service import Authenticator, create_api_key, revoke_api_key

PEPPER = b"p" * 32
CANARY_PASSWORD = "canary-api-secret-7d3e9b"


async def _create_key(
    app: VinculoApp, tenant: str = "tenant-a", password: str | None = None
) -> tuple[str, str]:
    context = app.context
    async with context.database.unit_of_work() as uow:
        key = await create_api_key(
            uow,
            pepper=context.pepper,
            clock=context.clock,
            tenant_name=tenant,
            secret_password=password,
        )
    return key.secret_id, key.secret_password


async def _stored_digest(app: VinculoApp, secret_id: str) -> bytes:
    statement = select(api_keys.c.secret_digest).where(api_keys.c.secret_id == secret_id)
    async with app.context.database.unit_of_work() as uow:
        digest: bytes = await uow.scalar(statement)
    return digest


async def _revoke(app: VinculoApp, secret_id: str) -> bool:
    async with app.context.database.unit_of_work() as uow:
        return await revoke_api_key(uow, secret_id, app.context.clock)


# Digests --------------------------------------------------------------------------------------


def test_digest_is_hmac() -> None:
    digest = secret_digest(PEPPER, "key-id", "secret")

    expected = hmac.new(PEPPER, b"key-id\x00secret", hashlib.sha256).digest()
    assert digest == expected


def test_digest_not_plain_hash() -> None:
    digest = secret_digest(PEPPER, "key-id", "secret")

    assert digest != hashlib.sha256(b"secret").digest()
    assert digest != hashlib.sha256(b"key-id\x00secret").digest()


def test_digest_depends_on_pepper() -> None:
    assert secret_digest(PEPPER, "key-id", "secret") != secret_digest(b"q" * 32, "key-id", "secret")


def test_digest_binds_id() -> None:
    assert secret_digest(PEPPER, "key-1", "secret") != secret_digest(PEPPER, "key-2", "secret")


def test_secret_matches() -> None:
    stored = secret_digest(PEPPER, "key-id", "secret")

    assert secret_matches(PEPPER, "key-id", "secret", stored)
    assert not secret_matches(PEPPER, "key-id", "secreT", stored)
    assert not secret_matches(PEPPER, "key-iD", "secret", stored)


def test_new_secrets_random() -> None:
    passwords = {new_secret_password() for _ in range(20)}
    ids = {new_secret_id() for _ in range(20)}

    assert len(passwords) == 20
    assert len(ids) == 20
    assert min(len(password) for password in passwords) >= 43


async def test_stored_digest_hides_password(app: VinculoApp) -> None:
    secret_id, password = await _create_key(app, password=CANARY_PASSWORD)

    digest = await _stored_digest(app, secret_id)

    assert len(digest) == 32
    assert CANARY_PASSWORD.encode() not in digest
    assert digest == secret_digest(app.context.pepper, secret_id, password)


async def test_database_file_hides_password(app: VinculoApp) -> None:
    await _create_key(app, password=CANARY_PASSWORD)

    stored = database_bytes(app)

    assert stored
    assert CANARY_PASSWORD.encode() not in stored


# Authentication and revocation ----------------------------------------------------------------


async def test_new_key_accepted(app: VinculoApp) -> None:
    async with client_with(app, auth=await _create_key(app)) as http:
        response = await http.get("/api/links/")

    assert response.status_code == 200


async def test_revoked_key_rejected(app: VinculoApp) -> None:
    secret_id, password = await _create_key(app)
    async with client_with(app, auth=(secret_id, password)) as http:
        before = await http.get("/api/links/")
        assert await _revoke(app, secret_id)
        after = await http.get("/api/links/")

    assert before.status_code == 200
    check_error(after, status=401, code="authentication_failed", message="Invalid Secret Keys")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/"), ("GET", "/api/institutions/"), ("POST", "/api/links/")],
)
async def test_revoked_key_rejected_everywhere(app: VinculoApp, method: str, path: str) -> None:
    secret_id, password = await _create_key(app)
    await _revoke(app, secret_id)

    async with client_with(app, auth=(secret_id, password)) as http:
        response = await http.request(method, path, json={} if method == "POST" else None)

    check_error(response, status=401, code="authentication_failed", message="Invalid Secret Keys")


async def test_revoke_keeps_other_keys(app: VinculoApp) -> None:
    revoked_id, _ = await _create_key(app)
    kept_key = await _create_key(app)
    await _revoke(app, revoked_id)

    async with client_with(app, auth=kept_key) as http:
        response = await http.get("/api/links/")

    assert response.status_code == 200


async def test_revoke_twice(app: VinculoApp) -> None:
    secret_id, _ = await _create_key(app)

    first = await _revoke(app, secret_id)
    second = await _revoke(app, secret_id)

    assert first is True
    assert second is False


async def test_revoke_unknown_id(app: VinculoApp) -> None:
    assert await _revoke(app, new_secret_id()) is False


async def test_revoked_key_links_remain(app: VinculoApp, client: httpx.AsyncClient) -> None:
    secret_id, password = await _create_key(app)
    async with client_with(app, auth=(secret_id, password)) as http:
        created = await http.post(
            "/api/links/",
            json={"institution": "erebor_mx_retail", "username": "u", "password": "p"},
        )
    assert created.status_code == 201, created.text
    await _revoke(app, secret_id)

    response = await client.get(f"/api/links/{created.json()['id']}/")

    assert response.status_code == 200


async def test_cache_rejects_wrong_password(app: VinculoApp) -> None:
    secret_id, password = await _create_key(app)
    authenticator = Authenticator(pepper=app.context.pepper, cache_seconds=60)

    async with app.context.database.unit_of_work() as uow:
        accepted = await authenticator.authenticate(uow, secret_id, password)
        rejected = await authenticator.authenticate(uow, secret_id, password + "x")

    assert accepted is not None
    assert rejected is None


async def test_authenticator_unknown_id(app: VinculoApp) -> None:
    authenticator = Authenticator(pepper=app.context.pepper, cache_seconds=0)

    async with app.context.database.unit_of_work() as uow:
        principal = await authenticator.authenticate(uow, new_secret_id(), "whatever")

    assert principal is None


async def test_keys_of_one_tenant_share_links(app: VinculoApp) -> None:
    first = await _create_key(app, tenant="shared")
    second = await _create_key(app, tenant="shared")
    async with client_with(app, auth=first) as http:
        created = await http.post(
            "/api/links/",
            json={"institution": "erebor_mx_retail", "username": "u", "password": "p"},
        )

    async with client_with(app, auth=second) as http:
        response = await http.get(f"/api/links/{created.json()['id']}/")

    assert response.status_code == 200
