"""Render every error, ours or the framework's, as Belvo's JSON list envelope."""

from __future__ import annotations

import sqlite3
import typing
from typing import Any

import msgspec
import sqlalchemy.exc
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    SerializationException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from vinculo.db.protocol import DatabaseUnavailable
from vinculo.wire.errors import (
    BelvoError,
    ErrorItem,
    MethodNotAllowed,
    NotFound,
    ParseError,
    ServiceUnavailable,
    UnexpectedError,
    ValidationFailed,
)
from vinculo.wire.request_id import request_id_of
from vinculo.wire.validation import body_errors

logger = structlog.get_logger(__name__)


def error_response(request_id: str, status_code: int, items: list[ErrorItem]) -> Response[Any]:
    return Response(
        content=[item.to_wire(request_id) for item in items],
        status_code=status_code,
        media_type="application/json",
    )


def handle_belvo_error(request: Request[Any, Any, Any], exc: BelvoError) -> Response[Any]:
    return error_response(request_id_of(request.scope), exc.status_code, exc.items())


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Translate Litestar's validation failure of a body, path or query parameter."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    sources = {item.get("source") for item in extra if isinstance(item, dict)}
    if "body" in sources:
        struct_type = _body_type(request)
        raw = request._connection_state.body
        if struct_type is not None and isinstance(raw, bytes):
            return handle_belvo_error(request, ValidationFailed(body_errors(raw, struct_type)))
    if "path" in sources:
        return handle_belvo_error(request, NotFound())
    items = [
        ErrorItem("invalid", str(item.get("message", "Invalid value.")), item.get("key"))
        for item in extra
        if isinstance(item, dict)
    ] or [ErrorItem("invalid", exc.detail)]
    return error_response(request_id_of(request.scope), 400, items)


def _body_type(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return None
    annotation = parameter.annotation
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    error: BelvoError
    if isinstance(exc, NotFoundException):
        error = NotFound()
    elif isinstance(exc, MethodNotAllowedException):
        error = MethodNotAllowed(request.method)
    elif exc.status_code == 400 and _is_decode_failure(exc):
        error = ParseError(f"JSON parse error - {exc.detail}")
    else:
        error = BelvoError(exc.detail)
        error.status_code = exc.status_code
        error.code = "invalid" if exc.status_code < 500 else "unexpected_error"
    return handle_belvo_error(request, error)


def _is_decode_failure(exc: HTTPException) -> bool:
    """Return whether Litestar raised `exc` because the request body is not valid JSON."""
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, msgspec.DecodeError | SerializationException):
            return True
        cause = cause.__cause__
    return "JSON is malformed" in exc.detail


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log any uncaught exception and return a 500 `unexpected_error`, since it is a bug."""
    logger.exception("request.failed", path=request.url.path, method=request.method)
    return handle_belvo_error(request, UnexpectedError())


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """Reject a JSON body nested too deeply to decode (msgspec stops at about 1000 levels)."""
    return handle_belvo_error(request, ParseError("JSON parse error - nested too deeply"))


RETRY_AFTER_SECONDS = 5


def handle_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Return 503 with `Retry-After` when the database cannot take the request.

    A full disk, an unreadable file or a PostgreSQL server that is down or restarting is not
    a bug, so clients should retry later. A PostgreSQL outage logs a warning per request. A
    SQLite failure logs an error, because someone needs to look at the disk or the file.
    """
    log = logger.warning if isinstance(exc, DatabaseUnavailable) else logger.error
    log("database.unavailable", error=str(exc), path=request.url.path, method=request.method)
    response = handle_belvo_error(request, ServiceUnavailable())
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    RecursionError: handle_recursion,
    sqlite3.OperationalError: handle_database_unavailable,
    sqlalchemy.exc.OperationalError: handle_database_unavailable,
    DatabaseUnavailable: handle_database_unavailable,
    BelvoError: handle_belvo_error,
    ValidationException: handle_validation,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
