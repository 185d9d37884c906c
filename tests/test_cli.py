"""The `vinculo` command as a user runs it, in a subprocess."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    data_dir: Path,
    *arguments: str,
    master_key: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VINCULO_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("VINCULO_DATABASE_URL", None)
    env.pop("VINCULO_MASTER_KEY", None)
    if master_key is not None:
        env["VINCULO_MASTER_KEY"] = master_key
    return subprocess.run(
        [sys.executable, "-m", "vinculo", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    created = run_cli(tmp_path, "keys", "create", "--tenant", "acme", "--json")
    key = json.loads(created.stdout)
    listed = run_cli(tmp_path, "keys", "list", "--json")
    revoked = run_cli(tmp_path, "keys", "revoke", key["secret_id"])
    revoked_again = run_cli(tmp_path, "keys", "revoke", key["secret_id"])

    assert created.returncode == 0, created.stderr
    assert key["tenant"] == "acme"
    assert json.loads(listed.stdout)["secret_id"] == key["secret_id"]
    assert key["secret_password"] not in listed.stdout
    assert revoked.returncode == 0
    assert revoked_again.returncode == 1


def test_wrong_master_key_is_refused(tmp_path: Path) -> None:
    first_key = base64.b64encode(b"a" * 32).decode()
    other_key = base64.b64encode(b"b" * 32).decode()
    assert run_cli(tmp_path, "keys", "create", master_key=first_key).returncode == 0

    refused = run_cli(tmp_path, "keys", "create", master_key=other_key)

    assert refused.returncode == 2
    assert "Wrong master key" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_short_master_key_is_refused(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "keys", "create", master_key="c2hvcnQ=")

    assert refused.returncode == 2
    assert "has 5 bytes" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_production_needs_master_key(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "keys", "create", extra_env={"VINCULO_MODE": "production"})

    assert refused.returncode == 2
    assert "VINCULO_MASTER_KEY" in refused.stderr
    assert not (tmp_path / "master.key").exists()
