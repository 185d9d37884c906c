"""Fixtures of the webhook tests: fast retry settings, a receiver, a link to fire events on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_MASTER_KEY
from tests.links.calls import create_link
from tests.webhooks.receiver import Receiver
from vinculo.config import Settings


@pytest.fixture
def settings(data_dir: Path, database_url: str | None) -> Settings:
    """Test settings with a short retry schedule that the tests step through with the clock."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        master_key=TEST_MASTER_KEY,
        sandbox_slow_login_seconds=0,
        api_key_cache_seconds=0,
        webhook_retry_schedule=[5, 30, 120],
        webhook_max_attempts=5,
        webhook_timeout_seconds=2,
        webhook_lease_seconds=30,
        webhook_poll_seconds=0.05,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
async def link(client: httpx.AsyncClient) -> dict[str, Any]:
    return await create_link(client, "user_valid", external_id="customer-42")
