"""HTTP Basic authentication with secret keys, as a guard on every `/api/` route."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from vinculo.context import AppContext
from vinculo.tenants.service import Principal
from vinculo.wire.errors import AuthenticationFailed

PRINCIPAL_KEY = "vinculo.principal"


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


async def require_api_key(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Reject the request with 401 `authentication_failed` unless its secret keys are valid."""
    credentials = parse_basic_auth(connection.headers.get("authorization"))
    if credentials is None:
        raise AuthenticationFailed()
    context: AppContext = connection.app.state.context
    async with context.database.unit_of_work() as uow:
        principal = await context.authenticator.authenticate(uow, *credentials)
    if principal is None:
        raise AuthenticationFailed()
    connection.scope[PRINCIPAL_KEY] = principal  # type: ignore[literal-required]


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise AuthenticationFailed()
    return principal


def context_of(connection: ASGIConnection[Any, Any, Any, Any]) -> AppContext:
    context: AppContext = connection.app.state.context
    return context
