"""HTTP routes of `/sandbox/`: the same secret keys as `/api/`, and 404 outside sandbox mode."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Router, delete, get, post
from litestar.params import JSONBody, PathParameter
from litestar.types import ASGIApp, Receive, Scope, Send

from vinculo.config import Settings
from vinculo.context import AppContext
from vinculo.institutions.schemas import Institution
from vinculo.links.schemas import Link
from vinculo.sandbox_api import service
from vinculo.sandbox_api.schemas import (
    ClockMoveRequest,
    InstitutionStatusRequest,
    LinkStatusRequest,
    RefreshReport,
    ResetResult,
    SandboxClock,
)
from vinculo.wire.auth import ApiKeyMiddleware, context_of, principal_of
from vinculo.wire.errors import NotFound
from vinculo.wire.openapi import BAD_REQUEST, READ_ERRORS, UNAUTHORIZED

LinkId = Annotated[
    str, PathParameter(description="The link's UUID; any other value returns 404 `not_found`.")
]
InstitutionName = Annotated[
    str, PathParameter(description="The institution's `name`, such as `erebor_mx_retail`.")
]
CHANGE_ERRORS = {**BAD_REQUEST, **READ_ERRORS}


class SandboxOnlyMiddleware:
    """Return 404 `not_found` on every `/sandbox/` route unless the server runs in sandbox
    mode, before the secret keys are checked, so production shows no trace of the routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context: AppContext = scope["litestar_app"].state.context
        if not context.settings.is_sandbox:
            raise NotFound()
        await self.app(scope, receive, send)


class SandboxController(Controller):
    tags = ["Sandbox"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post("/reset", summary="Delete the tenant's links and all their data", status_code=200)
    async def reset(self, request: Request[Any, Any, Any]) -> ResetResult:
        async with context_of(request).database.unit_of_work() as uow:
            return await service.reset_tenant(uow, principal_of(request))

    @get("/clock", summary="Show the sandbox clock", responses=UNAUTHORIZED)
    async def read_clock(self, request: Request[Any, Any, Any]) -> SandboxClock:
        return await service.read_clock(context_of(request))

    @post(
        "/clock",
        summary="Move the sandbox clock forward",
        status_code=200,
        responses={**BAD_REQUEST, **UNAUTHORIZED},
    )
    async def move_clock(
        self, request: Request[Any, Any, Any], data: JSONBody[ClockMoveRequest]
    ) -> SandboxClock:
        return await service.move_clock(context_of(request), data)

    @delete(
        "/clock",
        summary="Return the sandbox clock to real time",
        status_code=200,
        responses=UNAUTHORIZED,
    )
    async def reset_clock(self, request: Request[Any, Any, Any]) -> SandboxClock:
        return await service.reset_clock(context_of(request))

    @post(
        "/links/{link_id:str}/status",
        summary="Force a link's status",
        status_code=200,
        responses=CHANGE_ERRORS,
    )
    async def force_link_status(
        self, request: Request[Any, Any, Any], data: JSONBody[LinkStatusRequest], link_id: LinkId
    ) -> Link:
        context = context_of(request)
        async with context.database.unit_of_work() as uow:
            return await service.force_link_status(
                uow, principal_of(request), link_id, data.status, now=context.clock.now()
            )

    @post(
        "/links/{link_id:str}/refresh",
        summary="Run a link's refresh now and wait for it",
        status_code=200,
        responses=READ_ERRORS,
    )
    async def refresh_link(self, request: Request[Any, Any, Any], link_id: LinkId) -> RefreshReport:
        return await service.refresh_now(context_of(request), principal_of(request), link_id)

    @post(
        "/institutions/{name:str}/status",
        summary="Set an institution down or up for the tenant",
        status_code=200,
        responses=CHANGE_ERRORS,
    )
    async def set_institution_status(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[InstitutionStatusRequest],
        name: InstitutionName,
    ) -> Institution:
        context = context_of(request)
        async with context.database.unit_of_work() as uow:
            return await service.set_institution_status(
                uow, principal_of(request), name, data.status, now=context.clock.now()
            )


def create_sandbox_router(settings: Settings) -> Router:
    """Build the `/sandbox` router; its routes appear in the OpenAPI document in sandbox mode."""
    return Router(
        path="/sandbox",
        route_handlers=[SandboxController],
        middleware=[SandboxOnlyMiddleware, ApiKeyMiddleware],
        security=[{"basicAuth": []}],
        include_in_schema=settings.is_sandbox,
    )
