"""A webhook receiver on 127.0.0.1 for the tests: it records each request and responds with
the next status of a script (200 once the script is used up)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    # Header names in lowercase.
    headers: dict[str, str]
    body: bytes


class Receiver:
    """Records requests; `statuses` scripts the response codes, and a 302 points at `/moved`."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[ReceivedRequest] = []
        self._statuses: deque[int] = deque(statuses or [])
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                status = receiver._record(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                if status in (301, 302, 303, 307, 308):
                    self.send_header("location", "/moved")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            lowered = {name.lower(): value for name, value in headers.items()}
            self.requests.append(ReceivedRequest(method, path, lowered, body))
            return self._statuses.popleft() if self._statuses else 200

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
