"""HTTP routes of `/api/links/`: resolve the caller and input, call one service function."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter

from vinculo.jobs.async_requests import accept_link_deletion, is_async
from vinculo.links import logins, registration, service
from vinculo.links.schemas import (
    Link,
    LinkModifyRequest,
    LinkRegisterRequest,
    LinkResumeRequest,
    LinkUpdateRequest,
    PaginatedResponseLink,
    RequestAccepted,
)
from vinculo.refreshes.service import request_refresh
from vinculo.wire.auth import context_of, principal_of
from vinculo.wire.openapi import (
    BAD_FILTER,
    BAD_REQUEST,
    LOGIN_ERRORS,
    NOT_FOUND,
    READ_ERRORS,
    REFRESH_ERRORS,
    UNAUTHORIZED,
    filter_parameters,
    list_operation,
)
from vinculo.wire.query import build_page, filter_docs, page_request, request_shape, shape_of
from vinculo.wire.request_id import request_id_of

LinkId = Annotated[
    str, PathParameter(description="The link's UUID; any other value returns 404 `not_found`.")
]


class LinksController(Controller):
    path = "/links"
    tags = ["Links"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get(
        "/",
        summary="List links",
        responses={**BAD_FILTER, **UNAUTHORIZED},
        operation_class=list_operation(filter_parameters(filter_docs(service.LINK_FILTERS))),
    )
    async def list_links(self, request: Request[Any, Any, Any]) -> PaginatedResponseLink:
        context = context_of(request)
        query = request.query_params
        page = page_request(query)
        shape = shape_of(query)
        async with context.database.unit_of_work() as uow:
            count, results = await service.list_links(uow, principal_of(request), query, page)
        shaped: list[Any] = [shape.apply(link) for link in results]
        return build_page(  # type: ignore[return-value]
            str(request.url),
            page,
            count,
            shaped,
            context.settings.public_url,
            page_type=PaginatedResponseLink,
        )

    @post("/", summary="Register a new link", status_code=201, responses=LOGIN_ERRORS)
    async def register(
        self, request: Request[Any, Any, Any], data: JSONBody[LinkRegisterRequest]
    ) -> Link:
        link = await registration.register(context_of(request), principal_of(request), data)
        return request_shape(request).apply(link)  # type: ignore[no-any-return]

    @patch(
        "/",
        summary="Resume a link registration after a 428 token_required",
        responses=LOGIN_ERRORS,
    )
    async def resume(
        self, request: Request[Any, Any, Any], data: JSONBody[LinkResumeRequest]
    ) -> Link:
        link = await logins.resume(context_of(request), principal_of(request), data)
        return request_shape(request).apply(link)  # type: ignore[no-any-return]

    @get("/{link_id:str}", summary="Get a link's details", responses=READ_ERRORS)
    async def get_link(self, request: Request[Any, Any, Any], link_id: LinkId) -> Link:
        async with context_of(request).database.unit_of_work() as uow:
            link = await service.get_link(uow, principal_of(request), link_id)
        return request_shape(request).apply(link)  # type: ignore[no-any-return]

    @put(
        "/{link_id:str}",
        summary="Update a link's credentials",
        responses={**LOGIN_ERRORS, **NOT_FOUND},
    )
    async def update(
        self, request: Request[Any, Any, Any], data: JSONBody[LinkUpdateRequest], link_id: LinkId
    ) -> Link:
        context = context_of(request)
        link = await logins.update_credentials(context, principal_of(request), link_id, data)
        return request_shape(request).apply(link)  # type: ignore[no-any-return]

    @patch(
        "/{link_id:str}",
        summary="Change a link's access mode or data retention",
        responses={**BAD_REQUEST, **READ_ERRORS},
    )
    async def modify(
        self, request: Request[Any, Any, Any], data: JSONBody[LinkModifyRequest], link_id: LinkId
    ) -> Link:
        context = context_of(request)
        async with context.database.unit_of_work() as uow:
            link = await service.modify_link(
                uow, principal_of(request), link_id, data, now=context.clock.now()
            )
        return request_shape(request).apply(link)  # type: ignore[no-any-return]

    @delete(
        "/{link_id:str}",
        summary="Delete a link and all its data",
        # 204 usually, and 202 with `X-Belvo-Request-Mode: async`.
        status_code=202,
        responses={204: ResponseSpec(data_container=None, description="Deleted.")} | READ_ERRORS,
    )
    async def delete_link(
        self, request: Request[Any, Any, Any], link_id: LinkId
    ) -> Response[RequestAccepted | None]:
        """Delete the link (204), or with `X-Belvo-Request-Mode: async` return 202 with a
        `request_id`. The link is then deleted in a job, which sends `LINK` `link_deleted`."""
        context, principal = context_of(request), principal_of(request)
        if is_async(request.headers):
            request_id = request_id_of(request.scope)
            await accept_link_deletion(context, principal, link_id, request_id=request_id)
            return Response(RequestAccepted(request_id=request_id), status_code=202)
        async with context.database.unit_of_work() as uow:
            await service.delete_link(uow, principal, link_id)
        return Response(None, status_code=204)

    @post(
        "/{link_id:str}/refresh",
        summary="Refresh a link's data in the background (historical update)",
        status_code=202,
        responses=REFRESH_ERRORS,
    )
    async def refresh(self, request: Request[Any, Any, Any], link_id: LinkId) -> RequestAccepted:
        """Return 202 at once. The refresh runs in a job, and its webhooks carry `request_id`."""
        request_id = request_id_of(request.scope)
        await request_refresh(
            context_of(request),
            principal_of(request).tenant_id,
            service.parse_link_id(link_id),
            request_id=request_id,
        )
        return RequestAccepted(request_id=request_id)
