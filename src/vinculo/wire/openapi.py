"""Error responses for the OpenAPI document, declared once for every route."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from vinculo.links.schemas import TokenGenerationDataOut


class ErrorBody(msgspec.Struct, kw_only=True):
    """One error of Belvo's list envelope."""

    code: str
    message: str
    request_id: str
    field: str | msgspec.UnsetType = msgspec.UNSET


class TokenRequiredBody(msgspec.Struct, kw_only=True):
    """The 428 `token_required` error, with what the client needs to resume the login."""

    code: str
    message: str
    request_id: str
    session: str
    expiry: int
    link: str
    token_generation_data: TokenGenerationDataOut


def _errors(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=list[ErrorBody], description=description, generate_examples=False
    )


UNAUTHORIZED = {401: _errors("Invalid secret keys (`authentication_failed`).")}
NOT_FOUND = {404: _errors("No such object for this tenant (`not_found`).")}
BAD_REQUEST = {400: _errors("Invalid request, or the institution rejected the login.")}
TOKEN_REQUIRED = {
    428: ResponseSpec(
        data_container=list[TokenRequiredBody],
        description="The institution asks for an MFA token; resume with PATCH /api/links/.",
        generate_examples=False,
    )
}
UNEXPECTED = {500: _errors("Internal failure (`unexpected_error`).")}

READ_ERRORS = {**UNAUTHORIZED, **NOT_FOUND}
LOGIN_ERRORS = {**BAD_REQUEST, **UNAUTHORIZED, **TOKEN_REQUIRED, **UNEXPECTED}
