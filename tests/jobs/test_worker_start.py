"""The log lines of `vinculo worker` as it starts and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_MASTER_KEY
from tests.support.databases import selected_database

pytestmark = pytest.mark.skipif(
    selected_database() != "postgresql",
    reason="vinculo worker runs only on PostgreSQL; runs with VINCULO_TEST_DATABASE=postgresql",
)

START_SECONDS = 30
STOP_SECONDS = 30


def wait_for_line(log_path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while text not in log_path.read_text(errors="replace"):
        if process.poll() is not None:
            pytest.fail(f"vinculo worker exited with {process.returncode}:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no line with {text!r} within {START_SECONDS} s:\n{log_path.read_text()}")
        time.sleep(0.1)


def test_worker_logs_webhook_delivery(tmp_path: Path, database_url: str) -> None:
    env = {
        **os.environ,
        "VINCULO_DATABASE_URL": database_url,
        "VINCULO_DATA_DIR": str(tmp_path / "data"),
        "VINCULO_MASTER_KEY": TEST_MASTER_KEY,
        "VINCULO_LOG_LEVEL": "INFO",
        "VINCULO_LOG_FORMAT": "console",
        "VINCULO_WEBHOOK_POLL_SECONDS": "0.5",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "vinculo", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_line(log_path, "event=worker.started", process)
        wait_for_line(log_path, "event=webhook.delivery_started", process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    log = log_path.read_text()
    assert "event=webhook.delivery_started poll_seconds=0.5" in log
    assert "event=webhook.delivery_stopped" in log
    assert "event=worker.stopped" in log
