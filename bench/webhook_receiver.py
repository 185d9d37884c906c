"""A webhook receiver for `bench.refreshes`: a bare ASGI app that responds 204 to every POST.

It reads each body and counts the requests with the `time.time()` of the first and the last,
which `GET /stats` returns as JSON and `DELETE /stats` resets. It checks no signature, because
the figure of interest is what the sender costs. Run it as one uvicorn worker:

    .venv/bin/python -m uvicorn bench.webhook_receiver:app --port 9000 --loop uvloop \
        --http httptools --no-access-log
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Stats:
    """Requests received since the last reset, with the times of the first and the last."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.body_bytes = 0
        self.first: float | None = None
        self.last: float | None = None

    def record(self, body_bytes: int) -> None:
        now = time.time()
        if self.first is None:
            self.first = now
        self.last = now
        self.count += 1
        self.body_bytes += body_bytes

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "count": self.count,
                "body_bytes": self.body_bytes,
                "first": self.first,
                "last": self.last,
            }
        ).encode()


stats = Stats()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body_bytes = 0
    more_body = True
    while more_body:
        message = await receive()
        body_bytes += len(message.get("body", b""))
        more_body = message.get("more_body", False)

    method, path = scope["method"], scope["path"]
    body = b""
    if path == "/stats" and method == "GET":
        status, body = 200, stats.as_json()
    elif path == "/stats" and method == "DELETE":
        stats.reset()
        status = 204
    elif method == "POST":
        stats.record(body_bytes)
        status = 204
    else:
        status = 405
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
