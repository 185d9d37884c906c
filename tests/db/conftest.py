"""Fixtures of the database tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.databases import CONNECT_TIMEOUT_SECONDS, driver_url, postgres_server_url


@pytest.fixture
async def admin() -> AsyncIterator[asyncpg.Connection]:
    """A connection to the server's maintenance database, outside the app's pool."""
    connection = await asyncpg.connect(
        driver_url(postgres_server_url()), timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        yield connection
    finally:
        await connection.close()
