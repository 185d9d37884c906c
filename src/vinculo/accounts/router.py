"""HTTP routes of `/api/accounts/`: resolve the caller and input, call one service function."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from vinculo.accounts import service
from vinculo.accounts.schemas import (
    Account,
    AccountsRequest,
    PaginatedResponseAccount,
    ResumeRequest,
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

AccountId = Annotated[
    str, PathParameter(description="The account's UUID; any other value returns 404 `not_found`.")
]


class AccountsController(Controller):
    path = "/accounts"
    tags = ["Accounts"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/",
        summary="Retrieve a link's accounts from its institution",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def retrieve(
        self, request: Request[Any, Any, Any], data: JSONBody[AccountsRequest]
    ) -> Response[list[Account]]:
        return await retrieve_or_accept(request, Resource.ACCOUNTS, data)

    @patch(
        "/",
        summary="Resume an accounts retrieval after a 428 token_required",
        status_code=201,
        responses=RETRIEVAL_ERRORS,
    )
    async def resume(
        self, request: Request[Any, Any, Any], data: JSONBody[ResumeRequest]
    ) -> Response[list[Account]]:
        result = await retrieval.resume(
            context_of(request), principal_of(request), Resource.ACCOUNTS, data
        )
        return retrieval_response(request, result)

    @get(
        "/",
        summary="List stored accounts",
        responses={**BAD_FILTER, **UNAUTHORIZED},
        operation_class=list_operation(filter_parameters(filter_docs(service.ACCOUNT_FILTERS))),
    )
    async def list_accounts(self, request: Request[Any, Any, Any]) -> PaginatedResponseAccount:
        page = page_request(request.query_params)
        async with context_of(request).database.unit_of_work() as uow:
            count, items = await service.list_accounts(
                uow, principal_of(request), request.query_params, page
            )
        return list_page(request, page, count, items)  # type: ignore[return-value]

    @get("/{account_id:str}", summary="Get an account's details", responses=READ_ERRORS)
    async def get_account(self, request: Request[Any, Any, Any], account_id: AccountId) -> Account:
        async with context_of(request).database.unit_of_work() as uow:
            item = await service.get_account(uow, principal_of(request), account_id)
        return detail(request, item)  # type: ignore[no-any-return]

    @delete(
        "/{account_id:str}",
        summary="Delete an account with its transactions, balances and owners",
        responses=READ_ERRORS,
    )
    async def delete_account(self, request: Request[Any, Any, Any], account_id: AccountId) -> None:
        async with context_of(request).database.unit_of_work() as uow:
            await service.delete_account(uow, principal_of(request), account_id)
