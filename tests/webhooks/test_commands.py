"""`vinculo webhooks ...` as an operator runs it, in a subprocess, on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run_cli


def test_create_list_delete(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    assert run_cli(tmp_path, "keys", "create", "--tenant", "acme").returncode == 0

    created = run_cli(
        tmp_path,
        "webhooks",
        "create",
        "--tenant",
        "acme",
        "--url",
        "http://127.0.0.1:9/hook",
        "--authorization",
        "Bearer canary-Cli-Token",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    endpoint = json.loads(created.stdout)
    assert endpoint["secret"].startswith("whsec_")

    listed = run_cli(tmp_path, "webhooks", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["id"] == endpoint["id"]
    assert row["has_authorization"] is True
    assert "canary-Cli-Token" not in listed.stdout + listed.stderr
    assert endpoint["secret"] not in listed.stdout

    assert run_cli(tmp_path, "webhooks", "delete", endpoint["id"]).returncode == 0
    assert run_cli(tmp_path, "webhooks", "list", "--json").stdout == ""


def test_unknown_tenant_and_event(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    created = run_cli(
        tmp_path, "webhooks", "create", "--tenant", "nobody", "--url", "http://127.0.0.1/h"
    )
    assert created.returncode == 1
    assert "No tenant named 'nobody'" in created.stderr

    redelivered = run_cli(tmp_path, "webhooks", "redeliver", "0" * 32)
    assert redelivered.returncode == 1
    assert "Not found" in redelivered.stderr
    # A truncated id, as a narrow terminal shows it in the deliveries table.
    truncated = run_cli(tmp_path, "webhooks", "redeliver", "b63b763dd3f3")
    assert truncated.returncode == 1
    assert "32 hexadecimal characters" in truncated.stderr

    assert run_cli(tmp_path, "webhooks", "deliveries", "--json").stdout == ""


def test_production_rejects_loopback(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    run_cli(tmp_path, "keys", "create", "--tenant", "acme", master_key="A" * 43 + "=")
    created = run_cli(
        tmp_path,
        "webhooks",
        "create",
        "--tenant",
        "acme",
        "--url",
        "http://127.0.0.1:9/hook",
        master_key="A" * 43 + "=",
        extra_env={"VINCULO_MODE": "production"},
    )

    assert created.returncode == 1
    assert "not a public address" in created.stderr
