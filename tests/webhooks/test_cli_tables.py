"""The tables of `vinculo webhooks ...` printed to a pipe, where Rich would assume 80 columns."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

import httpx

from tests.conftest import TEST_MASTER_KEY
from tests.support.cli import run_vinculo
from tests.webhooks.calls import create_endpoint, delivery_round, fire
from tests.webhooks.receiver import Receiver
from vinculo.app import VinculoApp


def run_cli_on(app: VinculoApp, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run `vinculo` on `app`'s database with its stdout on a pipe, as a script reads it."""
    settings = app.context.settings
    env = {
        **os.environ,
        "VINCULO_DATA_DIR": str(settings.data_dir),
        "VINCULO_DATABASE_URL": settings.resolved_database_url,
        "VINCULO_MASTER_KEY": TEST_MASTER_KEY,
    }
    # Rich takes a pipe's width from COLUMNS when it is set, and 80 columns otherwise.
    env.pop("COLUMNS", None)
    return run_vinculo(env, *arguments)


async def test_deliveries_table_keeps_ids_whole(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver, link: dict[str, Any]
) -> None:
    endpoint = await create_endpoint(client, receiver.url)
    event_id = (await fire(client, link["id"]))["webhook_id"]
    assert await delivery_round(app) == 1

    printed = await asyncio.to_thread(run_cli_on, app, "webhooks", "deliveries")

    assert printed.returncode == 0, printed.stderr
    [row] = [line for line in printed.stdout.splitlines() if event_id in line]
    assert endpoint["id"] in row
    assert " 200 " in row
    assert "…" not in printed.stdout


async def test_endpoints_table_keeps_url_whole(
    app: VinculoApp, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    url = f"{receiver.url}?customer=a-long-query-string-that-does-not-fit-in-eighty-columns"
    endpoint = await create_endpoint(client, url)

    printed = await asyncio.to_thread(run_cli_on, app, "webhooks", "list")

    assert printed.returncode == 0, printed.stderr
    [row] = [line for line in printed.stdout.splitlines() if endpoint["id"] in line]
    assert url in row
    assert "…" not in printed.stdout
