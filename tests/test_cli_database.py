"""The `vinculo` command on a database named by `VINCULO_DATABASE_URL`, SQLite or PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.cli import run_vinculo
from tests.support.server import free_port


def run_cli(data_dir: Path, database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VINCULO_DATA_DIR": str(data_dir), "VINCULO_DATABASE_URL": database_url}
    env.pop("VINCULO_MASTER_KEY", None)
    return run_vinculo(env, *arguments)


def test_migrate_then_keys(tmp_path: Path, empty_database_url: str) -> None:
    migrated = run_cli(tmp_path, empty_database_url, "migrate")
    created = run_cli(tmp_path, empty_database_url, "keys", "create", "--tenant", "acme", "--json")
    listed = run_cli(tmp_path, empty_database_url, "keys", "list", "--json")

    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert json.loads(listed.stdout)["secret_id"] == key["secret_id"]


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    # Nothing listens on a fresh free port, so the connection is refused.
    url = f"postgresql://127.0.0.1:{free_port()}/vinculo_down"

    refused = run_cli(tmp_path, url, "migrate")

    assert refused.returncode == 2
    assert "Cannot use the database" in refused.stderr
    assert "ConnectionRefusedError" in refused.stderr
    assert "Traceback" not in refused.stderr
