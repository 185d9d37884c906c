"""HTTP responses shared by the accounts, transactions, balances and owners routes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from vinculo.retrieval.service import Retrieval
from vinculo.wire.auth import context_of
from vinculo.wire.query import Page, PageRequest, build_page, request_shape, shape_of
from vinculo.wire.stored import shaped


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
