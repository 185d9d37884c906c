"""`GET` and `PUT /api/links/{id}/` return the same bytes on the fast path as through Litestar.

Each case sends one raw ASGI request to two apps over the same database: the default app, which
serves these routes on `vinculo.wire.fast_path`, and one built with no fast routes. Each side
works on its own link, registered the same way by its own tenant at the same frozen instant,
so the two responses must be equal once the ids that differ by design are replaced: the request
id, the link id, its `institution_user_id`, its `created_by` and an MFA session id.
Each case also states which of the two the fast side is expected to use, so a fast path that
handed every request to Litestar would fail here.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import client_for, new_key
from tests.links.calls import MFA_BANK, UNKNOWN_LINK_ID, VALID_TOKEN, link_body
from vinculo.app import VinculoApp
from vinculo.clock import Clock
from vinculo.links import logins
from vinculo.links.fast_routes import LINK_ROUTES
from vinculo.wire.handlers import RETRY_AFTER_SECONDS

DOCUMENTED_BODY = (
    b'{"password": "password", "password2": "pin", "token": "1234ab", '
    b'"encryption_key": "customencryptionkey", "username_type": "001", '
    b'"certificate": "1234567890abcd=", "private_key": "1234567890abcd="}'
)
MAX_BODY_BYTES = 1024 * 1024
FAST = "fast path"
LITESTAR = "handed to Litestar"
# A placeholder for the Authorization header of the side's own tenant.
OWN_KEYS = object()
_SESSION = re.compile(rb'"session":"[a-f0-9]{32}"')


class FrozenClock(Clock):
    """A clock that does not move, so both sides stamp the same `created_at` and access time."""

    def now(self) -> datetime:
        return datetime(2026, 3, 2, 9, 30, tzinfo=UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return FrozenClock()


@dataclass
class Side:
    """One of the two apps, with the key of its own tenant and a client for set-up calls."""

    app: VinculoApp
    authorization: bytes
    http: httpx.AsyncClient


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class RecordingFallback:
    """Wraps the fast path's fallback to record whether a request was handed to Litestar."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
async def sides(app: VinculoApp) -> AsyncIterator[tuple[Side, Side]]:
    litestar_only = VinculoApp(app.litestar, app.context, fast_routes=())
    built = []
    for application, tenant in ((app, "tenant-fast"), (litestar_only, "tenant-litestar")):
        secret_id, password = await new_key(app, tenant)
        token = base64.b64encode(f"{secret_id}:{password}".encode())
        http = client_for(application, (secret_id, password))
        built.append(Side(application, b"Basic " + token, http))
    try:
        yield built[0], built[1]
    finally:
        for side in built:
            await side.http.aclose()


async def exchange(
    app: VinculoApp,
    method: str,
    path: str,
    *,
    authorization: bytes | None,
    body: bytes = b"",
    chunks: list[bytes] | None = None,
    query: bytes = b"",
    content_length: str | None = "",
    content_type: bytes = b"application/json",
    disconnect: bool = False,
    root_path: str = "",
) -> Answer:
    """Send one request straight to the ASGI app and collect what it sends back.

    `chunks` splits the body over several messages. `content_length` "" sends the body's
    length and None sends no header. `disconnect` ends the body with `http.disconnect`.
    """
    chunks = chunks if chunks is not None else [body]
    headers = [(b"host", b"testserver"), (b"content-type", content_type)]
    if authorization is not None:
        headers.append((b"authorization", authorization))
    if content_length is not None:
        length = content_length or str(sum(len(chunk) for chunk in chunks))
        headers.append((b"content-length", length.encode()))
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1 or disconnect}
        for index, chunk in enumerate(chunks)
    ]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": root_path,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    start, *bodies = sent
    return Answer(
        start["status"],
        list(start["headers"]),
        b"".join(message.get("body", b"") for message in bodies),
    )


def normalized(answer: Answer, link: dict[str, Any] | None) -> Answer:
    """Replace the ids that differ between the two sides by design with placeholders."""
    request_ids = [value for name, value in answer.headers if name == b"x-request-id"]
    assert len(request_ids) == 1, answer.headers
    assert re.fullmatch(rb"[a-f0-9]{32}", request_ids[0]), request_ids
    body = answer.body.replace(request_ids[0], b"<request-id>")
    if link is not None:
        for key in ("id", "institution_user_id", "created_by"):
            body = body.replace(str(link[key]).encode(), f"<{key}>".encode())
    body = _SESSION.sub(b'"session":"<session>"', body)
    headers = [(name, value) for name, value in answer.headers if name != b"x-request-id"]
    return Answer(answer.status, headers, body)


Setup = Callable[[httpx.AsyncClient], Awaitable[dict[str, Any]]]


async def _register(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/api/links/", json=body)
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


async def colombian_single(http: httpx.AsyncClient) -> dict[str, Any]:
    """The link of the benchmark: a single link on a bank whose form has `username_type`."""
    body = {
        "institution": "gringotts_co_retail",
        "username": "bench_put",
        "password": "pw",
        "username_type": "001",
        "access_mode": "single",
    }
    return await _register(http, body)


async def recurrent(http: httpx.AsyncClient) -> dict[str, Any]:
    return await _register(http, link_body("user_valid"))


async def sealed_with_key(http: httpx.AsyncClient) -> dict[str, Any]:
    body = link_body("user_valid", access_mode="single", encryption_key="client-key-1")
    return await _register(http, body)


async def mfa_bank(http: httpx.AsyncClient) -> dict[str, Any]:
    return await _register(http, link_body("mfa_default", institution=MFA_BANK, token=VALID_TOKEN))


async def compare(
    sides: tuple[Side, Side],
    setup: Setup,
    method: str,
    *,
    expected_status: int,
    served_by: str,
    path: str = "/api/links/{id}/",
    authorization: Any = OWN_KEYS,
    **request: Any,
) -> Answer:
    """Run one case on both sides and check that the responses are equal.

    `served_by` is where the fast side's request must end: the fast path or Litestar.
    """
    answers = []
    recorder = RecordingFallback(sides[0].app.fast_path.fallback)
    sides[0].app.fast_path.fallback = recorder
    for side in sides:
        link = await setup(side.http)
        header = side.authorization if authorization is OWN_KEYS else authorization
        answer = await exchange(
            side.app,
            method,
            path.format(id=link["id"], upper=link["id"].upper()),
            authorization=header,
            **request,
        )
        answers.append(normalized(answer, link))
    fast, through_litestar = answers
    assert fast.status == expected_status, fast.body
    assert fast == through_litestar
    assert recorder.calls == (1 if served_by == LITESTAR else 0), served_by
    return fast


PUT_BODIES = [
    pytest.param(colombian_single, DOCUMENTED_BODY, 200, FAST, id="documented body"),
    pytest.param(recurrent, b"{}", 200, FAST, id="empty object"),
    pytest.param(recurrent, b'{"colour": "blue"}', 200, FAST, id="unknown key"),
    pytest.param(recurrent, b'{"password": "", "password": "p"}', 200, FAST, id="repeated key"),
    pytest.param(recurrent, b'{"password": "pass_invalid"}', 400, FAST, id="login error"),
    pytest.param(colombian_single, b'{"username_type": "999"}', 400, FAST, id="bad choice"),
    pytest.param(recurrent, b'{"certificate": "abcd"}', 400, FAST, id="certificate alone"),
    pytest.param(recurrent, b'{"encryption_key": "k"}', 400, FAST, id="recurrent key"),
    pytest.param(sealed_with_key, b'{"password": "p"}', 400, FAST, id="missing key"),
    pytest.param(sealed_with_key, b'{"encryption_key": "wrong-key"}', 400, FAST, id="wrong key"),
    pytest.param(sealed_with_key, b'{"encryption_key": "client-key-1"}', 200, FAST, id="right key"),
    pytest.param(mfa_bank, b'{"password": "pass_valid"}', 428, FAST, id="mfa challenge"),
    pytest.param(recurrent, b"null", 400, LITESTAR, id="null body"),
    pytest.param(recurrent, b"[]", 400, LITESTAR, id="list body"),
    pytest.param(recurrent, b"{", 400, LITESTAR, id="truncated"),
    pytest.param(recurrent, b"  ", 400, LITESTAR, id="blank body"),
    pytest.param(recurrent, b'{"password": ""}', 400, LITESTAR, id="blank field"),
    pytest.param(recurrent, b'{"password": 5}', 400, LITESTAR, id="number field"),
    pytest.param(recurrent, b'{"password": null}', 400, LITESTAR, id="null field"),
    pytest.param(recurrent, b'{"x": 1e999}', 400, LITESTAR, id="number out of range"),
    pytest.param(recurrent, b'{"password": "\xe9"}', 400, LITESTAR, id="invalid utf-8"),
    pytest.param(recurrent, b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, LITESTAR, id="deep"),
]


@pytest.mark.parametrize(("setup", "body", "status", "served_by"), PUT_BODIES)
async def test_put_body_same(
    sides: tuple[Side, Side], setup: Setup, body: bytes, status: int, served_by: str
) -> None:
    await compare(sides, setup, "PUT", body=body, expected_status=status, served_by=served_by)


PUT_REQUESTS = [
    pytest.param({"query": b"fields=id,status"}, 200, FAST, id="fields"),
    pytest.param({"query": b"omit=id&omit=created_by"}, 200, FAST, id="omit repeated"),
    pytest.param({"query": b"fields=id&omit=id"}, 200, FAST, id="fields and omit"),
    pytest.param({"path": "/api/links/{id}"}, 200, FAST, id="no trailing slash"),
    pytest.param({"path": "//api//links//{id}//"}, 200, FAST, id="double slashes"),
    pytest.param({"path": "/api/links/{upper}/"}, 200, FAST, id="upper-case id"),
    pytest.param({"path": f"/api/links/{UNKNOWN_LINK_ID}/"}, 404, FAST, id="unknown id"),
    pytest.param({"path": "/api/links/not-a-uuid/"}, 404, FAST, id="not a uuid"),
    pytest.param({"authorization": None}, 401, FAST, id="no keys"),
    pytest.param({"authorization": b"Basic bm9wZTpub3Bl"}, 401, FAST, id="wrong keys"),
    pytest.param({"authorization": b"Basic !!!"}, 401, FAST, id="malformed keys"),
    pytest.param({"authorization": b"Bearer abc"}, 401, FAST, id="bearer"),
    pytest.param({"authorization": None, "body": b"{"}, 401, FAST, id="keys before body"),
    pytest.param({"content_type": b"text/plain"}, 200, FAST, id="text content type"),
    pytest.param({"chunks": [b'{"password"', b': "p"', b"}"]}, 200, FAST, id="three chunks"),
    pytest.param({"content_length": None}, 200, LITESTAR, id="no content-length"),
    pytest.param({"content_length": "abc"}, 400, LITESTAR, id="invalid content-length"),
    pytest.param(
        {"content_length": str(MAX_BODY_BYTES + 1)}, 413, LITESTAR, id="announced too large"
    ),
    pytest.param(
        {"chunks": [b" " * MAX_BODY_BYTES, b'{"password": "p"}'], "content_length": None},
        413,
        LITESTAR,
        id="streamed too large",
    ),
    pytest.param({"chunks": [b'{"password"'], "disconnect": True}, 500, LITESTAR, id="disconnect"),
]


@pytest.mark.parametrize(("request_args", "status", "served_by"), PUT_REQUESTS)
async def test_put_request_same(
    sides: tuple[Side, Side], request_args: dict[str, Any], status: int, served_by: str
) -> None:
    request = {"body": b'{"password": "p"}', **request_args}
    await compare(sides, recurrent, "PUT", expected_status=status, served_by=served_by, **request)


async def test_put_unexpected_error_same(
    sides: tuple[Side, Side], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(logins, "update_credentials", fail)

    answer = await compare(sides, recurrent, "PUT", body=b"{}", expected_status=500, served_by=FAST)

    assert b'"code":"unexpected_error"' in answer.body


async def test_put_database_unavailable_same(
    sides: tuple[Side, Side], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*args: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(logins, "update_credentials", fail)

    answer = await compare(sides, recurrent, "PUT", body=b"{}", expected_status=503, served_by=FAST)

    assert (b"retry-after", str(RETRY_AFTER_SECONDS).encode()) in answer.headers


GET_REQUESTS = [
    pytest.param("GET", {}, 200, id="get"),
    pytest.param("GET", {"query": b"fields=id,status"}, 200, id="fields"),
    pytest.param("GET", {"query": b"omit=institution"}, 200, id="omit"),
    pytest.param("GET", {"path": "/api/links/{id}"}, 200, id="no trailing slash"),
    pytest.param("GET", {"path": "//api/links/{id}//"}, 200, id="double slashes"),
    pytest.param("GET", {"path": f"/api/links/{UNKNOWN_LINK_ID}/"}, 404, id="unknown id"),
    pytest.param("GET", {"path": "/api/links/not-a-uuid/"}, 404, id="not a uuid"),
    pytest.param("GET", {"authorization": None}, 401, id="no keys"),
    pytest.param("GET", {"body": b"ignored"}, 200, id="body ignored"),
    pytest.param("HEAD", {}, 200, id="head"),
    pytest.param("HEAD", {"path": f"/api/links/{UNKNOWN_LINK_ID}/"}, 404, id="head unknown"),
]


@pytest.mark.parametrize(("method", "request_args", "status"), GET_REQUESTS)
async def test_get_same(
    sides: tuple[Side, Side], method: str, request_args: dict[str, Any], status: int
) -> None:
    answer = await compare(
        sides, recurrent, method, expected_status=status, served_by=FAST, **request_args
    )

    if method == "HEAD":
        assert answer.body == b""


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "OPTIONS", "TRACE"])
async def test_other_methods_go_to_litestar(sides: tuple[Side, Side], method: str) -> None:
    fast_side = sides[0]
    link = await recurrent(fast_side.http)
    scope = {"type": "http", "method": method, "path": f"/api/links/{link['id']}/"}

    assert fast_side.app.fast_path.match(scope) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path", ["/api/links/", "/api/links", "/api/links/a/b/", "/api/institutions/x/", "/api/"]
)
def test_other_paths_go_to_litestar(app: VinculoApp, path: str) -> None:
    scope = {"type": "http", "method": "GET", "path": path}

    assert app.fast_path.match(scope) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "root_path", "status"),
    [("TRACE", "", 405), ("PUT", "/prefix", 200), ("GET", "/prefix", 200)],
)
async def test_unmatched_requests_unchanged(
    sides: tuple[Side, Side], method: str, root_path: str, status: int
) -> None:
    answers = []
    for side in sides:
        link = await recurrent(side.http)
        path = f"{root_path}/api/links/{link['id']}/"
        scope = {"type": "http", "method": method, "path": path, "root_path": root_path}
        assert side.app.fast_path.match(scope) is None  # type: ignore[arg-type]
        answer = await exchange(
            side.app,
            method,
            path,
            authorization=side.authorization,
            body=b"{}",
            root_path=root_path,
        )
        answers.append(normalized(answer, link))

    assert answers[0].status == status
    assert answers[0] == answers[1]


async def test_openapi_keeps_fast_operations(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/docs/openapi.json")

    assert response.status_code == 200
    operations = response.json()["paths"]["/api/links/{link_id}"]
    for route in LINK_ROUTES:
        assert route.method.lower() in operations, route.method
    assert operations["put"]["requestBody"]["content"]["application/json"]["schema"]
