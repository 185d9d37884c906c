"""Start and stop a real `vinculo serve` process for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

SECRET_ID = "e2e-secret-id"
SECRET_PASSWORD = "e2e-secret-password-canary"
STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    # None when the server uses the SQLite file in `data_dir`.
    database_url: str | None = None
    secret_id: str = SECRET_ID
    secret_password: str = SECRET_PASSWORD

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_live_server(
    directory: Path,
    extra_env: dict[str, str] | None = None,
    *,
    database_url: str | None = None,
) -> LiveServer:
    """Run `python -m vinculo serve` with a fixed sandbox key and wait until it responds.

    The server uses `database_url`, or else the SQLite file in its data folder.
    """
    port = free_port()
    data_dir = directory / "data"
    log_path = directory / "server.log"
    env = {
        **os.environ,
        "VINCULO_DATA_DIR": str(data_dir),
        "VINCULO_PORT": str(port),
        "VINCULO_HOST": "127.0.0.1",
        "VINCULO_SANDBOX_SECRET_ID": SECRET_ID,
        "VINCULO_SANDBOX_SECRET_PASSWORD": SECRET_PASSWORD,
        "VINCULO_SANDBOX_SLOW_LOGIN_SECONDS": "0.5",
        "VINCULO_LOG_LEVEL": "DEBUG",
        **(extra_env or {}),
    }
    env.pop("VINCULO_DATABASE_URL", None)
    if database_url is not None:
        env["VINCULO_DATABASE_URL"] = database_url
    env.pop("VINCULO_MASTER_KEY", None)
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "vinculo", "serve"],
        env=env,
        cwd=directory,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    server = LiveServer(url, process, log_path, data_dir, database_url)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vinculo serve exited early:\n{server.log_text()}")
        try:
            httpx.get(f"{url}/api/", auth=(SECRET_ID, SECRET_PASSWORD), timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"vinculo serve did not answer within {STARTUP_SECONDS} s")
