"""HTTP Basic authentication with secret keys, as a guard on every `/api/` route."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

from vinculo.context import AppContext
from vinculo.sandbox_api.clock import refresh_shared_clock
from vinculo.tenants.service import Principal
from vinculo.wire.errors import AuthenticationFailed

PRINCIPAL_KEY = "vinculo.principal"
CONTEXT_KEY = "vinculo.context"


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """Return (secret id, password) from an `Authorization: Basic ...` header, if well formed."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    secret_id, separator, password = decoded.partition(":")
    if not separator:
        return None
    return secret_id, password


class ApiKeyMiddleware:
    """Reject a request with 401 `authentication_failed` unless its secret keys are valid.

    It runs after routing, on the `/api` routes only, so an unknown URL is a 404 whatever the
    keys. (A Litestar guard would do the same but copies the route handler on every call.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context: AppContext = scope["litestar_app"].state.context
        principal = await authenticate_request(context, scope)
        scope[PRINCIPAL_KEY] = principal  # type: ignore[literal-required]
        scope[CONTEXT_KEY] = context  # type: ignore[literal-required]
        await self.app(scope, receive, send)


async def authenticate_request(context: AppContext, scope: Scope) -> Principal:
    """Return the principal of the request's secret keys; raise `AuthenticationFailed`.

    In sandbox mode it first brings the process's clock up to date with the stored sandbox
    clock, because every authenticated request passes here, the fast path's included.
    """
    await refresh_shared_clock(context)
    header = _authorization_header(scope)
    if header is None:
        raise AuthenticationFailed()
    principal = context.authenticator.cached(header)
    if principal is None:
        credentials = parse_basic_auth(header.decode("latin-1"))
        if credentials is None:
            raise AuthenticationFailed()
        async with context.database.unit_of_work() as uow:
            principal = await context.authenticator.authenticate(uow, *credentials, header=header)
    if principal is None:
        raise AuthenticationFailed()
    return principal


def _authorization_header(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value)
    return None


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise AuthenticationFailed()
    return principal


def context_of(connection: ASGIConnection[Any, Any, Any, Any]) -> AppContext:
    context = connection.scope.get(CONTEXT_KEY)
    if isinstance(context, AppContext):
        return context
    app_context: AppContext = connection.app.state.context
    return app_context
