"""Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256>`.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, and the key is the
base64-decoded part of the endpoint's `whsec_...` secret (https://www.standardwebhooks.com/).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_signing_secret() -> str:
    """Return a new endpoint secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value for one delivery attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed_content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed_content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
