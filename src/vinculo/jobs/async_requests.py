"""Requests sent with `X-Belvo-Request-Mode: async`: 202 at once, the work in a job, then a
webhook that carries the request's `request_id`.

A data retrieval (`POST /api/{accounts,transactions,balances,owners}/`) is checked as a
synchronous one is before the 202, then runs in a job. It ends with a
`new_<resource>_available` webhook (`{"new_<resource>": n}`, n being how many objects the
retrieval returned), or, when it fails, a `retrieval_failed` webhook with Belvo's error code,
message and status. A link deletion sends `LINK` `link_deleted`.

Jobs store their arguments unencrypted, so an async request cannot carry an MFA `token` or an
`encryption_key`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import structlog

from vinculo.connectors.base import Resource
from vinculo.context import AppContext
from vinculo.links import repository as links_repository
from vinculo.links.service import parse_link_id
from vinculo.retrieval.service import RetrievalInput, check_retrieval, retrieve
from vinculo.tenants.service import Principal
from vinculo.webhooks.service import enqueue_event
from vinculo.wire.errors import BelvoError, NotFound, ServiceUnavailable, ValidationError

logger = structlog.get_logger(__name__)

ASYNC_HEADER = "x-belvo-request-mode"
# Belvo compares the value case-sensitively; any other value means a synchronous request.
ASYNC_VALUE = "async"
RETRIEVE_TASK = "vinculo.retrieve_async"
DELETE_LINK_TASK = "vinculo.delete_link_async"
WEBHOOK_TYPES = {
    Resource.ACCOUNTS: "ACCOUNTS",
    Resource.TRANSACTIONS: "TRANSACTIONS",
    Resource.BALANCES: "BALANCES",
    Resource.OWNERS: "OWNERS",
}


def is_async(headers: Any) -> bool:
    return bool(headers.get(ASYNC_HEADER) == ASYNC_VALUE)


async def accept_retrieval(
    context: AppContext,
    principal: Principal,
    resource: Resource,
    body: RetrievalInput,
    *,
    request_id: str,
) -> None:
    """Check an async retrieval and queue it; raise the error a synchronous one would give
    before logging in."""
    if body.token is not None:
        raise ValidationError(
            "An MFA token cannot be sent in an async request; send it in a synchronous one.",
            field="token",
        )
    if body.encryption_key is not None:
        raise ValidationError(
            "An encryption_key cannot be sent in an async request, because the server would "
            "have to keep it until the job runs; send it in a synchronous request.",
            field="encryption_key",
        )
    await check_retrieval(context, principal, resource, body)
    await _defer(
        context,
        RETRIEVE_TASK,
        lock=None,
        tenant_id=principal.tenant_id,
        principal_id=principal.principal_id,
        resource=resource.value,
        link=str(body.link),
        date_from=body.date_from.isoformat() if body.date_from else None,
        date_to=body.date_to.isoformat() if body.date_to else None,
        account=str(body.account) if body.account else None,
        save=body.save,
        request_id=request_id,
    )


async def run_retrieval(
    context: AppContext,
    *,
    tenant_id: str,
    principal_id: str,
    resource: str,
    link: str,
    date_from: str | None,
    date_to: str | None,
    account: str | None,
    save: bool,
    request_id: str,
) -> None:
    """Run a queued async retrieval and send its webhook."""
    kind = Resource(resource)
    body = RetrievalInput(
        link=uuid.UUID(link),
        token=None,
        save=save,
        encryption_key=None,
        date_from=date.fromisoformat(date_from) if date_from else None,
        date_to=date.fromisoformat(date_to) if date_to else None,
        account=uuid.UUID(account) if account else None,
    )
    principal = Principal(tenant_id=tenant_id, principal_id=principal_id, secret_id="")
    webhook_type = WEBHOOK_TYPES[kind]
    try:
        result = await retrieve(context, principal, kind, body)
    except BelvoError as exc:
        logger.info(
            "async_request.failed", link_id=link, resource=resource, code=exc.code, id=request_id
        )
        code, data = (
            "retrieval_failed",
            {
                "error_code": exc.code,
                "error_message": exc.message,
                "status": exc.status_code,
            },
        )
    else:
        code, data = f"new_{resource}_available", {f"new_{resource}": len(result.items)}
    async with context.database.unit_of_work() as uow:
        row = await links_repository.get_link(uow, tenant_id, link)
        await enqueue_event(
            uow,
            tenant_id,
            webhook_type=webhook_type,
            webhook_code=code,
            link_id=link,
            external_id=row.external_id if row is not None else None,
            process_type=None,
            request_id=request_id,
            data=data,
            now=context.clock.now(),
        )


async def accept_link_deletion(
    context: AppContext, principal: Principal, raw_link_id: str, *, request_id: str
) -> None:
    """Check that the link exists and queue its deletion; raise `NotFound` otherwise."""
    link_id = parse_link_id(raw_link_id)
    async with context.database.unit_of_work() as uow:
        row = await links_repository.get_link(uow, principal.tenant_id, link_id)
    if row is None:
        raise NotFound()
    await _defer(
        context,
        DELETE_LINK_TASK,
        lock=f"link:{link_id}",
        tenant_id=principal.tenant_id,
        link_id=link_id,
        request_id=request_id,
    )


async def run_link_deletion(
    context: AppContext, *, tenant_id: str, link_id: str, request_id: str
) -> None:
    """Delete the link with its data and send `LINK` `link_deleted` in the same unit of work,
    so a job run twice sends the webhook once."""
    async with context.database.unit_of_work() as uow:
        await uow.begin_write()
        row = await links_repository.get_link(uow, tenant_id, link_id)
        if row is None:
            return
        await links_repository.delete_link(uow, tenant_id, link_id)
        await enqueue_event(
            uow,
            tenant_id,
            webhook_type="LINK",
            webhook_code="link_deleted",
            link_id=link_id,
            external_id=row.external_id,
            process_type=None,
            request_id=request_id,
            data={},
            now=context.clock.now(),
        )
    logger.info("link.deleted", link_id=link_id, tenant_id=tenant_id, request_id=request_id)


async def _defer(context: AppContext, task: str, *, lock: str | None, **arguments: Any) -> None:
    if not await context.jobs.defer(task, lock=lock, **arguments):
        raise ServiceUnavailable("The job queue is not available, try again later.")
