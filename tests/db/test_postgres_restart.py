"""PostgreSQL restarted under write load: no acknowledged write lost, 503 during the outage.

Writers register links through a real `vinculo serve` while `pg_ctlcluster <version> <cluster>
restart` stops the cluster that serves the test database (a fast shutdown, which ends every
connection) and starts it again. Every response must be 201, or 503 with `Retry-After` and a
Belvo error list, never 500. Once the cluster is back, every link acknowledged with 201 must
still be there. A request that fails below HTTP (a reset connection) is not acknowledged, so
it is not counted as lost.

The restart ends every connection of this test session too, such as the one that empties the
shared migrated database. So the test carries the `restarts_postgres` marker, which
tests/conftest.py orders after every other test, and it renews the session's maintenance
connection before it ends. It needs `pg_ctlcluster` (Debian's postgresql-common) and root or
the cluster's owner. Without them it skips, but with `CI=true` it fails. It also skips, even
with `CI=true`, while clients outside this test session use other databases of the cluster.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import asyncpg
import httpx
import pytest
from sqlalchemy.engine.url import make_url

from tests.links.calls import check_error, link_body
from tests.support.databases import (
    CONNECT_TIMEOUT_SECONDS,
    PostgresDatabases,
    driver_url,
    postgres_server_url,
    selected_database,
    shown_url,
)
from tests.support.server import LiveServer, start_live_server
from vinculo.wire.handlers import RETRY_AFTER_SECONDS

pytestmark = [
    pytest.mark.skipif(
        selected_database() != "postgresql",
        reason="restarts PostgreSQL; runs with VINCULO_TEST_DATABASE=postgresql",
    ),
    pytest.mark.restarts_postgres,
]

WRITERS = 8
LOAD_BEFORE_RESTART_SECONDS = 1.5
LOAD_AFTER_RESTART_SECONDS = 2.0
# Keeps a writer from spinning while every request fails fast.
PAUSE_AFTER_FAILURE_SECONDS = 0.05
VERIFY_CONCURRENCY = 8
# Upper bounds that keep a broken server or cluster from hanging the suite.
HTTP_TIMEOUT_SECONDS = 15.0
PG_CTLCLUSTER_TIMEOUT_SECONDS = 60.0
ACCEPT_TIMEOUT_SECONDS = 30.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_POSTGRES_PORT = 5432


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster as `pg_lsclusters` lists it."""

    version: str
    name: str


@dataclass
class Attempt:
    """One registration request with its response, or the transport error that replaced it."""

    username: str
    started: float
    ended: float
    response: httpx.Response | None = None
    transport_error: str | None = None


@dataclass
class Outage:
    """When the restart command ran and when PostgreSQL accepted connections again
    (`time.monotonic()` values)."""

    restart_started: float
    accepting_again: float


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip the test, or fail it when `CI=true`, where PostgreSQL must be restartable."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, where the PostgreSQL restart test must run)")
    pytest.skip(reason)


def find_cluster(server_url: str) -> Cluster:
    """Return the local cluster that serves `server_url`, or skip (fail in CI) if this process
    cannot restart it with `pg_ctlcluster`."""
    url = make_url(server_url)
    if url.host not in LOCAL_HOSTS:
        skip_unless_ci(
            f"PostgreSQL at {shown_url(server_url)} is not on this machine, "
            "so pg_ctlcluster cannot restart it"
        )
    for command in ("pg_lsclusters", "pg_ctlcluster"):
        if shutil.which(command) is None:
            skip_unless_ci(f"{command} is not on PATH: install postgresql-common")

    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        skip_unless_ci(
            f"pg_lsclusters failed with exit status {listing.returncode}: {listing.stderr.strip()}"
        )
    port = str(url.port or DEFAULT_POSTGRES_PORT)
    for line in listing.stdout.splitlines():
        # Columns: version, cluster, port, status, owner, data directory, log file.
        fields = line.split()
        if len(fields) < 5 or fields[2] != port:
            continue
        version, name, _, status, owner = fields[:5]
        if status != "online":
            skip_unless_ci(f"cluster {version} {name} on port {port} is {status}, not online")
        if os.geteuid() != 0 and pwd.getpwnam(owner).pw_uid != os.geteuid():
            skip_unless_ci(f"restarting cluster {version} {name} needs root or the user {owner}")
        return Cluster(version, name)
    skip_unless_ci(f"pg_lsclusters lists no cluster on port {port}:\n{listing.stdout}")


async def run_pg_ctlcluster(cluster: Cluster, action: str) -> None:
    """Run `pg_ctlcluster <version> <cluster> <action>` and check that it succeeded."""
    command = ["pg_ctlcluster", cluster.version, cluster.name, action]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), PG_CTLCLUSTER_TIMEOUT_SECONDS)
    assert process.returncode == 0, (
        f"{' '.join(command)} failed with exit status {process.returncode}:\n"
        f"{output.decode(errors='replace')}"
    )


async def wait_until_accepting(server_url: str) -> bool:
    """Connect to PostgreSQL until it accepts a connection; return False after
    `ACCEPT_TIMEOUT_SECONDS`."""
    deadline = time.monotonic() + ACCEPT_TIMEOUT_SECONDS
    while True:
        try:
            connection = await asyncpg.connect(driver_url(server_url), timeout=1)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)
            continue
        await connection.close()
        return True


async def bring_back(cluster: Cluster, server_url: str) -> None:
    """Wait until PostgreSQL accepts connections, and start the cluster if it never does."""
    if await wait_until_accepting(server_url):
        return
    # A restart that failed half way leaves the cluster stopped, and every later test and
    # every other user of this machine needs it.
    await run_pg_ctlcluster(cluster, "start")
    accepting = await wait_until_accepting(server_url)
    assert accepting, f"PostgreSQL at {shown_url(server_url)} did not accept connections"


async def postmaster_start_time(server_url: str) -> datetime:
    connection = await asyncpg.connect(driver_url(server_url), timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        started: datetime = await connection.fetchval("SELECT pg_postmaster_start_time()")
    finally:
        await connection.close()
    return started


async def databases_used_elsewhere(server_url: str) -> list[str]:
    """Return the databases that clients outside this test session have connections to.

    `PostgresDatabases` names every database of this session `vinculo_test_<pytest pid>_...`.
    Connections to the maintenance database of `server_url` are not counted, because every
    test session keeps one there.
    """
    connection = await asyncpg.connect(driver_url(server_url), timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        rows = await connection.fetch(
            "SELECT DISTINCT datname FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND datname <> current_database() "
            "AND NOT starts_with(datname, $1)",
            f"vinculo_test_{os.getpid()}_",
        )
    finally:
        await connection.close()
    return sorted(row["datname"] for row in rows)


async def register_until_stopped(
    client: httpx.AsyncClient, writer: int, stop: asyncio.Event, attempts: list[Attempt]
) -> None:
    """Register links with new usernames, one request at a time, until `stop` is set."""
    number = 0
    while not stop.is_set():
        number += 1
        username = f"restart-{writer}-{number}"
        started = time.monotonic()
        try:
            response = await client.post("/api/links/", json=link_body(username))
        except httpx.TransportError as exc:
            error = f"{type(exc).__name__}: {exc}"
            attempts.append(Attempt(username, started, time.monotonic(), transport_error=error))
            await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)
            continue
        attempts.append(Attempt(username, started, time.monotonic(), response=response))
        if response.status_code != 201:
            await asyncio.sleep(PAUSE_AFTER_FAILURE_SECONDS)


async def write_through_restart(
    client: httpx.AsyncClient, cluster: Cluster, server_url: str
) -> tuple[list[Attempt], Outage]:
    """Keep `WRITERS` writers registering links before, during and after a cluster restart."""
    attempts: list[Attempt] = []
    stop = asyncio.Event()
    writers = [
        asyncio.create_task(register_until_stopped(client, writer, stop, attempts))
        for writer in range(WRITERS)
    ]
    try:
        await asyncio.sleep(LOAD_BEFORE_RESTART_SECONDS)
        restart_started = time.monotonic()
        await run_pg_ctlcluster(cluster, "restart")
        accepting = await wait_until_accepting(server_url)
        assert accepting, f"PostgreSQL at {shown_url(server_url)} did not come back"
        outage = Outage(restart_started, time.monotonic())
        await asyncio.sleep(LOAD_AFTER_RESTART_SECONDS)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    return attempts, outage


def describe(attempts: list[Attempt], outage: Outage) -> str:
    """Count the outcomes of `attempts` by phase: before, during and after the outage."""
    counts: dict[tuple[str, str], int] = {}
    for attempt in attempts:
        if attempt.ended < outage.restart_started:
            phase = "before"
        elif attempt.started >= outage.accepting_again:
            phase = "after"
        else:
            phase = "during"
        if attempt.response is not None:
            outcome = str(attempt.response.status_code)
        else:
            outcome = (attempt.transport_error or "").split(":")[0]
        counts[phase, outcome] = counts.get((phase, outcome), 0) + 1
    seconds = outage.accepting_again - outage.restart_started
    lines = [f"outage: {seconds:.2f} s from the restart command until PostgreSQL accepted"]
    lines += [f"{phase} {outcome}: {count}" for (phase, outcome), count in sorted(counts.items())]
    return "\n".join(lines)


async def list_link_ids(client: httpx.AsyncClient) -> tuple[int, list[str]]:
    """Return the `count` of the link list and the ids on all of its pages."""
    response = await client.get("/api/links/", params={"page_size": "1000"})
    assert response.status_code == 200, response.text
    page = response.json()
    count: int = page["count"]
    ids = [link["id"] for link in page["results"]]
    while page["next"] is not None:
        response = await client.get(page["next"])
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [link["id"] for link in page["results"]]
    return count, ids


async def unreadable_links(client: httpx.AsyncClient, link_ids: list[str]) -> list[str]:
    """Fetch each link and describe each one that is not returned with status 200."""
    semaphore = asyncio.Semaphore(VERIFY_CONCURRENCY)

    async def fetch(link_id: str) -> str | None:
        async with semaphore:
            response = await client.get(f"/api/links/{link_id}/")
        if response.status_code == 200 and response.json()["id"] == link_id:
            return None
        return f"{link_id}: {response.status_code} {response.text}"

    results = await asyncio.gather(*(fetch(link_id) for link_id in link_ids))
    return [result for result in results if result is not None]


@pytest.fixture
def cluster() -> Cluster:
    return find_cluster(postgres_server_url())


@pytest.fixture
def server(cluster: Cluster, empty_database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """`vinculo serve` on a database of its own, so that the test counts only its own links."""
    live = start_live_server(tmp_path, database_url=empty_database_url)
    try:
        yield live
    finally:
        live.stop()


async def test_restart_loses_no_acknowledged_write(
    server: LiveServer, cluster: Cluster, postgres_databases: PostgresDatabases
) -> None:
    server_url = postgres_server_url()
    others = await databases_used_elsewhere(server_url)
    if others:
        # Skipped even with CI=true: the cluster works, but restarting it would break the
        # other clients, such as a second test run on the same machine.
        pytest.skip(
            f"clients outside this test session use {', '.join(others)}, "
            "and a PostgreSQL restart would break them"
        )
    started_before = await postmaster_start_time(server_url)

    async with httpx.AsyncClient(
        base_url=server.url,
        auth=(server.secret_id, server.secret_password),
        timeout=HTTP_TIMEOUT_SECONDS,
    ) as client:
        try:
            attempts, outage = await write_through_restart(client, cluster, server_url)
        finally:
            await bring_back(cluster, server_url)
            # The restart ended the session's maintenance connection, which later drops
            # this test's database and every other database of the session.
            postgres_databases.connect()
        summary = describe(attempts, outage)
        # Shown with `pytest -rP`, and with every failure.
        print(summary)
        acknowledged = [
            (attempt.started, attempt.response.json()["id"])
            for attempt in attempts
            if attempt.response is not None and attempt.response.status_code == 201
        ]
        acknowledged_ids = [link_id for _, link_id in acknowledged]
        recovered = [
            link_id for started, link_id in acknowledged if started >= outage.accepting_again
        ]
        unavailable = [
            attempt.response
            for attempt in attempts
            if attempt.response is not None and attempt.response.status_code == 503
        ]
        unexpected = [
            f"{attempt.username}: {attempt.response.status_code} {attempt.response.text}"
            for attempt in attempts
            if attempt.response is not None and attempt.response.status_code not in (201, 503)
        ]
        unreadable = await unreadable_links(client, acknowledged_ids)
        count, listed_ids = await list_link_ids(client)

    assert await postmaster_start_time(server_url) > started_before, "PostgreSQL did not restart"
    assert unexpected == [], summary
    for response in unavailable:
        check_error(response, status=503, code="service_unavailable")
        assert response.headers.get("retry-after") == str(RETRY_AFTER_SECONDS), response.headers
    assert recovered, f"no write succeeded after the restart\n{summary}"
    assert len(set(acknowledged_ids)) == len(acknowledged_ids), summary
    assert unreadable == [], summary
    assert set(acknowledged_ids) - set(listed_ids) == set(), summary
    assert count == len(listed_ids)
    # A write whose response was lost may have committed, so the list may hold more links.
    assert len(acknowledged_ids) <= count <= len(attempts), summary
    assert server.process.poll() is None, server.log_text()
    assert "request.failed" not in server.log_text(), summary
