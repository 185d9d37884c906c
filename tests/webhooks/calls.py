"""Requests, a delivery round and a Standard Webhooks verifier shared by the webhook tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx

from vinculo.app import VinculoApp
from vinculo.webhooks.delivery import new_http_client, run_due_deliveries

TOLERANCE_SECONDS = 300


async def create_endpoint(
    client: httpx.AsyncClient, url: str, authorization: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if authorization is not None:
        body["authorization"] = authorization
    response = await client.post("/admin/webhooks/", json=body)
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()
    return endpoint


async def fire(client: httpx.AsyncClient, link_id: str, **body: Any) -> dict[str, Any]:
    body = {"webhook_type": "TRANSACTIONS", "webhook_code": "new_transactions_available", **body}
    response = await client.post(f"/sandbox/links/{link_id}/webhooks/", json=body)
    assert response.status_code == 202, response.text
    queued: dict[str, Any] = response.json()
    return queued


async def delivery_round(app: VinculoApp) -> int:
    """Run one claim-and-deliver round as the delivery task does; return the claimed count."""
    async with new_http_client(app.context.settings) as http:
        return await run_due_deliveries(app.context, http)


async def deliveries(client: httpx.AsyncClient, event_id: str | None = None) -> list[Any]:
    params = {"event": event_id} if event_id else {}
    response = await client.get("/admin/webhooks/deliveries/", params=params)
    assert response.status_code == 200, response.text
    rows: list[Any] = response.json()
    return rows


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check a request as a Standard Webhooks receiver does (https://www.standardwebhooks.com/).

    The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the base64
    decoding of the secret after `whsec_`; `webhook-signature` lists space-separated
    `v1,<base64>` signatures, any of which may match; the timestamp must be recent.
    """
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    content = message_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False
