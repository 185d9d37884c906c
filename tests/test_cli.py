"""The `vinculo` command as a user runs it, in a subprocess."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
from pathlib import Path

import httpx

from tests.support.cli import run_vinculo
from vinculo.app import create_app
from vinculo.config import Settings


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
    return run_vinculo(env, *arguments)


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    created = run_cli(tmp_path, "keys", "create", "--tenant", "acme", "--json")
    key = json.loads(created.stdout)
    listed = run_cli(tmp_path, "keys", "list", "--json")
    revoked = run_cli(tmp_path, "keys", "revoke", key["secret_id"])
    revoked_again = run_cli(tmp_path, "keys", "revoke", key["secret_id"])
    unknown = run_cli(tmp_path, "keys", "revoke", "no-such-key")

    assert created.returncode == 0, created.stderr
    assert key["tenant"] == "acme"
    assert json.loads(listed.stdout)["secret_id"] == key["secret_id"]
    assert key["secret_password"] not in listed.stdout
    assert revoked.returncode == 0
    assert revoked_again.returncode == 1
    assert "already revoked" in revoked_again.stdout
    assert unknown.returncode == 1
    assert "No key with id no-such-key" in unknown.stdout


def test_wrong_master_key_is_refused(tmp_path: Path) -> None:
    first_key = base64.b64encode(b"a" * 32).decode()
    other_key = base64.b64encode(b"b" * 32).decode()
    assert run_cli(tmp_path, "migrate").returncode == 0
    assert run_cli(tmp_path, "keys", "create", master_key=first_key).returncode == 0

    refused = run_cli(tmp_path, "keys", "create", master_key=other_key)

    assert refused.returncode == 2
    assert "Wrong master key" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_short_master_key_is_refused(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "migrate").returncode == 0
    refused = run_cli(tmp_path, "keys", "create", master_key="c2hvcnQ=")

    assert refused.returncode == 2
    assert "has 5 bytes" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_invalid_setting_is_one_line(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "keys", "list", extra_env={"VINCULO_LOGIN_LEASE_SECONDS": "3"})

    assert refused.returncode == 2
    assert "Invalid setting VINCULO_LOGIN_LEASE_SECONDS" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_production_needs_master_key(tmp_path: Path) -> None:
    production = {"VINCULO_MODE": "production"}
    assert run_cli(tmp_path, "migrate", extra_env=production).returncode == 0
    refused = run_cli(tmp_path, "keys", "create", extra_env=production)

    assert refused.returncode == 2
    assert "VINCULO_MASTER_KEY" in refused.stderr
    assert not (tmp_path / "master.key").exists()


def seed_totals(output: str) -> dict[str, int]:
    """Read the counts from the summary line of `vinculo sandbox seed`."""
    summary = next(line for line in output.splitlines() if line.startswith("Seeded "))
    counts = {"links": int(re.search(r"Seeded ([\d,]+) links", summary)[1].replace(",", ""))}  # type: ignore[index]
    for name in ("new", "skipped as complete", "accounts", "transactions", "balances", "owners"):
        counts[name] = int(re.search(rf"([\d,]+) {name}", summary)[1].replace(",", ""))  # type: ignore[index]
    return counts


async def count_stored(data_dir: Path, key: dict[str, str]) -> dict[str, int]:
    """Count the links and data of `key`'s tenant through the API."""
    settings = Settings(data_dir=data_dir, api_key_cache_seconds=0)
    app = create_app(settings)
    counts: dict[str, int] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        auth = (key["secret_id"], key["secret_password"])
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=auth
        ) as client:
            links = (await client.get("/api/links/", params={"page_size": "1000"})).json()
            counts["links"] = links["count"]
            for resource in ("accounts", "transactions", "balances", "owners"):
                counts[resource] = 0
                for link in links["results"]:
                    response = await client.get(
                        f"/api/{resource}/", params={"link": link["id"], "page_size": "1"}
                    )
                    assert response.status_code == 200, response.text
                    counts[resource] += response.json()["count"]
    finally:
        app.context.database.close()
    return counts


def test_seed_data_visible_to_tenant_key(tmp_path: Path) -> None:
    seeded = run_cli(
        tmp_path,
        *("sandbox", "seed", "--links", "3", "--tenant", "acme", "--months", "2"),
        *("--institution", "erebor_mx_retail", "--institution", "gringotts_co_retail"),
    )
    assert seeded.returncode == 0, seeded.stderr
    totals = seed_totals(seeded.stdout)
    created = run_cli(tmp_path, "keys", "create", "--tenant", "acme", "--json")
    key = json.loads(created.stdout)

    stored = asyncio.run(count_stored(tmp_path, key))

    assert "Database: sqlite:///" in seeded.stderr
    assert totals["links"] == 3
    assert totals["new"] == 3
    assert totals["transactions"] > 0
    for name in ("links", "accounts", "transactions", "balances", "owners"):
        assert stored[name] == totals[name], name


def test_seed_again_skips_links(tmp_path: Path) -> None:
    arguments = ("sandbox", "seed", "--links", "2", "--months", "1", "--workers", "0")
    first = run_cli(tmp_path, *arguments)
    second = run_cli(tmp_path, *arguments)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert seed_totals(second.stdout)["skipped as complete"] == 2
    assert seed_totals(second.stdout)["transactions"] == 0


def test_seed_prints_sandbox_key(tmp_path: Path) -> None:
    seeded = run_cli(tmp_path, "sandbox", "seed", "--links", "1", "--months", "1")

    assert seeded.returncode == 0, seeded.stderr
    assert "Sandbox API key" in seeded.stdout


def test_seed_rejected_in_production(tmp_path: Path) -> None:
    refused = run_cli(
        tmp_path,
        *("sandbox", "seed", "--links", "1"),
        master_key=base64.b64encode(b"k" * 32).decode(),
        extra_env={"VINCULO_MODE": "production"},
    )

    assert refused.returncode == 2
    assert "runs only in sandbox mode" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "vinculo.db").exists()


def test_seed_rejects_non_bank(tmp_path: Path) -> None:
    refused = run_cli(tmp_path, "sandbox", "seed", "--links", "1", "--institution", "planet_mx_gig")

    assert refused.returncode == 2
    assert "only banks" in refused.stderr
    assert "Traceback" not in refused.stderr
