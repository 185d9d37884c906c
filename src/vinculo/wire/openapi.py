"""Error responses for the OpenAPI document, declared once for every route."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import msgspec
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Operation, Parameter, Schema

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
BAD_FILTER = {400: _errors("A filter value does not parse (`invalid`, naming the parameter).")}
TOKEN_REQUIRED = {
    428: ResponseSpec(
        data_container=list[TokenRequiredBody],
        description="The institution asks for an MFA token; resume with PATCH /api/links/.",
        generate_examples=False,
    )
}
UNEXPECTED = {500: _errors("Internal failure (`unexpected_error`).")}
RETRIEVAL_ERRORS = {
    **BAD_REQUEST,
    **UNAUTHORIZED,
    404: _errors("The link's credentials are no longer stored (`expired_credentials`)."),
    408: _errors("The institution took too long; ask for less data (`request_timeout`)."),
    428: ResponseSpec(
        data_container=list[TokenRequiredBody],
        description="The institution asks for an MFA token; resume with PATCH on this path.",
        generate_examples=False,
    ),
    **UNEXPECTED,
}

READ_ERRORS = {**UNAUTHORIZED, **NOT_FOUND}
REFRESH_ERRORS = {
    **BAD_REQUEST,
    **UNAUTHORIZED,
    404: _errors("No such link (`not_found`), or its credentials expired (`expired_credentials`)."),
    409: _errors("A refresh was accepted less than the cooldown ago (`link_refreshed`)."),
}
LOGIN_ERRORS = {**BAD_REQUEST, **UNAUTHORIZED, **TOKEN_REQUIRED, **UNEXPECTED}


_LOOKUP_HELP = {
    "exact": "Results whose `{name}` equals this value.",
    "in": "Results whose `{name}` is one of these values (comma-separated or repeated).",
    "not_in": "Results whose `{name}` is none of these values (comma-separated or repeated).",
    "gt": "Results whose `{name}` is greater than this value.",
    "gte": "Results whose `{name}` is greater than or equal to this value.",
    "lt": "Results whose `{name}` is less than this value.",
    "lte": "Results whose `{name}` is less than or equal to this value.",
    "range": "Results whose `{name}` is between two comma-separated values, inclusive.",
    "icontains": "Results whose `{name}` contains this text, ignoring case.",
    "partial": "Results whose `{name}` contains this text, ignoring case.",
    "allin": "Results whose `{name}` include all of these values (comma-separated).",
}
_KIND_SCHEMA = {
    "str": Schema(type=OpenAPIType.STRING),
    "uuid": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
    "datetime": Schema(
        type=OpenAPIType.STRING, description="A date (a whole UTC day) or an ISO-8601 date-time."
    ),
    "int": Schema(type=OpenAPIType.INTEGER),
    "number": Schema(type=OpenAPIType.NUMBER),
    "date": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
}
_LIST_PARAMETERS = [
    Parameter(
        name="page", param_in=ParamType.QUERY, required=False,
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1), description="Page number, from 1.",
    ),
    Parameter(
        name="page_size", param_in=ParamType.QUERY, required=False,
        schema=Schema(type=OpenAPIType.INTEGER, default=100),
        description="Results per page; values outside 1..1000 are clamped.",
    ),
    Parameter(
        name="fields", param_in=ParamType.QUERY, required=False,
        schema=Schema(type=OpenAPIType.STRING),
        description="Comma-separated top-level keys to keep in each result.",
    ),
    Parameter(
        name="omit", param_in=ParamType.QUERY, required=False,
        schema=Schema(type=OpenAPIType.STRING),
        description="Comma-separated top-level keys to drop from each result.",
    ),
]  # fmt: skip


def filter_parameters(
    filters: Mapping[str, tuple[str, Iterable[str], Sequence[str]]],
    *,
    required: Iterable[str] = (),
) -> list[Parameter]:
    """Describe list filters as OpenAPI query parameters, one per field and lookup.

    `filters` maps a field name to its value kind, its lookups and, for a choice, its choices.
    The query parameters named in `required` are marked as required.
    """
    required_names = frozenset(required)
    parameters = list(_LIST_PARAMETERS)
    for name, (kind, lookups, choices) in filters.items():
        for lookup in sorted(lookups, key=lambda item: (item != "exact", item)):
            # A "partial" filter is a substring match under the field's own name.
            key = name if lookup in ("exact", "partial") else f"{name}__{lookup}"
            schema = (
                Schema(type=OpenAPIType.STRING, enum=list(choices))
                if kind == "choice" and lookup == "exact"
                else _KIND_SCHEMA.get(kind, Schema(type=OpenAPIType.STRING))
            )
            parameters.append(
                Parameter(
                    name=key,
                    param_in=ParamType.QUERY,
                    required=key in required_names,
                    schema=schema,
                    description=_LOOKUP_HELP[lookup].format(name=name),
                )
            )
    return parameters


def list_operation(parameters: list[Parameter]) -> type[Operation]:
    """Return an `Operation` class that adds `parameters` to a list route's document.

    The handlers read the query string themselves (Django-style lookups do not map onto typed
    handler arguments), so the parameters are declared here, from the same filter tables.
    """

    @dataclass
    class ListOperation(Operation):
        def __post_init__(self) -> None:
            known = {getattr(item, "name", None) for item in self.parameters or []}
            extra = [item for item in parameters if item.name not in known]
            self.parameters = [*(self.parameters or []), *extra]

    return ListOperation
