"""Request ids: 32 lowercase hex characters, on every response and every log line."""

from __future__ import annotations

import os
from typing import Any

SCOPE_KEY = "vinculo.request_id"


def new_request_id() -> str:
    """Return 128 random bits as 32 hex characters, the shape of Belvo's `request_id`."""
    return os.urandom(16).hex()


def request_id_of(scope: Any) -> str:
    """Return the id the outer middleware put in `scope`, or a new one outside a request."""
    request_id = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    return request_id if isinstance(request_id, str) else new_request_id()
