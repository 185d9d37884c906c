"""The credential vault: envelope encryption bound to tenant, kind and record id.

The first half drives `Vault` directly. The second half checks the stored rows and what the
API does when a sealed row is copied onto another link.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.links.calls import PLAIN_BANK, check_error, create_link, database_bytes
from vinculo.app import VinculoApp
from vinculo.connectors.base import Credentials, LoginOutcome
from vinculo.db.models import link_credentials
from vinculo.security.vault import CLIENT_SALT_BYTES, DecryptionFailed, Sealed, Vault

MASTER_KEY = bytes(range(32))
TENANT = "8d4d2f0e-6f7b-4d0e-9c55-2f1e0a6b9c11"
OTHER_TENANT = "1b0f5a3c-2d4e-4f60-8a71-9c8b7d6e5f40"
RECORD = "a3c1e5f7-0b2d-4e6f-8a1c-3e5f7a9b1d2f"
OTHER_RECORD = "f7e5d3c1-b9a8-4765-9432-10fedcba9876"
KIND = "link_credentials"
PLAINTEXT = b'{"username":"canary-user","password":"canary-password-5f1c"}'


@pytest.fixture
def vault() -> Vault:
    return Vault(MASTER_KEY)


def _seal(vault: Vault, **overrides: Any) -> Sealed:
    arguments: dict[str, Any] = {"tenant_id": TENANT, "kind": KIND, "record_id": RECORD}
    arguments.update(overrides)
    return vault.seal(PLAINTEXT, **arguments)


def _open(vault: Vault, sealed: Sealed, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {"tenant_id": TENANT, "kind": KIND, "record_id": RECORD}
    arguments.update(overrides)
    return vault.open(sealed, **arguments)


def _flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# Round trips ----------------------------------------------------------------------------------


def test_round_trip(vault: Vault) -> None:
    sealed = _seal(vault)

    assert _open(vault, sealed) == PLAINTEXT
    assert sealed.client_key_salt is None


def test_round_trip_empty(vault: Vault) -> None:
    sealed = vault.seal(b"", tenant_id=TENANT, kind=KIND, record_id=RECORD)

    assert _open(vault, sealed) == b""


def test_round_trip_new_vault(vault: Vault) -> None:
    sealed = _seal(vault)

    assert _open(Vault(MASTER_KEY), sealed) == PLAINTEXT


def test_seal_hides_plaintext(vault: Vault) -> None:
    sealed = _seal(vault)

    assert b"canary-password" not in sealed.ciphertext
    assert b"canary-password" not in sealed.wrapped_key


def test_seal_fresh_each_time(vault: Vault) -> None:
    first = _seal(vault)
    second = _seal(vault)

    assert first.ciphertext != second.ciphertext
    assert first.wrapped_key != second.wrapped_key


def test_master_key_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Vault(bytes(16))


# Binding to tenant, kind and id ---------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"tenant_id": OTHER_TENANT}, id="tenant"),
        pytest.param({"kind": "mfa_session"}, id="kind"),
        pytest.param({"record_id": OTHER_RECORD}, id="record id"),
    ],
)
def test_open_elsewhere_fails(vault: Vault, overrides: dict[str, str]) -> None:
    sealed = _seal(vault)

    with pytest.raises(DecryptionFailed):
        _open(vault, sealed, **overrides)


def test_other_master_key_fails(vault: Vault) -> None:
    sealed = _seal(vault)

    with pytest.raises(DecryptionFailed):
        _open(Vault(bytes(reversed(MASTER_KEY))), sealed)


def test_swapped_ciphertext_fails(vault: Vault) -> None:
    mine = _seal(vault)
    theirs = _seal(vault, record_id=OTHER_RECORD)

    with pytest.raises(DecryptionFailed):
        _open(vault, replace(mine, ciphertext=theirs.ciphertext))


def test_swapped_wrapped_key_fails(vault: Vault) -> None:
    mine = _seal(vault)
    theirs = _seal(vault, record_id=OTHER_RECORD)

    with pytest.raises(DecryptionFailed):
        _open(vault, replace(mine, wrapped_key=theirs.wrapped_key))


def test_whole_record_moved_fails(vault: Vault) -> None:
    theirs = _seal(vault, record_id=OTHER_RECORD)

    with pytest.raises(DecryptionFailed):
        _open(vault, theirs)


# Tampering ------------------------------------------------------------------------------------

# Byte positions in nonce (0), the encrypted body (12) and the tag (-1).
POSITIONS = [0, 12, -1]


@pytest.mark.parametrize("index", POSITIONS)
def test_tampered_ciphertext_fails(vault: Vault, index: int) -> None:
    sealed = _seal(vault)

    with pytest.raises(DecryptionFailed):
        _open(vault, replace(sealed, ciphertext=_flip(sealed.ciphertext, index)))


@pytest.mark.parametrize("index", POSITIONS)
def test_tampered_wrapped_key_fails(vault: Vault, index: int) -> None:
    sealed = _seal(vault)

    with pytest.raises(DecryptionFailed):
        _open(vault, replace(sealed, wrapped_key=_flip(sealed.wrapped_key, index)))


def test_truncated_ciphertext_fails(vault: Vault) -> None:
    sealed = _seal(vault)

    with pytest.raises(DecryptionFailed):
        _open(vault, replace(sealed, ciphertext=sealed.ciphertext[:-1]))


# The client's encryption_key ------------------------------------------------------------------


def test_client_key_round_trip(vault: Vault) -> None:
    sealed = _seal(vault, encryption_key="client secret")

    assert _open(vault, sealed, encryption_key="client secret") == PLAINTEXT
    assert sealed.client_key_salt is not None
    assert len(sealed.client_key_salt) == CLIENT_SALT_BYTES


def test_client_key_missing(vault: Vault) -> None:
    sealed = _seal(vault, encryption_key="client secret")

    with pytest.raises(ValueError, match="encryption_key"):
        _open(vault, sealed)


def test_client_key_wrong(vault: Vault) -> None:
    sealed = _seal(vault, encryption_key="client secret")

    with pytest.raises(DecryptionFailed):
        _open(vault, sealed, encryption_key="client secreT")


def test_client_key_salt_tampered(vault: Vault) -> None:
    sealed = _seal(vault, encryption_key="client secret")
    assert sealed.client_key_salt is not None

    with pytest.raises(DecryptionFailed):
        _open(
            vault,
            replace(sealed, client_key_salt=_flip(sealed.client_key_salt, 0)),
            encryption_key="client secret",
        )


def test_client_layer_without_salt_hides_plaintext(vault: Vault) -> None:
    sealed = _seal(vault, encryption_key="client secret")

    # With the salt dropped, the server's layer opens, but only the client's layer comes out.
    inner = _open(vault, replace(sealed, client_key_salt=None))

    assert b"canary-password" not in inner
    assert inner != PLAINTEXT


def test_client_salt_fresh_each_time(vault: Vault) -> None:
    first = _seal(vault, encryption_key="client secret")
    second = _seal(vault, encryption_key="client secret")

    assert first.client_key_salt != second.client_key_salt


# Stored rows and the API ----------------------------------------------------------------------


class RecordingConnector:
    """Passes logins to the real connector and records the usernames it was given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.usernames: list[str] = []

    async def login(
        self, institution: str, credentials: Credentials, *, token: str | None = None
    ) -> LoginOutcome:
        self.usernames.append(credentials.username)
        outcome: LoginOutcome = await self.inner.login(institution, credentials, token=token)
        return outcome

    async def resume(
        self,
        institution: str,
        credentials: Credentials,
        state: dict[str, Any],
        token: str | None,
    ) -> LoginOutcome:
        self.usernames.append(credentials.username)
        outcome: LoginOutcome = await self.inner.resume(institution, credentials, state, token)
        return outcome


@pytest.fixture
def recorder(app: VinculoApp) -> RecordingConnector:
    recording = RecordingConnector(app.context.connector)
    app.context.connector = recording
    return recording


async def _credentials_row(app: VinculoApp, link_id: str) -> Any:
    statement = select(link_credentials).where(link_credentials.c.link_id == link_id)
    async with app.context.database.unit_of_work() as uow:
        return await uow.first(statement)


async def _copy_credentials(app: VinculoApp, source_id: str, target_id: str) -> None:
    """Overwrite the sealed bytes of `target_id` with those of `source_id`, as an attacker with
    write access to the database could."""
    source = await _credentials_row(app, source_id)
    statement = (
        update(link_credentials)
        .where(link_credentials.c.link_id == target_id)
        .values(
            wrapped_key=source.wrapped_key,
            ciphertext=source.ciphertext,
            client_key_salt=source.client_key_salt,
        )
    )
    async with app.context.database.unit_of_work() as uow:
        assert await uow.execute(statement) == 1


async def test_stored_row_hides_password(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "canary-user", password="canary-password-5f1c")

    row = await _credentials_row(app, link["id"])

    assert row is not None
    assert b"canary-password-5f1c" not in row.ciphertext
    assert b"canary-password-5f1c" not in row.wrapped_key
    assert row.client_key_salt is None


async def test_database_file_hides_password(app: VinculoApp, client: httpx.AsyncClient) -> None:
    await create_link(client, "canary-user", password="canary-password-5f1c")

    stored = database_bytes(app)

    assert stored
    assert b"canary-password-5f1c" not in stored


async def test_nostore_keeps_no_row(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await create_link(
        client,
        "nostore",
        access_mode="single",
        credentials_storage="nostore",
        fetch_resources=["ACCOUNTS"],
        fetch_historical=True,
    )

    assert await _credentials_row(app, link["id"]) is None


async def test_client_key_row_has_salt(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "salted", access_mode="single", encryption_key="k-1")

    row = await _credentials_row(app, link["id"])

    assert row.client_key_salt is not None
    assert len(row.client_key_salt) == CLIENT_SALT_BYTES


async def test_put_with_client_key(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "client_sealed", access_mode="single", encryption_key="k-1")

    response = await client.put(
        f"/api/links/{link['id']}/", json={"password": "changed", "encryption_key": "k-1"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "valid"


async def test_swapped_row_not_used(
    app: VinculoApp, client: httpx.AsyncClient, recorder: RecordingConnector
) -> None:
    victim = await create_link(client, "victim-user")
    target = await create_link(client, "target-user")
    await _copy_credentials(app, victim["id"], target["id"])
    recorder.usernames.clear()

    response = await client.put(f"/api/links/{target['id']}/", json={"password": "new"})

    assert response.status_code != 200, response.text
    assert "victim-user" not in recorder.usernames
    after = await client.get(f"/api/links/{target['id']}/")
    assert after.json() == target


async def test_swapped_row_client_error(app: VinculoApp, client: httpx.AsyncClient) -> None:
    victim = await create_link(client, "victim-user")
    target = await create_link(client, "target-user")
    await _copy_credentials(app, victim["id"], target["id"])

    response = await client.put(f"/api/links/{target['id']}/", json={"password": "new"})

    # A row that fails authentication is a known, expected condition, not an internal error.
    assert response.status_code < 500, response.text
    assert response.status_code >= 400, response.text


async def test_swapped_row_across_tenants(
    app: VinculoApp,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    recorder: RecordingConnector,
) -> None:
    victim = await create_link(client, "victim-user")
    target = await create_link(other_client, "target-user")
    await _copy_credentials(app, victim["id"], target["id"])
    recorder.usernames.clear()

    response = await other_client.put(f"/api/links/{target['id']}/", json={"password": "new"})

    assert response.status_code != 200, response.text
    assert "victim-user" not in recorder.usernames


async def test_original_row_still_opens(app: VinculoApp, client: httpx.AsyncClient) -> None:
    victim = await create_link(client, "victim-user")
    target = await create_link(client, "target-user")
    await _copy_credentials(app, victim["id"], target["id"])

    response = await client.put(f"/api/links/{victim['id']}/", json={"password": "new"})

    assert response.status_code == 200, response.text


async def _tamper_credentials(app: VinculoApp, link_id: str) -> None:
    row = await _credentials_row(app, link_id)
    statement = (
        update(link_credentials)
        .where(link_credentials.c.link_id == link_id)
        .values(ciphertext=_flip(row.ciphertext, 20))
    )
    async with app.context.database.unit_of_work() as uow:
        assert await uow.execute(statement) == 1


async def test_tampered_row_not_used(
    app: VinculoApp, client: httpx.AsyncClient, recorder: RecordingConnector
) -> None:
    link = await create_link(client, "tampered-user", institution=PLAIN_BANK)
    await _tamper_credentials(app, link["id"])
    recorder.usernames.clear()

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "new"})

    assert response.status_code != 200, response.text
    assert recorder.usernames == []


async def test_tampered_row_client_error(app: VinculoApp, client: httpx.AsyncClient) -> None:
    link = await create_link(client, "tampered-user", institution=PLAIN_BANK)
    await _tamper_credentials(app, link["id"])

    response = await client.put(f"/api/links/{link['id']}/", json={"password": "new"})

    assert response.status_code < 500, response.text
    assert response.status_code >= 400, response.text


async def test_encryption_key_wrong_via_api(client: httpx.AsyncClient) -> None:
    link = await create_link(client, "wrong_key", access_mode="single", encryption_key="k-1")

    response = await client.put(
        f"/api/links/{link['id']}/", json={"password": "new", "encryption_key": "k-2"}
    )

    check_error(response, status=400, code="invalid", field="encryption_key")
