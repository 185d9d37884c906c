"""The fast path refuses, at start-up, to shadow a Litestar route it would not serve the same way.

Request-level parity of the link routes is tested in tests/links/test_fast_routes.py.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from litestar import Litestar, Request, Router, get, put
from litestar.datastructures import ResponseHeader
from litestar.params import PathParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from vinculo.app import VinculoApp
from vinculo.wire.auth import ApiKeyMiddleware
from vinculo.wire.fast_path import FastPath, FastRequest, FastRoute
from vinculo.wire.handlers import EXCEPTION_HANDLERS


async def endpoint(request: FastRequest) -> dict[str, str]:
    return {"id": request.path_id}


ROUTE = FastRoute("PUT", "/api/things/", "/api/things/{thing_id}", endpoint)


@put("/things/{thing_id:str}")
async def put_thing(thing_id: Annotated[str, PathParameter()]) -> dict[str, str]:
    return {"id": thing_id}


@get("/other")
async def get_other() -> dict[str, str]:
    return {}


@get("/things/special")
async def get_special() -> dict[str, str]:
    return {"id": "special"}


def passthrough_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    return middleware


def deny_nothing(connection: Any, handler: Any) -> None:
    return None


async def before(request: Request[Any, Any, Any]) -> None:
    return None


def litestar_with(*handlers: Any, **router_options: Any) -> Litestar:
    router = Router(
        path="/api",
        route_handlers=list(handlers),
        **{"middleware": [ApiKeyMiddleware], **router_options},
    )
    return Litestar(
        route_handlers=[router],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=1024,
    )


def test_accepts_plain_route(app: VinculoApp) -> None:
    fast_path = FastPath(litestar_with(put_thing), app.context, [ROUTE])
    scope = {"type": "http", "method": "PUT", "path": "/api/things/abc/"}

    assert fast_path.match(scope) is not None  # type: ignore[arg-type]


def test_rejects_undeclared_route(app: VinculoApp) -> None:
    with pytest.raises(ValueError, match="no Litestar route declares PUT"):
        FastPath(litestar_with(get_other), app.context, [ROUTE])


def test_rejects_undeclared_method(app: VinculoApp) -> None:
    get_route = FastRoute("GET", ROUTE.prefix, ROUTE.litestar_path, endpoint)

    with pytest.raises(ValueError, match="no Litestar route declares GET"):
        FastPath(litestar_with(put_thing), app.context, [get_route])


def test_rejects_overlapping_static_route(app: VinculoApp) -> None:
    with pytest.raises(ValueError, match="/api/things/special overlaps"):
        FastPath(litestar_with(put_thing, get_special), app.context, [ROUTE])


@pytest.mark.parametrize(
    ("options", "step"),
    [
        ({"middleware": [ApiKeyMiddleware, passthrough_middleware]}, "middleware"),
        ({"guards": [deny_nothing]}, "guards"),
        ({"before_request": before}, "before_request"),
        ({"response_headers": [ResponseHeader(name="x-extra", value="1")]}, "response_headers"),
    ],
)
def test_rejects_extra_step(app: VinculoApp, options: dict[str, Any], step: str) -> None:
    with pytest.raises(ValueError, match=f"runs {step} in Litestar"):
        FastPath(litestar_with(put_thing, **options), app.context, [ROUTE])
