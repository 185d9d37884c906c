"""HTTP routes of `/api/institutions/`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath

from vinculo.institutions import service
from vinculo.institutions.schemas import Institution, PaginatedResponseInstitution
from vinculo.wire.auth import context_of, principal_of
from vinculo.wire.openapi import (
    BAD_FILTER,
    READ_ERRORS,
    UNAUTHORIZED,
    filter_parameters,
    list_operation,
)
from vinculo.wire.query import build_page, page_request, request_shape, shape_of


class InstitutionsController(Controller):
    path = "/institutions"
    tags = ["Institutions"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List institutions",
        responses={**BAD_FILTER, **UNAUTHORIZED},
        operation_class=list_operation(filter_parameters(service.FILTER_DOCS)),
    )
    async def list_institutions(
        self, request: Request[Any, Any, Any]
    ) -> PaginatedResponseInstitution:
        query = request.query_params
        page = page_request(query)
        shape = shape_of(query)
        context = context_of(request)
        statuses = await service.stored_statuses(context, principal_of(request).tenant_id)
        matching = service.filter_institutions(query, statuses)
        results: list[Any] = [
            shape.apply(item) for item in matching[page.offset : page.offset + page.size]
        ]
        public_url = context.settings.public_url
        return build_page(  # type: ignore[return-value]
            str(request.url),
            page,
            len(matching),
            results,
            public_url,
            page_type=PaginatedResponseInstitution,
        )

    @get(
        "/{institution_id:str}",
        summary="Get an institution's details",
        responses=READ_ERRORS,
    )
    async def get_institution(
        self, request: Request[Any, Any, Any], institution_id: FromPath[str]
    ) -> Institution:
        institution = service.get_institution(institution_id)
        context = context_of(request)
        statuses = await service.stored_statuses(context, principal_of(request).tenant_id)
        institution = service.with_status(institution, statuses)
        return request_shape(request).apply(institution)  # type: ignore[no-any-return]
