"""A lean ASGI path for the busiest routes, run before Litestar, that returns Litestar's bytes.

Litestar's request and response handling (routing, keyword-argument resolution, signature
models, the `Response` object) took about 28 of the 45 µs of a link GET and 53 of the 178 µs
of a credential update, measured in-process (docs/benchmarks.md). A `FastRoute` serves one
method of one declared Litestar route with the parts that route uses: the secret-key check of
`wire.auth`, the same service function, `fields`/`omit` shaping and the exception handlers of
`wire.handlers`. Its success and error responses are therefore the same bytes.

A request that the fast path cannot serve exactly as Litestar would goes to Litestar before any
side effect, with the body already read replayed. That covers a body that does not decode or
validate (Litestar and `wire.validation` then word every field error), a missing, invalid or
oversized `Content-Length`, a client that disconnects, and any `root_path`. The Litestar route
stays declared, so it also remains the source of the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.middleware._internal.exceptions.middleware import get_exception_handler
from litestar.routes import HTTPRoute
from litestar.types import (
    ASGIApp,
    HTTPScope,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
    TypeEncodersMap,
)

from vinculo.context import AppContext
from vinculo.tenants.service import Principal
from vinculo.wire.auth import ApiKeyMiddleware, authenticate_request
from vinculo.wire.handlers import EXCEPTION_HANDLERS
from vinculo.wire.query import request_shape

StructT = Any
_JSON_HEADERS = (b"content-type", b"application/json")


class HandToLitestar(Exception):
    """Raised by an endpoint, before any side effect, to let Litestar handle the request."""


class FastRequest:
    """The input of a fast endpoint: the caller, the path's one parameter and the body."""

    __slots__ = ("_max_body_bytes", "_read", "_receive", "context", "path_id", "principal", "scope")

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        context: AppContext,
        principal: Principal,
        path_id: str,
        max_body_bytes: int,
    ) -> None:
        self.scope = scope
        self.context = context
        self.principal = principal
        self.path_id = path_id
        self._receive = receive
        self._max_body_bytes = max_body_bytes
        # Messages taken from `receive`, which Litestar gets again if the request is handed over.
        self._read: list[ReceiveMessage] = []

    async def json_body(self, struct_type: type[StructT]) -> StructT:
        """Decode the JSON body as `struct_type`, or hand the request to Litestar.

        The two steps are Litestar's own, so they accept exactly the bodies it accepts. A typed
        `msgspec.json.decode` would be faster but skips unknown keys unchecked, and so accepts
        `{"x": 1e999}`, which Litestar rejects. Litestar renders the error of a rejected body.
        """
        body = await self._read_body()
        try:
            payload = msgspec.json.decode(body)
            return msgspec.convert(payload, struct_type, strict=False, str_keys=True)
        except (msgspec.MsgspecError, RecursionError):
            raise HandToLitestar() from None

    async def _read_body(self) -> bytes:
        announced = _content_length(self.scope)
        # Litestar returns 413 for a body over its limit and 400 for a bad header, and treats
        # an empty body as a missing one.
        if announced is None or announced == 0 or announced > self._max_body_bytes:
            raise HandToLitestar()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            self._read.append(message)
            if message["type"] != "http.request":
                raise HandToLitestar()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body_bytes:
                raise HandToLitestar()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def replaying_receive(self) -> Receive:
        """Return a `receive` that yields the messages already read, then reads on."""
        pending = list(self._read)
        receive = self._receive

        async def replay() -> ReceiveMessage:
            if pending:
                return pending.pop(0)
            return await receive()

        return cast("Receive", replay)


Endpoint = Callable[[FastRequest], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class FastRoute:
    """One method of a Litestar route with one path parameter, such as `/api/links/{id}`.

    `prefix` is the path before the parameter. `litestar_path` is the route's declared path,
    which must exist with `method`, because the OpenAPI document and the fallback use it.
    """

    method: str
    prefix: str
    litestar_path: str
    endpoint: Endpoint


@dataclass(frozen=True, slots=True)
class _DeclaredRoute:
    """A `FastRoute` with the settings its Litestar handler resolves to."""

    route: FastRoute
    max_body_bytes: int
    type_encoders: TypeEncodersMap


class FastPath:
    """Matches requests against `FastRoute`s and serves them without Litestar."""

    def __init__(
        self, litestar: Litestar, context: AppContext, routes: Sequence[FastRoute]
    ) -> None:
        self._litestar = litestar
        # Where requests go that the fast path hands over: Litestar itself.
        self.fallback: ASGIApp = litestar
        self._context = context
        self._routes: dict[tuple[str, str], _DeclaredRoute] = {}
        for route in routes:
            handler = _declared_handler(litestar, route)
            limit = handler.resolve_request_max_body_size()
            if limit is None:
                raise ValueError(f"{route.litestar_path} needs a request_max_body_size")
            declared = _DeclaredRoute(route, limit, handler.resolve_type_encoders())
            self._routes[(route.method, route.prefix)] = declared
        self._prefixes = frozenset(route.prefix for route in routes)

    def match(self, scope: Scope) -> ASGIApp | None:
        """Return the ASGI app that serves `scope` on a fast route, or None for Litestar."""
        if not self._routes or scope.get("root_path"):
            return None
        scope = cast("HTTPScope", scope)
        path = scope["path"]
        # A trailing slash is optional, as on every Litestar route; `//` is already collapsed.
        if path.endswith("/"):
            path = path[:-1]
        prefix, _, path_id = path.rpartition("/")
        if not path_id or prefix + "/" not in self._prefixes:
            return None
        declared = self._routes.get((scope["method"], prefix + "/"))
        if declared is None:
            return None

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            await self._serve(declared, path_id, scope, receive, send)

        return serve

    async def _serve(
        self, declared: _DeclaredRoute, path_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request: FastRequest | None = None
        try:
            principal = await authenticate_request(self._context, scope)
            request = FastRequest(
                scope, receive, self._context, principal, path_id, declared.max_body_bytes
            )
            content = await declared.route.endpoint(request)
            if scope.get("query_string"):
                content = request_shape(Request(scope)).apply(content)
        except HandToLitestar:
            assert request is not None
            await self.fallback(scope, request.replaying_receive(), send)
            return
        except Exception as exc:
            await self._send_error(declared, scope, receive, send, exc)
            return
        body = msgspec.json.encode(content)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _send_error(
        self, declared: _DeclaredRoute, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        """Respond with the handler Litestar would pick for `exc`, rendered as Litestar does."""
        scope["litestar_app"] = self._litestar
        handler = get_exception_handler(EXCEPTION_HANDLERS, exc)
        assert handler is not None, "EXCEPTION_HANDLERS maps Exception itself"
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        response = handler(request, exc)
        asgi_response = response.to_asgi_response(
            app=None, request=request, type_encoders=declared.type_encoders
        )
        await asgi_response(scope, receive, send)


def _declared_handler(litestar: Litestar, route: FastRoute) -> HTTPRouteHandler:
    """Find the Litestar handler `route` serves, checking it runs only what the fast path runs."""
    for other in litestar.routes:
        remainder = other.path_format.removeprefix(route.prefix)
        if remainder != other.path_format and "/" not in remainder and "{" not in remainder:
            # Litestar would route `{prefix}{remainder}` to this static path, not to the parameter.
            raise ValueError(f"{other.path_format} overlaps the fast route {route.litestar_path}")
    for candidate in litestar.routes:
        if not isinstance(candidate, HTTPRoute) or candidate.path_format != route.litestar_path:
            continue
        for handler in candidate.route_handlers:
            if route.method in handler.http_methods:
                _check_same_pipeline(litestar, handler, route)
                return handler
    raise ValueError(f"no Litestar route declares {route.method} {route.litestar_path}")


def _check_same_pipeline(litestar: Litestar, handler: HTTPRouteHandler, route: FastRoute) -> None:
    """Fail at start-up when the Litestar route gains a step that the fast path would skip."""
    layers = handler.ownership_layers
    extra_steps: dict[str, list[Any]] = {
        "middleware": [m for m in handler.resolve_middleware() if m is not ApiKeyMiddleware],
        "guards": list(handler.resolve_guards()),
        "dependencies": list(handler.resolve_dependencies()),
        "before_request": [layer.before_request for layer in layers if layer.before_request],
        "after_request": [layer.after_request for layer in layers if layer.after_request],
        "after_response": [layer.after_response for layer in layers if layer.after_response],
        "response_headers": list(handler.resolve_response_headers()),
        "response_cookies": list(handler.resolve_response_cookies()),
        "before_send": list(litestar.before_send),
        "after_exception": list(litestar.after_exception),
        "exception_handlers": [
            key
            for key, value in handler.resolve_exception_handlers().items()
            if EXCEPTION_HANDLERS.get(key) is not value
        ],
    }
    found = sorted(name for name, steps in extra_steps.items() if steps)
    if found:
        raise ValueError(
            f"{route.method} {route.litestar_path} runs {', '.join(found)} in Litestar, which "
            "vinculo.wire.fast_path skips: add them to the fast path or drop the fast route"
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
