"""The baseline: a bare Starlette app that returns a constant JSON object for any request."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = (
    b'{"id":"30cb4806-6e00-48a4-91c9-ca55968576c8","institution":"erebor_mx_retail",'
    b'"access_mode":"recurrent","status":"valid","refresh_rate":"7d"}'
)


async def constant(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", constant, methods=["GET", "PUT"])])
