"""Fixtures of the job tests: an app whose settings run jobs in the server, polling fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_MASTER_KEY
from vinculo.config import Settings


@pytest.fixture
def settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        master_key=TEST_MASTER_KEY,
        sandbox_slow_login_seconds=0,
        api_key_cache_seconds=0,
        jobs_in_server=True,
        scheduler_poll_seconds=0.2,
        worker_stalled_seconds=2,
    )
