"""Request ids: 32 lowercase hex characters, on every response and every log line."""

from __future__ import annotations

import random
from contextvars import ContextVar
from typing import Any

from structlog.types import EventDict, WrappedLogger

SCOPE_KEY = "vinculo.request_id"


# The id of the request being served, read by the log processor below.
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Request ids must be unique, not unpredictable, so a seeded Mersenne Twister (seeded from
# os.urandom when the module loads) replaces a system call per request.
_generator = random.Random()


def new_request_id() -> str:
    """Return 128 random bits as 32 hex characters, the shape of Belvo's `request_id`."""
    return f"{_generator.getrandbits(128):032x}"


def add_request_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: put the current request's id on every line logged while serving it."""
    request_id = current_request_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def request_id_of(scope: Any) -> str:
    """Return the id the outer middleware put in `scope`, or a new one outside a request."""
    request_id = scope.get(SCOPE_KEY) if isinstance(scope, dict) else None
    return request_id if isinstance(request_id, str) else new_request_id()
