"""HTTP routes of `/api/owners/`: resolve the caller and input, call one service function."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from vinculo.accounts.schemas import ResumeRequest
from vinculo.connectors.base import Resource
from vinculo.owners import service
from vinculo.owners.schemas import (
    Owner,
    OwnersRequest,
    PaginatedResponseOwner,
)
from vinculo.retrieval import service as retrieval
from vinculo.retrieval.responses import (
    detail,
    list_page,
    retrieval_response,
    retrieve_or_accept,
)
from vinculo.wire.auth import context_of, principal_of
from vinculo.wire.openapi import (
    BAD_FILTER,
    READ_ERRORS,
    RETRIEVAL_ERRORS,
    UNAUTHORIZED,
    filter_parameters,
    list_operation,
)
from vinculo.wire.query import filter_docs, page_request

OwnerId = Annotated[
    str, PathParameter(description="The owner's UUID; any other value returns 404 `not_found`.")
]


class OwnersController(Controller):
    path = "/owners"
    tags = ["Owners"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/",
        summary="Retrieve a link's owners from its institution",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def retrieve(
        self, request: Request[Any, Any, Any], data: JSONBody[OwnersRequest]
    ) -> Response[list[Owner]]:
        return await retrieve_or_accept(request, Resource.OWNERS, data)

    @patch(
        "/",
        summary="Resume a owners retrieval after a 428 token_required",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def resume(
        self, request: Request[Any, Any, Any], data: JSONBody[ResumeRequest]
    ) -> Response[list[Owner]]:
        result = await retrieval.resume(
            context_of(request), principal_of(request), Resource.OWNERS, data
        )
        return retrieval_response(request, result)

    @get(
        "/",
        summary="List stored owners",
        responses={**BAD_FILTER, **UNAUTHORIZED},
        operation_class=list_operation(filter_parameters(filter_docs(service.OWNER_FILTERS))),
    )
    async def list_owners(self, request: Request[Any, Any, Any]) -> PaginatedResponseOwner:
        page = page_request(request.query_params)
        async with context_of(request).database.unit_of_work() as uow:
            count, items = await service.list_owners(
                uow, principal_of(request), request.query_params, page
            )
        return list_page(request, page, count, items)  # type: ignore[return-value]

    @get("/{owner_id:str}", summary="Get a owner's details", responses=READ_ERRORS)
    async def get_owner(self, request: Request[Any, Any, Any], owner_id: OwnerId) -> Owner:
        async with context_of(request).database.unit_of_work() as uow:
            item = await service.get_owner(uow, principal_of(request), owner_id)
        return detail(request, item)  # type: ignore[no-any-return]

    @delete(
        "/{owner_id:str}",
        summary="Delete a stored owner",
        responses=READ_ERRORS,
    )
    async def delete_owner(self, request: Request[Any, Any, Any], owner_id: OwnerId) -> None:
        async with context_of(request).database.unit_of_work() as uow:
            await service.delete_owner(uow, principal_of(request), owner_id)
