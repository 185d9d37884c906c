"""HTTP responses shared by the accounts, transactions, balances and owners routes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from vinculo.connectors.base import Resource
from vinculo.jobs.async_requests import accept_retrieval, is_async
from vinculo.retrieval.service import Retrieval, retrieval_input, retrieve
from vinculo.wire.auth import context_of, principal_of
from vinculo.wire.query import Page, PageRequest, build_page, request_shape, shape_of
from vinculo.wire.request_id import request_id_of
from vinculo.wire.stored import shaped


async def retrieve_or_accept(
    request: Request[Any, Any, Any], resource: Resource, data: Any
) -> Response[Any]:
    """Run a `POST /api/{resource}/` retrieval, or, with `X-Belvo-Request-Mode: async`, queue
    it and return 202 with its `request_id`."""
    context, principal = context_of(request), principal_of(request)
    body = retrieval_input(data)
    if is_async(request.headers):
        request_id = request_id_of(request.scope)
        await accept_retrieval(context, principal, resource, body, request_id=request_id)
        return Response({"request_id": request_id}, status_code=202)
    return retrieval_response(request, await retrieve(context, principal, resource, body))


def retrieval_response(request: Request[Any, Any, Any], retrieval: Retrieval) -> Response[Any]:
    """201 with the objects when they were stored, 200 when `save_data` was false."""
    items = shaped(request_shape(request), retrieval.items)
    return Response(items, status_code=201 if retrieval.saved else 200)


def list_page(
    request: Request[Any, Any, Any], page: PageRequest, count: int, items: list[msgspec.Raw]
) -> Page[Any]:
    """Wrap one page of stored bodies in Belvo's list envelope, applying `fields`/`omit`."""
    return build_page(
        str(request.url),
        page,
        count,
        shaped(shape_of(request.query_params), items),
        context_of(request).settings.public_url,
    )


def detail(request: Request[Any, Any, Any], item: msgspec.Raw) -> Any:
    return shaped(request_shape(request), [item])[0]
