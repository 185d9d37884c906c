"""Belvo's errors as exception classes; `wire.handlers` renders them as the list envelope.

Each class carries Belvo's `code`, its documented English message and the HTTP status. Raising
one anywhere below a router produces the same JSON body Belvo sends:
`[{"code": ..., "message": ..., "request_id": ..., "field": ...}]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One element of the error list, before the request id is added."""

    code: str
    message: str
    field: str | None = None
    extra: dict[str, Any] | None = None

    def to_wire(self, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body["request_id"] = request_id
        if self.extra:
            body.update(self.extra)
        return body


class BelvoError(Exception):
    """An error returned in Belvo's envelope; subclasses set the status and code."""

    status_code: int = 400
    code: str = "validation_error"
    default_message: str = "Bad request"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, **extra: Any
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        self.extra = extra
        super().__init__(self.message)

    def items(self) -> list[ErrorItem]:
        return [ErrorItem(self.code, self.message, self.field, self.extra)]


class ValidationFailed(BelvoError):
    """Several field errors returned together, as Django REST Framework does."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one error")
        self.errors = errors
        super().__init__(errors[0].message, field=errors[0].field)

    def items(self) -> list[ErrorItem]:
        return list(self.errors)


class ValidationError(BelvoError):
    code = "validation_error"
    default_message = "Bad request"


class FieldRequired(BelvoError):
    code = "required"
    default_message = "This field is required."


class DoesNotExist(BelvoError):
    code = "does_not_exist"
    default_message = "Object does not exist."


class InvalidValue(BelvoError):
    code = "invalid"
    default_message = "Invalid value."


class InvalidChoice(BelvoError):
    code = "invalid_choice"
    default_message = "Not a valid choice."


class ParseError(BelvoError):
    code = "parse_error"
    default_message = "JSON parse error"


class InvalidCredentialsStorage(BelvoError):
    code = "invalid_credentials_storage"
    default_message = "Recurrent links must store the credentials"


class InvalidFetchResources(BelvoError):
    code = "invalid_fetch_resources"
    default_message = "Single links without stored credentials must fetch resources"


class InvalidAccessModeSwitch(BelvoError):
    code = "invalid_access_mode_switch"
    default_message = (
        "This link doesn't have stored credentials hence it can't be switched to recurrent mode"
    )


class Duplicated(BelvoError):
    code = "duplicated"
    default_message = "Link already exists"


class LoginError(BelvoError):
    code = "login_error"
    default_message = "Invalid credentials provided to login to the institution"


class TooManySessions(BelvoError):
    code = "too_many_sessions"
    default_message = (
        "Impossible to login, a session is already opened with the institution for these "
        "credentials"
    )


class SessionExpired(BelvoError):
    code = "session_expired"
    default_message = (
        "The session you are trying to resume has expired, please start again from "
        "register/retrieve endpoint"
    )


class InstitutionDown(BelvoError):
    code = "institution_down"
    default_message = "The financial institution is down, try again later"


class InstitutionUnavailable(BelvoError):
    code = "institution_unavailable"
    default_message = "The financial institution is unavailable"


class InstitutionInactive(BelvoError):
    code = "institution_inactive"
    default_message = "The institution has been temporarily deactivated"


class UnsupportedOperation(BelvoError):
    code = "unsupported_operation"
    default_message = "The resource you are trying to access is not supported by this institution"


class InvalidLink(BelvoError):
    code = "invalid_link"
    default_message = "The link has been invalidated. You may need to update link credentials"


class UnconfirmedLink(BelvoError):
    code = "unconfirmed_link"
    default_message = "The link creation has not been completed yet"


class AuthenticationFailed(BelvoError):
    status_code = 401
    code = "authentication_failed"
    default_message = "Invalid Secret Keys"


class NotFound(BelvoError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class ExpiredCredentials(BelvoError):
    status_code = 404
    code = "expired_credentials"
    default_message = "The credentials of this link have expired"


class MethodNotAllowed(BelvoError):
    status_code = 405
    code = "method_not_allowed"

    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')


class LinkRefreshed(BelvoError):
    """A refresh was requested inside the cooldown of the previous one."""

    status_code = 409
    code = "link_refreshed"

    def __init__(self, *, minutes_left: int) -> None:
        unit = "minute" if minutes_left == 1 else "minutes"
        super().__init__(
            "The link has already been refreshed. "
            f"Please wait {minutes_left} {unit} before trying again."
        )


class RequestTimeout(BelvoError):
    status_code = 408
    code = "request_timeout"
    default_message = (
        "The request timed out, you can retry asking for less data by changing your query "
        "parameters"
    )


class TokenRequired(BelvoError):
    """The institution requests an MFA token; the extra keys let the client resume."""

    status_code = 428
    code = "token_required"
    default_message = "A MFA token is required by the institution to login"


class UnexpectedError(BelvoError):
    status_code = 500
    code = "unexpected_error"
    default_message = (
        "Belvo is unable to process the request due to an internal system issue or to an "
        "unsupported response from an institution"
    )


class ServiceUnavailable(BelvoError):
    status_code = 503
    code = "service_unavailable"
    default_message = "The service is temporarily unavailable, try again later"


_CONNECTOR_ERRORS: dict[str, type[BelvoError]] = {
    cls.code: cls
    for cls in (
        LoginError,
        TooManySessions,
        InstitutionDown,
        InstitutionUnavailable,
        InstitutionInactive,
        RequestTimeout,
        UnexpectedError,
        UnsupportedOperation,
    )
}


def error_for_code(code: str, message: str, status: int) -> BelvoError:
    """Build the error a connector reported by code; an unknown code keeps its own status."""
    cls = _CONNECTOR_ERRORS.get(code)
    if cls is not None:
        return cls(message)
    error = BelvoError(message)
    error.code = code
    error.status_code = status
    return error
