"""Clients of the session's live server: the unmodified Belvo SDK and a plain HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from belvo.client import Client

from tests.support.server import LiveServer

# Long enough for the slow sandbox login and for writes that wait on SQLite's lock.
HTTP_TIMEOUT_SECONDS = 30.0


@pytest.fixture(scope="session")
def sdk(live_server: LiveServer) -> Client:
    """A Belvo SDK client logged in to the live server with its sandbox key."""
    return Client(live_server.secret_id, live_server.secret_password, live_server.url)


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client for requests that the SDK cannot send, authenticated like `sdk`."""
    with httpx.Client(
        base_url=live_server.url,
        auth=(live_server.secret_id, live_server.secret_password),
        timeout=HTTP_TIMEOUT_SECONDS,
    ) as client:
        yield client
