"""The master key, and the keys derived from it for digests."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import insert, select

from vinculo.config import Settings
from vinculo.db.engine import UnitOfWork
from vinculo.db.models import key_checks

logger = structlog.get_logger(__name__)

MASTER_KEY_BYTES = 32
MASTER_KEY_FILE = "master.key"


class KeyConfigurationError(RuntimeError):
    """The configured master key is missing, unreadable or of the wrong size."""


class MasterKeyMismatch(RuntimeError):
    """The master key differs from the one the database's credentials were sealed with."""


def load_master_key(settings: Settings) -> bytes:
    """Return the 32-byte master key from settings, or from the key file in the data directory.

    The key file is created on first run with mode 0600. That suits a laptop, not production:
    production mode requires `VINCULO_MASTER_KEY`, supplied from a secret store.
    """
    if settings.master_key is not None:
        return _decode_key(settings.master_key.get_secret_value(), "VINCULO_MASTER_KEY")
    if settings.mode == "production":
        # A key file beside the database would travel with every backup of it.
        raise KeyConfigurationError(
            "production mode needs VINCULO_MASTER_KEY (base64 of 32 bytes) from a secret store"
        )

    path = settings.data_dir / MASTER_KEY_FILE
    if path.exists():
        return _decode_key(path.read_text().strip(), str(path))

    key = secrets.token_bytes(MASTER_KEY_BYTES)
    _write_private_file(path, base64.b64encode(key).decode() + "\n")
    logger.warning(
        "master_key.created",
        path=str(path),
        hint="production deployments must supply VINCULO_MASTER_KEY from a secret store",
    )
    return key


def _write_private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _decode_key(encoded: str, source: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"the master key in {source} is not valid base64") from exc
    if len(key) != MASTER_KEY_BYTES:
        raise KeyConfigurationError(
            f"the master key in {source} has {len(key)} bytes; it must have {MASTER_KEY_BYTES} "
            "(create one with: python -c 'import os,base64; "
            "print(base64.b64encode(os.urandom(32)).decode())')"
        )
    return key


def derive_subkey(master_key: bytes, purpose: str) -> bytes:
    """Derive an independent 32-byte key for `purpose` from the master key (HMAC-SHA256)."""
    return hmac.new(master_key, b"vinculo:" + purpose.encode(), hashlib.sha256).digest()


def pepper_from(settings: Settings, master_key: bytes) -> bytes:
    """Return the server-side pepper of API secret digests and institution user ids."""
    if settings.secret_pepper is not None:
        return settings.secret_pepper.get_secret_value().encode()
    return derive_subkey(master_key, "pepper")


MASTER_KEY_CHECK = "master_key"


async def verify_master_key(uow: UnitOfWork, master_key: bytes, now: datetime) -> None:
    """Check the master key against the digest stored on first use, storing it if absent.

    A different key cannot open any stored credentials, and through the derived pepper it makes
    every API key look wrong. This check turns that into one clear error at start-up.
    """
    digest = derive_subkey(master_key, "key-check")
    await uow.begin_write()
    stored = await uow.scalar(
        select(key_checks.c.digest).where(key_checks.c.name == MASTER_KEY_CHECK)
    )
    if stored is None:
        await uow.execute(
            insert(key_checks).values(name=MASTER_KEY_CHECK, digest=digest, created_at=now)
        )
        return
    if not hmac.compare_digest(stored, digest):
        raise MasterKeyMismatch(
            "this database was created with another master key, so its credentials and API "
            "keys cannot be read; start with the original VINCULO_MASTER_KEY or master.key"
        )
