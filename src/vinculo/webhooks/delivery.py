"""Webhook delivery: claim due deliveries, POST them signed, record every attempt.

`deliver` sends one claimed delivery and records its outcome, so a job runner can call it;
`run_due_deliveries` claims a batch and delivers it; `WebhookDeliveryTask` runs that in the
server process every `webhook_poll_seconds`. Deliveries are at least once: a process that dies
after the receiver accepted but before the outcome committed leaves the lease to expire, and
another attempt sends the same event (same `webhook-id`) again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog

from vinculo import __version__
from vinculo.config import Settings
from vinculo.context import AppContext
from vinculo.db.engine import DatabaseUnavailable
from vinculo.security.vault import DecryptionFailed
from vinculo.webhooks import repository
from vinculo.webhooks.service import open_authorization, open_secret
from vinculo.webhooks.signing import signature_header
from vinculo.webhooks.urls import UnsafeWebhookUrl, destination_for

logger = structlog.get_logger(__name__)

MAX_ERROR_LENGTH = 255


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(settings: Settings, failures: int) -> timedelta:
    """Return the wait after the `failures`-th failed attempt in a row (1 for the first).

    The schedule's last entry is the cap for every later retry.
    """
    schedule = settings.webhook_retry_schedule
    return timedelta(seconds=schedule[min(failures, len(schedule)) - 1])


def new_http_client(settings: Settings) -> httpx.AsyncClient:
    """Create the client for webhook POSTs: no redirects, no proxies from the environment."""
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        # HTTP_PROXY and the like would send tenants' events, and their Authorization values,
        # through a host the operator did not choose for webhooks.
        trust_env=False,
        headers={"user-agent": f"Vinculo-Webhooks/{__version__}"},
    )


async def send_attempt(
    client: httpx.AsyncClient,
    settings: Settings,
    *,
    url: str,
    event_id: str,
    body: bytes,
    secret: str,
    authorization: str | None,
) -> AttemptOutcome:
    """POST one signed attempt and return its outcome; failures are returned, not raised."""
    started = time.perf_counter()
    try:
        destination = await destination_for(url, allow_private=settings.is_sandbox)
    except UnsafeWebhookUrl as exc:
        return AttemptOutcome(None, _short(f"destination rejected: {exc}"), _elapsed_ms(started))
    # The timestamp is the real time of the attempt, not the sandbox clock, because receivers
    # compare it with their own clock to reject replays.
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secret, message_id=event_id, timestamp=timestamp, body=body
        ),
    }
    if authorization is not None:
        headers["authorization"] = authorization
    if destination.host_header is not None:
        headers["host"] = destination.host_header
    extensions = {}
    if destination.sni_hostname is not None:
        extensions["sni_hostname"] = destination.sni_hostname
    request = client.build_request(
        "POST", destination.url, content=body, headers=headers, extensions=extensions
    )
    try:
        # httpx's timeout bounds each step (connect, each read); this bounds the whole attempt.
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            response = await client.send(request, stream=True)
            # The body is never read: only the status matters, and it may be large.
            await response.aclose()
    except TimeoutError:
        return AttemptOutcome(None, "timed out", _elapsed_ms(started))
    except httpx.HTTPError as exc:
        return AttemptOutcome(None, _short(f"{type(exc).__name__}: {exc}"), _elapsed_ms(started))
    return AttemptOutcome(response.status_code, None, _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


async def deliver(
    context: AppContext, client: httpx.AsyncClient, row: Any, lease_id: str
) -> AttemptOutcome:
    """Make one attempt of a delivery leased to `lease_id` and record it in the delivery log.

    `row` is the delivery as `repository.deliveries_to_send` read it.
    """
    settings = context.settings
    attempt = row.attempts + 1
    ids = {
        "event_id": row.event_id,
        "endpoint_id": row.endpoint_id,
        "tenant_id": row.tenant_id,
        "attempt": attempt,
    }
    try:
        secret = open_secret(context.vault, row)
        authorization = open_authorization(context.vault, row)
    except DecryptionFailed:
        logger.error("webhook.endpoint_unreadable", **ids)
        outcome = AttemptOutcome(None, "the endpoint's stored secrets cannot be decrypted", 0)
    else:
        outcome = await send_attempt(
            client,
            settings,
            url=row.url,
            event_id=row.event_id,
            body=row.body,
            secret=secret,
            authorization=authorization,
        )
    now = context.clock.now()
    await _record(context, row, attempt, outcome, lease_id, now)
    if outcome.delivered:
        logger.info(
            "webhook.delivered",
            **ids,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
        )
    return outcome


async def _record(
    context: AppContext,
    row: Any,
    attempt: int,
    outcome: AttemptOutcome,
    lease_id: str,
    now: datetime,
) -> None:
    settings = context.settings
    delivery_id: str = row.id
    failures: int = row.failures + (0 if outcome.delivered else 1)
    values: dict[str, object]
    if outcome.delivered:
        values = {"state": repository.DELIVERED, "delivered_at": now, "failures": failures}
    elif failures >= settings.webhook_max_attempts:
        values = {"state": repository.FAILED, "failures": failures}
    else:
        values = {"failures": failures, "next_attempt_at": now + retry_delay(settings, failures)}
    async with context.database.unit_of_work() as uow:
        # The attempt and its delivery's row, which only the holder of `lease_id` updates.
        await uow.begin_row_write()
        await repository.insert_attempt(
            uow,
            id=str(uuid.uuid4()),
            tenant_id=row.tenant_id,
            delivery_id=delivery_id,
            event_id=row.event_id,
            endpoint_id=row.endpoint_id,
            attempt=attempt,
            status_code=outcome.status_code,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
            attempted_at=now,
        )
        kept_lease = await repository.finish_attempt(uow, delivery_id, lease_id, **values)
    if outcome.delivered:
        return
    logger.warning(
        "webhook.delivery_failed",
        event_id=row.event_id,
        endpoint_id=row.endpoint_id,
        tenant_id=row.tenant_id,
        attempt=attempt,
        status_code=outcome.status_code,
        error=outcome.error,
        latency_ms=outcome.latency_ms,
        gave_up=values.get("state") == repository.FAILED,
        next_attempt_at=values.get("next_attempt_at"),
        lease_lost=not kept_lease,
    )


async def run_due_deliveries(context: AppContext, client: httpx.AsyncClient) -> int:
    """Claim the due deliveries (up to one batch), send them concurrently, and return how many
    were claimed."""
    now = context.clock.now()
    lease_id = uuid.uuid4().hex
    real_now = context.clock.real_now()
    lease_until = real_now + timedelta(seconds=context.settings.webhook_lease_seconds)
    async with context.database.unit_of_work() as uow:
        claimed = await repository.claim_due(
            uow, now=now, real_now=real_now, lease_until=lease_until, lease_id=lease_id
        )
        # Read with the claim: one statement for the batch rather than a connection and a
        # statement per delivery. A delivery whose event or endpoint is gone is left out,
        # and its lease expires.
        rows = await repository.deliveries_to_send(uow, claimed, lease_id)
    results = await asyncio.gather(
        *(deliver(context, client, row, lease_id) for row in rows),
        return_exceptions=True,
    )
    for row, result in zip(rows, results, strict=True):
        if isinstance(result, BaseException):
            # The lease expires, and another round retries the delivery.
            log = logger.warning if isinstance(result, DatabaseUnavailable) else logger.error
            log(
                "webhook.delivery_crashed",
                delivery_id=row.id,
                error=f"{type(result).__name__}: {result}",
            )
    return len(claimed)


async def run_deliveries_forever(context: AppContext) -> None:
    """Deliver due webhooks until cancelled; wait `webhook_poll_seconds` whenever a round
    finds less than a full batch. Failures are logged and the loop goes on. Both `vinculo
    serve` and `vinculo worker` run it, so it logs its own start and stop."""
    poll_seconds = context.settings.webhook_poll_seconds
    logger.info("webhook.delivery_started", poll_seconds=poll_seconds)
    try:
        async with new_http_client(context.settings) as client:
            while True:
                try:
                    claimed = await run_due_deliveries(context, client)
                except DatabaseUnavailable as exc:
                    # An outage, not a bug: one line without a traceback, and the loop goes on.
                    logger.warning("webhook.delivery_round_failed", error=str(exc))
                    claimed = 0
                except Exception:
                    logger.exception("webhook.delivery_round_failed")
                    claimed = 0
                if claimed < repository.CLAIM_BATCH:
                    await asyncio.sleep(poll_seconds)
    finally:
        logger.info("webhook.delivery_stopped")


class WebhookDeliveryTask:
    """Starts and stops `run_deliveries_forever` with the application."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            run_deliveries_forever(self._context), name="webhook-delivery"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
