"""`GET` and `PUT /api/links/{id}/` on the fast path (`vinculo.wire.fast_path`).

They do what `LinksController.get_link` and `LinksController.update` do, with the same service
functions. The controller's declarations remain the source of the OpenAPI document, and they
serve every request that the fast path hands over.
"""

from __future__ import annotations

from vinculo.links import logins, service
from vinculo.links.schemas import Link, LinkUpdateRequest
from vinculo.wire.fast_path import FastRequest, FastRoute

PREFIX = "/api/links/"
LITESTAR_PATH = "/api/links/{link_id}"


async def get_link(request: FastRequest) -> Link:
    async with request.context.database.unit_of_work() as uow:
        return await service.get_link(uow, request.principal, request.path_id)


async def update_credentials(request: FastRequest) -> Link:
    data = await request.json_body(LinkUpdateRequest)
    return await logins.update_credentials(
        request.context, request.principal, request.path_id, data
    )


LINK_ROUTES = (
    FastRoute("GET", PREFIX, LITESTAR_PATH, get_link),
    FastRoute("PUT", PREFIX, LITESTAR_PATH, update_credentials),
)
