"""HTTP routes of `/api/transactions/`: resolve the caller and input, call one service function."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from vinculo.accounts.schemas import ResumeRequest
from vinculo.connectors.base import Resource
from vinculo.retrieval import service as retrieval
from vinculo.retrieval.responses import (
    detail,
    list_page,
    retrieval_response,
    retrieve_or_accept,
)
from vinculo.transactions import service
from vinculo.transactions.schemas import (
    PaginatedResponseTransaction,
    Transaction,
    TransactionsRequest,
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

TransactionId = Annotated[
    str,
    PathParameter(description="The transaction's UUID; any other value returns 404 `not_found`."),
]


class TransactionsController(Controller):
    path = "/transactions"
    tags = ["Transactions"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/",
        summary="Retrieve a link's transactions of a date range from its institution",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def retrieve(
        self, request: Request[Any, Any, Any], data: JSONBody[TransactionsRequest]
    ) -> Response[list[Transaction]]:
        return await retrieve_or_accept(request, Resource.TRANSACTIONS, data)

    @patch(
        "/",
        summary="Resume a transactions retrieval after a 428 token_required",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def resume(
        self, request: Request[Any, Any, Any], data: JSONBody[ResumeRequest]
    ) -> Response[list[Transaction]]:
        result = await retrieval.resume(
            context_of(request), principal_of(request), Resource.TRANSACTIONS, data
        )
        return retrieval_response(request, result)

    @get(
        "/",
        summary="List stored transactions",
        responses={**BAD_FILTER, **UNAUTHORIZED},
        operation_class=list_operation(
            # Belvo requires the `link` filter on this list.
            filter_parameters(filter_docs(service.TRANSACTION_FILTERS), required=["link"])
        ),
    )
    async def list_transactions(
        self, request: Request[Any, Any, Any]
    ) -> PaginatedResponseTransaction:
        page = page_request(request.query_params)
        async with context_of(request).database.unit_of_work() as uow:
            count, items = await service.list_transactions(
                uow, principal_of(request), request.query_params, page
            )
        return list_page(request, page, count, items)  # type: ignore[return-value]

    @get("/{transaction_id:str}", summary="Get a transaction's details", responses=READ_ERRORS)
    async def get_transaction(
        self, request: Request[Any, Any, Any], transaction_id: TransactionId
    ) -> Transaction:
        async with context_of(request).database.unit_of_work() as uow:
            item = await service.get_transaction(uow, principal_of(request), transaction_id)
        return detail(request, item)  # type: ignore[no-any-return]

    @delete(
        "/{transaction_id:str}",
        summary="Delete a stored transaction",
        responses=READ_ERRORS,
    )
    async def delete_transaction(
        self, request: Request[Any, Any, Any], transaction_id: TransactionId
    ) -> None:
        async with context_of(request).database.unit_of_work() as uow:
            await service.delete_transaction(uow, principal_of(request), transaction_id)
