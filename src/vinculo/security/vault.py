"""Envelope encryption of link credentials and MFA session state (AES-256-GCM).

Each sealed record has its own random data key. The data key encrypts the payload and is
itself encrypted ("wrapped") by the master key. Both encryptions bind associated data naming the
tenant, the record kind and the record id, so a ciphertext copied onto another row, or another
tenant's row, fails authentication instead of decrypting.

A client may add its own `encryption_key`: the payload is then sealed first with a key derived
from it (HKDF-SHA256 with a per-record salt) and only then with the data key, so the server alone
cannot read it. HKDF adds no work factor, so the protection is only as strong as the key the
client picks: a short or guessable `encryption_key` can be brute-forced by anyone with the
database and the master key. A password-style KDF such as scrypt would cost tens of
milliseconds on every request that carries the key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
DATA_KEY_BYTES = 32
CLIENT_SALT_BYTES = 16


class DecryptionFailed(Exception):
    """A sealed record did not authenticate: wrong key, wrong row, or tampered bytes."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """The stored bytes of one sealed record."""

    wrapped_key: bytes
    ciphertext: bytes
    client_key_salt: bytes | None


def _encrypt(key: bytes | AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    return nonce + cipher.encrypt(nonce, plaintext, associated_data)


def _decrypt(key: bytes | AESGCM, sealed: bytes, associated_data: bytes) -> bytes:
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    try:
        return cipher.decrypt(nonce, ciphertext, associated_data)
    except (InvalidTag, ValueError) as exc:
        # ValueError: the stored bytes are too short to hold a nonce and a tag.
        raise DecryptionFailed("sealed record failed authentication") from exc


def derive_client_key(encryption_key: str, salt: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"vinculo client key")
    return hkdf.derive(encryption_key.encode())


class Vault:
    """Seals and opens records under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        # Built once: every credential read and write unwraps or wraps a data key with it.
        self._master_cipher = AESGCM(master_key)

    def seal(
        self,
        plaintext: bytes,
        *,
        tenant_id: str,
        kind: str,
        record_id: str,
        encryption_key: str | None = None,
    ) -> Sealed:
        """Encrypt `plaintext` for the record `kind`/`record_id` of `tenant_id`."""
        associated_data = _associated_data(tenant_id, kind, record_id)
        salt = None
        if encryption_key is not None:
            salt = secrets.token_bytes(CLIENT_SALT_BYTES)
            client_key = derive_client_key(encryption_key, salt)
            plaintext = _encrypt(client_key, plaintext, associated_data + b"|client")
        data_key = secrets.token_bytes(DATA_KEY_BYTES)
        return Sealed(
            wrapped_key=_encrypt(self._master_cipher, data_key, associated_data + b"|key"),
            ciphertext=_encrypt(data_key, plaintext, associated_data),
            client_key_salt=salt,
        )

    def open(
        self,
        sealed: Sealed,
        *,
        tenant_id: str,
        kind: str,
        record_id: str,
        encryption_key: str | None = None,
    ) -> bytes:
        """Decrypt a record sealed by `seal` with the same tenant, kind, id and client key.

        Raises `DecryptionFailed` when any of them differs or the bytes were changed, and
        `ValueError` when the record needs an `encryption_key` that was not given.
        """
        associated_data = _associated_data(tenant_id, kind, record_id)
        data_key = _decrypt(self._master_cipher, sealed.wrapped_key, associated_data + b"|key")
        plaintext = _decrypt(data_key, sealed.ciphertext, associated_data)
        if sealed.client_key_salt is None:
            return plaintext
        if encryption_key is None:
            raise ValueError("this record is sealed with a client encryption_key")
        client_key = derive_client_key(encryption_key, sealed.client_key_salt)
        return _decrypt(client_key, plaintext, associated_data + b"|client")


def _associated_data(tenant_id: str, kind: str, record_id: str) -> bytes:
    return f"vinculo|{kind}|{tenant_id}|{record_id}".encode()
