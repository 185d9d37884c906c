"""API secret keys: generation, keyed digests and constant-time checks.

Secrets are random 256-bit values, so a keyed HMAC-SHA256 with a server-side pepper is enough
to store them: a slow password hash defends low-entropy passwords and would cost milliseconds
on every request. A stolen database without the pepper reveals nothing that can be checked
offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_secret_id() -> str:
    return str(uuid.uuid4())


def new_secret_password() -> str:
    return secrets.token_urlsafe(32)


def secret_digest(pepper: bytes, secret_id: str, password: str) -> bytes:
    """Return the digest stored for a key; the id is bound in so digests cannot be swapped."""
    message = secret_id.encode() + b"\x00" + password.encode()
    return hmac.new(pepper, message, hashlib.sha256).digest()


def secret_matches(pepper: bytes, secret_id: str, password: str, stored_digest: bytes) -> bool:
    return hmac.compare_digest(secret_digest(pepper, secret_id, password), stored_digest)
