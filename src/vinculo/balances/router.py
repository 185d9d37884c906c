"""HTTP routes of `/api/balances/`: resolve the caller and input, call one service function."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from vinculo.accounts.schemas import ResumeRequest
from vinculo.balances import service
from vinculo.balances.schemas import (
    Balance,
    BalancesRequest,
    PaginatedResponseBalance,
)
from vinculo.connectors.base import Resource
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

BalanceId = Annotated[
    str, PathParameter(description="The balance's UUID; any other value returns 404 `not_found`.")
]


class BalancesController(Controller):
    path = "/balances"
    tags = ["Balances"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/",
        summary="Retrieve a link's daily balances of a date range from its institution",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def retrieve(
        self, request: Request[Any, Any, Any], data: JSONBody[BalancesRequest]
    ) -> Response[list[Balance]]:
        return await retrieve_or_accept(request, Resource.BALANCES, data)

    @patch(
        "/",
        summary="Resume a balances retrieval after a 428 token_required",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def resume(
        self, request: Request[Any, Any, Any], data: JSONBody[ResumeRequest]
    ) -> Response[list[Balance]]:
        result = await retrieval.resume(
            context_of(request), principal_of(request), Resource.BALANCES, data
        )
        return retrieval_response(request, result)

    @get(
        "/",
        summary="List stored balances",
        responses={**BAD_FILTER, **UNAUTHORIZED},
        operation_class=list_operation(filter_parameters(filter_docs(service.BALANCE_FILTERS))),
    )
    async def list_balances(self, request: Request[Any, Any, Any]) -> PaginatedResponseBalance:
        page = page_request(request.query_params)
        async with context_of(request).database.unit_of_work() as uow:
            count, items = await service.list_balances(
                uow, principal_of(request), request.query_params, page
            )
        return list_page(request, page, count, items)  # type: ignore[return-value]

    @get("/{balance_id:str}", summary="Get a balance's details", responses=READ_ERRORS)
    async def get_balance(self, request: Request[Any, Any, Any], balance_id: BalanceId) -> Balance:
        async with context_of(request).database.unit_of_work() as uow:
            item = await service.get_balance(uow, principal_of(request), balance_id)
        return detail(request, item)  # type: ignore[no-any-return]

    @delete(
        "/{balance_id:str}",
        summary="Delete a stored daily balance",
        responses=READ_ERRORS,
    )
    async def delete_balance(self, request: Request[Any, Any, Any], balance_id: BalanceId) -> None:
        async with context_of(request).database.unit_of_work() as uow:
            await service.delete_balance(uow, principal_of(request), balance_id)
