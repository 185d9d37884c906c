"""HTTP routes: the webhook admin API under `/admin/webhooks/`, and the sandbox trigger.

Both use the API's secret keys and act on the caller's tenant only. The sandbox trigger is
registered in sandbox mode only, so in production mode its URL is an unknown route (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Router, delete, get, post
from litestar.params import JSONBody, PathParameter
from litestar.types import ControllerRouterHandler

from vinculo.config import Settings
from vinculo.webhooks import sandbox, service
from vinculo.webhooks.schemas import (
    NewWebhookEndpoint,
    Redelivery,
    SandboxWebhookQueued,
    SandboxWebhookRequest,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEndpointCreate,
)
from vinculo.wire.auth import ApiKeyMiddleware, context_of, principal_of
from vinculo.wire.errors import InvalidValue
from vinculo.wire.openapi import READ_ERRORS, UNAUTHORIZED
from vinculo.wire.query import parse_path_id
from vinculo.wire.request_id import request_id_of

DEFAULT_LOG_LIMIT = 100
MAX_LOG_LIMIT = 1000

EndpointId = Annotated[str, PathParameter(description="The webhook endpoint's UUID.")]
EventId = Annotated[str, PathParameter(description="The event's `webhook_id` (32 hex digits).")]


def _log_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LOG_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LOG_LIMIT:
        raise InvalidValue(f"Enter a whole number from 1 to {MAX_LOG_LIMIT}.", field="limit")
    return limit


class WebhookAdminController(Controller):
    path = "/webhooks"
    tags = ["Webhooks (admin)"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @get("/", summary="List the caller's webhook endpoints", responses=UNAUTHORIZED)
    async def list_endpoints(self, request: Request[Any, Any, Any]) -> list[WebhookEndpoint]:
        async with context_of(request).database.unit_of_work() as uow:
            rows = await service.list_endpoints(uow, principal_of(request).tenant_id)
        return [
            WebhookEndpoint(
                id=row.id,
                url=row.url,
                has_authorization=bool(row.has_authorization),
                created_at=row.created_at,
            )
            for row in rows
        ]

    @post(
        "/",
        summary="Create a webhook endpoint; the response shows its signing secret once",
        status_code=201,
        responses=UNAUTHORIZED,
    )
    async def create_endpoint(
        self, request: Request[Any, Any, Any], data: JSONBody[WebhookEndpointCreate]
    ) -> NewWebhookEndpoint:
        context = context_of(request)
        async with context.database.unit_of_work() as uow:
            endpoint = await service.create_endpoint(
                uow,
                context.vault,
                principal_of(request).tenant_id,
                url=data.url,
                authorization=data.authorization,
                allow_private=context.settings.is_sandbox,
                now=context.clock.now(),
            )
        return NewWebhookEndpoint(
            id=endpoint.id,
            url=endpoint.url,
            has_authorization=endpoint.has_authorization,
            created_at=endpoint.created_at,
            secret=endpoint.secret,
        )

    @delete(
        "/{endpoint_id:str}",
        summary="Delete a webhook endpoint with its pending deliveries and delivery log",
        responses=READ_ERRORS,
    )
    async def delete_endpoint(
        self, request: Request[Any, Any, Any], endpoint_id: EndpointId
    ) -> None:
        async with context_of(request).database.unit_of_work() as uow:
            await service.delete_endpoint(
                uow, principal_of(request).tenant_id, parse_path_id(endpoint_id)
            )

    @get(
        "/deliveries",
        summary="List the delivery log, newest first (`event`, `limit` up to 1000)",
        responses=UNAUTHORIZED,
    )
    async def list_deliveries(self, request: Request[Any, Any, Any]) -> list[WebhookAttempt]:
        limit = _log_limit(request.query_params.get("limit"))
        event_id = request.query_params.get("event")
        async with context_of(request).database.unit_of_work() as uow:
            rows = await service.list_attempts(
                uow, principal_of(request).tenant_id, event_id=event_id, limit=limit
            )
        return [
            WebhookAttempt(
                event_id=row.event_id,
                endpoint_id=row.endpoint_id,
                attempt=row.attempt,
                status_code=row.status_code,
                error=row.error,
                latency_ms=row.latency_ms,
                attempted_at=row.attempted_at,
            )
            for row in rows
        ]

    @post(
        "/events/{event_id:str}/redeliver",
        summary="Send an event again to each of its endpoints, with the same webhook-id",
        status_code=202,
        responses=READ_ERRORS,
    )
    async def redeliver(self, request: Request[Any, Any, Any], event_id: EventId) -> Redelivery:
        context = context_of(request)
        async with context.database.unit_of_work() as uow:
            count = await service.redeliver(
                uow, principal_of(request).tenant_id, event_id, now=context.clock.now()
            )
        return Redelivery(webhook_id=event_id, deliveries=count)


class SandboxWebhooksController(Controller):
    path = "/links"
    tags = ["Sandbox"]  # noqa: RUF012  (Litestar declares it as an instance attribute)

    @post(
        "/{link_id:str}/webhooks",
        summary="Fire a webhook event for a link (sandbox mode only)",
        status_code=202,
        responses=READ_ERRORS,
    )
    async def fire(
        self,
        request: Request[Any, Any, Any],
        link_id: Annotated[str, PathParameter(description="The link's UUID.")],
        data: JSONBody[SandboxWebhookRequest],
    ) -> SandboxWebhookQueued:
        context = context_of(request)
        async with context.database.unit_of_work() as uow:
            queued = await sandbox.trigger_event(
                uow,
                principal_of(request),
                link_id,
                data,
                request_id=request_id_of(request.scope),
                now=context.clock.now(),
            )
        return SandboxWebhookQueued(webhook_id=queued.id, deliveries=queued.deliveries)


def webhook_routers(settings: Settings) -> list[ControllerRouterHandler]:
    """Return the routers to register on the app: the admin API, and in sandbox mode the
    trigger."""
    routers: list[ControllerRouterHandler] = [
        Router(
            path="/admin",
            route_handlers=[WebhookAdminController],
            middleware=[ApiKeyMiddleware],
            security=[{"basicAuth": []}],
        )
    ]
    if settings.is_sandbox:
        routers.append(
            Router(
                path="/sandbox",
                route_handlers=[SandboxWebhooksController],
                middleware=[ApiKeyMiddleware],
                security=[{"basicAuth": []}],
            )
        )
    return routers
