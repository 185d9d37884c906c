"""What a webhook delivery writes to the standard-library log, where httpx logs each request."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.webhooks.calls import create_endpoint, delivery_round, fire
from tests.webhooks.receiver import Receiver
from vinculo.app import VinculoApp
from vinculo.config import Settings
from vinculo.logging import configure_logging

QUERY_TOKEN = "canary-Query-Token-5e1b"


@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
def test_http_client_loggers_at_warning(log_level: str) -> None:
    try:
        configure_logging(Settings(log_level=log_level))

        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
    finally:
        # The session's own set-up, which the other tests expect.
        configure_logging(Settings())


async def test_delivery_logs_no_httpx_line(
    app: VinculoApp,
    client: httpx.AsyncClient,
    receiver: Receiver,
    link: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Set up logging as the server does. That replaces the root handlers, so caplog's handler
    # is added back.
    configure_logging(app.context.settings)
    logging.getLogger().addHandler(caplog.handler)
    await create_endpoint(client, f"{receiver.url}?token={QUERY_TOKEN}")
    await fire(client, link["id"])

    assert await delivery_round(app) == 1

    assert len(receiver.requests) == 1
    http_records = [
        record for record in caplog.records if record.name.startswith(("httpx", "httpcore"))
    ]
    assert http_records == []
    assert QUERY_TOKEN not in caplog.text
