"""The sandbox trigger: write a webhook event for one of the caller's links on request."""

from __future__ import annotations

from datetime import datetime

from vinculo.db.engine import UnitOfWork
from vinculo.links import repository as links
from vinculo.tenants.service import Principal
from vinculo.webhooks.payloads import default_data, default_process_type
from vinculo.webhooks.schemas import SandboxWebhookRequest
from vinculo.webhooks.service import QueuedEvent, enqueue_event
from vinculo.wire.errors import NotFound
from vinculo.wire.query import parse_path_id


async def trigger_event(
    uow: UnitOfWork,
    principal: Principal,
    link_id: str,
    body: SandboxWebhookRequest,
    *,
    request_id: str,
    now: datetime,
) -> QueuedEvent:
    """Enqueue the event that `body` describes for a link of the caller; raise `NotFound` for
    an unknown link or another tenant's."""
    link = await links.get_link(uow, principal.tenant_id, parse_path_id(link_id))
    if link is None:
        raise NotFound()
    data = body.data
    if data is None:
        data = default_data(body.webhook_type, body.webhook_code, today=now.date())
    return await enqueue_event(
        uow,
        principal.tenant_id,
        webhook_type=body.webhook_type,
        webhook_code=body.webhook_code,
        link_id=link.id,
        external_id=link.external_id,
        process_type=body.process_type or default_process_type(body.webhook_code),
        request_id=request_id,
        data=data,
        now=now,
    )
