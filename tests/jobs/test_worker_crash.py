"""`kill -9` of `vinculo worker` in the middle of refreshes and webhook deliveries.

A real `vinculo serve` registers recurrent links on a fresh PostgreSQL database, and `vinculo
worker` processes run their refreshes against a slow sandbox bank and deliver the webhooks to a
slow local receiver. The test kills the worker with SIGKILL while it runs refresh jobs and
starts a new one, several times. Then it moves the sandbox clock so that every link is due
again, and kills the worker during those recurrent refreshes too.

In the end every link must have been refreshed once per round, and no job may be left in the
queue or failed. No transaction, account or owner may be stored twice, and each refresh must
have written its events once. The receiver must have received every event at least once, each
`webhook-id` always with the same body and a valid signature. The last worker must stop on
SIGTERM.

The server checks for due webhooks only once an hour here, so the workers make every
delivery, and deliveries cut off by a kill must be taken over by the next worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.links.calls import link_body
from tests.support.databases import CONNECT_TIMEOUT_SECONDS, driver_url, selected_database
from tests.support.server import LiveServer, start_live_server
from tests.webhooks.calls import verify_standard_webhook
from tests.webhooks.receiver import ReceivedRequest, Receiver

pytestmark = pytest.mark.skipif(
    selected_database() != "postgresql",
    reason="vinculo worker runs only on PostgreSQL; runs with VINCULO_TEST_DATABASE=postgresql",
)

LINKS = 30
REGISTER_CONCURRENCY = 8
AUTHORIZATION = "Bearer crash-test"
HISTORICAL_TYPES = ("ACCOUNTS", "OWNERS", "TRANSACTIONS")

KILLS_IN_HISTORICAL_ROUND = 3
KILLS_IN_RECURRENT_ROUND = 2
# A kill comes this long (seconds, drawn at random) after the worker starts its first job,
# at a moment when it runs jobs and a delivery waits for the receiver's response. If no such
# moment comes within `KILL_WAIT_FOR_DELIVERY_SECONDS`, the kill needs only running jobs.
KILL_AFTER_SECONDS = (0.2, 1.2)
KILL_WAIT_FOR_DELIVERY_SECONDS = 2.0

# A refresh took about 0.9 s with a 0.3 s bank in this test's worker logs (PostgreSQL 15,
# 2 vCPUs). So with 5 jobs at a time, the 30 refreshes of a round keep a worker busy for about
# 5 s, and every kill finds jobs running.
WORKER_ENV = {
    "VINCULO_SANDBOX_FETCH_DELAY_SECONDS": "0.3",
    "VINCULO_WORKER_CONCURRENCY": "5",
    "VINCULO_WORKER_STALLED_SECONDS": "2",
    "VINCULO_SCHEDULER_POLL_SECONDS": "0.5",
    "VINCULO_WEBHOOK_POLL_SECONDS": "0.2",
    "VINCULO_WEBHOOK_TIMEOUT_SECONDS": "2",
    "VINCULO_WEBHOOK_LEASE_SECONDS": "3",
    "VINCULO_LOG_LEVEL": "INFO",
}
SERVER_ENV = {
    "VINCULO_LOG_LEVEL": "INFO",
    # One round at startup, when there is nothing to send, and then none during the test.
    "VINCULO_WEBHOOK_POLL_SECONDS": "3600",
}
# The receiver delays each response this long, so kills also cut off deliveries.
RECEIVER_DELAY_SECONDS = 0.1

# A refresh cut off by a kill leaves the link's login lease held. The retried job takes it
# over, and a dropped duplicate job releases it, so no link may wait for the lease to expire
# (5 minutes) or be postponed: a queue that stays empty this long while links are still
# behind is a failure. It is longer than a scheduler poll (0.5 s) plus the second that a
# worker may take to read a moved clock.
QUIET_LIMIT_SECONDS = 2.5
NEXT_ROUND = "P8D"

START_RUNNING_TIMEOUT_SECONDS = 15.0
ROUND_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2
# What a failure message shows of each worker's log: its last lines, and of each line its
# start and its end, where a logged exception's message is.
LOG_TAIL_LINES = 12
LOG_ERROR_LINES = 5
LOG_LINE_ENDS_CHARACTERS = 250


class SlowReceiver(Receiver):
    """A `Receiver` that waits `delay` seconds before each response and sets aside requests
    whose body arrived cut short (a sender killed while writing)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self._delay = delay
        self.truncated: list[ReceivedRequest] = []
        self.in_flight = 0
        self._report_error = self._server.handle_error
        self._server.handle_error = self._handle_error  # type: ignore[method-assign]

    def _handle_error(self, request: Any, client_address: Any) -> None:
        # A killed worker leaves the response with no one to read it, which is expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            self._report_error(request, client_address)

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        lowered = {name.lower(): value for name, value in headers.items()}
        if len(body) != int(lowered.get("content-length") or 0):
            with self._lock:
                self.truncated.append(ReceivedRequest(method, path, lowered, body))
            return 400
        status = super()._record(method, path, headers, body)
        with self._lock:
            self.in_flight += 1
        time.sleep(self._delay)
        with self._lock:
            self.in_flight -= 1
        return status


def shorten(line: str) -> str:
    if len(line) <= 2 * LOG_LINE_ENDS_CHARACTERS:
        return line
    return f"{line[:LOG_LINE_ENDS_CHARACTERS]} … {line[-LOG_LINE_ENDS_CHARACTERS:]}"


@dataclass
class Kill:
    """One SIGKILL: which worker, after how long, and what it was doing then."""

    round_name: str
    worker: int
    alive_seconds: float
    jobs_running: int
    deliveries_in_flight: int


@dataclass
class Workers:
    """The `vinculo worker` processes of the test, each logging to its own file."""

    directory: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)

    def start(self) -> subprocess.Popen[bytes]:
        number = len(self.processes) + 1
        with (self.directory / f"worker-{number}.log").open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "vinculo", "worker"],
                env=self.env,
                cwd=self.directory,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        self.started_at.append(time.monotonic())
        return process

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def kill_current(self) -> float:
        """SIGKILL the newest worker; return how long it ran."""
        process = self.current
        process.kill()
        process.wait()
        return time.monotonic() - self.started_at[-1]

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def log_report(self) -> str:
        """Return the first errors that the workers logged and the end of each log."""
        errors = self.log_lines_with("level=error")[:LOG_ERROR_LINES]
        parts = ["--- first errors ---", *errors] if errors else []
        for number in range(1, len(self.processes) + 1):
            text = (self.directory / f"worker-{number}.log").read_text(errors="replace")
            lines = [shorten(line) for line in text.splitlines()[-LOG_TAIL_LINES:]]
            parts.append(f"--- worker-{number}.log (end) ---\n" + "\n".join(lines))
        return "\n".join(parts)

    def log_lines_with(self, text: str) -> list[str]:
        """Return the workers' log lines that contain `text`, each cut to a length."""
        found = []
        for number in range(1, len(self.processes) + 1):
            log = (self.directory / f"worker-{number}.log").read_text(errors="replace")
            found += [
                f"worker-{number}: {shorten(line)}" for line in log.splitlines() if text in line
            ]
        return found


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    slow = SlowReceiver(RECEIVER_DELAY_SECONDS)
    slow.start()
    try:
        yield slow
    finally:
        slow.stop()


@pytest.fixture
def server(tmp_path: Path, empty_database_url: str) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path, SERVER_ENV, database_url=empty_database_url)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def workers(tmp_path: Path, server: LiveServer) -> Iterator[Workers]:
    """Worker processes on the server's database. They share its data folder, and so its
    master key file, and are all killed when the test ends, whatever its outcome."""
    assert server.database_url is not None
    env = {
        **os.environ,
        "VINCULO_DATABASE_URL": server.database_url,
        "VINCULO_DATA_DIR": str(server.data_dir),
        **WORKER_ENV,
    }
    env.pop("VINCULO_MASTER_KEY", None)
    env.pop("VINCULO_JOBS_IN_SERVER", None)
    processes = Workers(tmp_path, env)
    try:
        yield processes
    finally:
        processes.kill_all()


@pytest.fixture
async def database(server: LiveServer) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the server's database, for reading its state."""
    assert server.database_url is not None
    connection = await asyncpg.connect(
        driver_url(server.database_url), timeout=CONNECT_TIMEOUT_SECONDS
    )
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.url, auth=(server.secret_id, server.secret_password), timeout=30
    ) as client:
        yield client


async def register_links(api: httpx.AsyncClient, count: int) -> list[str]:
    """Register `count` recurrent links, each due for its historical update; return their ids."""
    limit = asyncio.Semaphore(REGISTER_CONCURRENCY)

    async def register(number: int) -> str:
        body = link_body(f"crash_user_{number:02d}", access_mode="recurrent")
        async with limit:
            response = await api.post("/api/links/", json=body)
        assert response.status_code == 201, response.text
        link_id: str = response.json()["id"]
        return link_id

    return list(await asyncio.gather(*(register(number) for number in range(count))))


async def move_clock(api: httpx.AsyncClient, advance: str) -> None:
    response = await api.post("/sandbox/clock/", json={"advance": advance})
    assert response.status_code == 200, response.text


async def start_worker(database: asyncpg.Connection, workers: Workers) -> int:
    """Start a worker; return an id below its Procrastinate worker id and above all earlier
    ones, to tell its jobs apart."""
    # Procrastinate gives workers increasing ids, and sets `worker_id` to NULL on the jobs of
    # a worker row that it deletes, so no job names a worker id above the current maximum.
    floor = await database.fetchval("SELECT coalesce(max(id), 0) FROM procrastinate_workers")
    workers.start()
    return int(floor)


async def running_jobs(database: asyncpg.Connection, *, worker_after: int) -> int:
    """Count the jobs in progress on workers registered after the id `worker_after`."""
    value = await database.fetchval(
        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' AND worker_id > $1",
        worker_after,
    )
    return int(value)


async def kill_when_running(
    database: asyncpg.Connection,
    workers: Workers,
    receiver: SlowReceiver,
    *,
    worker_after: int,
    delay: float,
    round_name: str,
) -> Kill:
    """Wait until the newest worker runs jobs, then `delay` seconds, and SIGKILL it at a moment
    when it runs jobs and, if that comes soon enough, a delivery waits for its response."""
    process = workers.current
    number = len(workers.processes)
    deadline = time.monotonic() + START_RUNNING_TIMEOUT_SECONDS
    while not await running_jobs(database, worker_after=worker_after):
        assert process.poll() is None, (
            f"worker-{number} exited with status {process.returncode}\n{workers.log_report()}"
        )
        assert time.monotonic() < deadline, (
            f"worker-{number} ran no job within {START_RUNNING_TIMEOUT_SECONDS} s "
            f"({round_name} round)\n{workers.log_report()}"
        )
        await asyncio.sleep(0.05)
    await asyncio.sleep(delay)
    settle_for_jobs_at = time.monotonic() + KILL_WAIT_FOR_DELIVERY_SECONDS
    deadline = settle_for_jobs_at + START_RUNNING_TIMEOUT_SECONDS
    while True:
        running = await running_jobs(database, worker_after=worker_after)
        in_flight = receiver.in_flight
        if running and (in_flight or time.monotonic() >= settle_for_jobs_at):
            alive = workers.kill_current()
            return Kill(round_name, number, round(alive, 2), running, in_flight)
        assert time.monotonic() < deadline, (
            f"worker-{number} ran no more jobs ({round_name} round)\n{workers.log_report()}"
        )
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class RoundState:
    """What a round still waits for: links not yet refreshed, jobs not finished (id, status,
    worker id, lock, queueing lock, attempts) and deliveries not yet made."""

    links_behind: list[str]
    unfinished_jobs: list[tuple[Any, ...]]
    pending_deliveries: int

    @property
    def done(self) -> bool:
        return not self.links_behind and not self.unfinished_jobs and not self.pending_deliveries


async def round_state(database: asyncpg.Connection, refreshes: int) -> RoundState:
    behind = await database.fetch(
        "SELECT id FROM links WHERE refresh_count < $1 OR historical_update_pending ORDER BY id",
        refreshes,
    )
    jobs = await database.fetch(
        "SELECT id, status, worker_id, lock, queueing_lock, attempts FROM procrastinate_jobs "
        "WHERE status IN ('todo', 'doing') ORDER BY id"
    )
    deliveries = await database.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"
    )
    return RoundState([row["id"] for row in behind], [tuple(job) for job in jobs], deliveries)


async def finish_round(database: asyncpg.Connection, workers: Workers, refreshes: int) -> None:
    """Wait until every link has had `refreshes` refreshes, the queue is empty and every
    delivery is done; fail when the queue stays empty while links are still behind."""
    deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
    quiet_since: float | None = None
    while True:
        state = await round_state(database, refreshes)
        if state.done:
            return
        assert workers.current.poll() is None, (
            f"the last worker exited with status {workers.current.returncode}\n"
            f"{workers.log_report()}"
        )
        assert time.monotonic() < deadline, (
            f"round {refreshes} not done within {ROUND_TIMEOUT_SECONDS} s: "
            f"{state}\n{workers.log_report()}"
        )
        now = time.monotonic()
        if state.unfinished_jobs or not state.links_behind:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        else:
            assert now - quiet_since < QUIET_LIMIT_SECONDS, (
                f"round {refreshes}: the queue is empty but links are behind: "
                f"{state}\n{workers.log_report()}"
            )
        await asyncio.sleep(POLL_SECONDS)


async def refreshed_at(database: asyncpg.Connection) -> dict[str, datetime]:
    rows = await database.fetch("SELECT id, last_refreshed_at FROM links")
    return {row["id"]: row["last_refreshed_at"] for row in rows}


async def duplicates(database: asyncpg.Connection, table: str, key: str) -> list[Any]:
    # `table` and `key` are constants of this file, never input.
    statement = (
        f"SELECT link_id, {key}, count(*) AS copies FROM {table} "  # noqa: S608
        f"GROUP BY link_id, {key} HAVING count(*) > 1"
    )
    return [tuple(row) for row in await database.fetch(statement)]


async def test_worker_kills_lose_and_duplicate_nothing(
    server: LiveServer,
    workers: Workers,
    receiver: SlowReceiver,
    database: asyncpg.Connection,
    api: httpx.AsyncClient,
) -> None:
    rng = random.Random()
    response = await api.post(
        "/admin/webhooks/", json={"url": receiver.url, "authorization": AUTHORIZATION}
    )
    assert response.status_code == 201, response.text
    secret = response.json()["secret"]
    link_ids = await register_links(api, LINKS)
    kills: list[Kill] = []

    # Round 1: the historical update of every link, with a worker killed several times.
    for _ in range(KILLS_IN_HISTORICAL_ROUND):
        floor = await start_worker(database, workers)
        kill = await kill_when_running(
            database,
            workers,
            receiver,
            worker_after=floor,
            delay=rng.uniform(*KILL_AFTER_SECONDS),
            round_name="historical",
        )
        kills.append(kill)
    floor = await start_worker(database, workers)
    await finish_round(database, workers, refreshes=1)
    first_refreshes = await refreshed_at(database)

    # Round 2: every link due again for a recurrent refresh. The worker that finished round 1
    # is killed first, then the workers started after it.
    await move_clock(api, NEXT_ROUND)
    for kill_number in range(KILLS_IN_RECURRENT_ROUND):
        if kill_number > 0:
            floor = await start_worker(database, workers)
        kill = await kill_when_running(
            database,
            workers,
            receiver,
            worker_after=floor,
            delay=rng.uniform(*KILL_AFTER_SECONDS),
            round_name="recurrent",
        )
        kills.append(kill)
    await start_worker(database, workers)
    await finish_round(database, workers, refreshes=2)
    second_refreshes = await refreshed_at(database)

    # The last worker must stop cleanly on SIGTERM once its jobs are done.
    last = workers.current
    last.send_signal(signal.SIGTERM)
    try:
        exit_status = last.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        exit_status = None
    context = f"kills: {kills}"
    assert exit_status == 0, f"SIGTERM: exit status {exit_status}; {context}"
    assert workers.log_lines_with("level=error") == [], context

    # Every link was refreshed once in each round.
    assert set(first_refreshes) == set(link_ids)
    links = await database.fetch(
        "SELECT id, refresh_count, historical_update_pending, last_refreshed_at, status FROM links"
    )
    for link in links:
        assert link["refresh_count"] == 2, (link, context)
        assert link["historical_update_pending"] is False, (link, context)
        assert link["status"] == "valid", (link, context)
        assert first_refreshes[link["id"]] is not None, (link, context)
        assert second_refreshes[link["id"]] > first_refreshes[link["id"]], (link, context)

    # No job is left in the queue or failed: the worker deletes the jobs that succeed.
    left_jobs = await database.fetch(
        "SELECT id, status, task_name, attempts, args FROM procrastinate_jobs ORDER BY id"
    )
    assert [tuple(job) for job in left_jobs] == [], context

    # Nothing was stored twice.
    assert await duplicates(database, "transactions", "account_id, internal_identification") == []
    assert await duplicates(database, "accounts", "internal_identification") == []
    assert await duplicates(database, "owners", "internal_identification") == []
    transactions = await database.fetchval("SELECT count(*) FROM transactions")
    assert transactions > 0

    # Each refresh wrote its events once: the historical update one per resource, and the
    # recurrent refresh one for the new transactions that 8 days bring.
    events = await database.fetch(
        "SELECT id, link_id, webhook_type, webhook_code, body FROM webhook_events"
    )
    per_kind = Counter((row["link_id"], row["webhook_type"], row["webhook_code"]) for row in events)
    for link_id in link_ids:
        for webhook_type in HISTORICAL_TYPES:
            assert per_kind[(link_id, webhook_type, "historical_update")] == 1, (
                link_id,
                webhook_type,
                context,
            )
    repeated = {kind: count for kind, count in per_kind.items() if count > 1}
    assert repeated == {}, context
    recurrent_links = {
        row["link_id"] for row in events if row["webhook_code"] == "new_transactions_available"
    }
    assert recurrent_links == set(link_ids), context

    # Every event reached the receiver, and each webhook-id always carried the same signed body.
    deliveries = await database.fetch("SELECT event_id, state FROM webhook_deliveries")
    assert {row["state"] for row in deliveries} == {"delivered"}
    received: dict[str, list[ReceivedRequest]] = defaultdict(list)
    for request in receiver.requests:
        received[request.headers["webhook-id"]].append(request)
    stored_bodies = {row["id"]: bytes(row["body"]) for row in events}
    assert set(stored_bodies) - set(received) == set(), context
    assert set(received) - set(stored_bodies) == set(), context
    # A kill while the receiver held a response left that attempt unrecorded, so a later
    # worker sent the same event again once the delivery's lease expired.
    redelivered = [event_id for event_id, requests in received.items() if len(requests) > 1]
    assert any(kill.deliveries_in_flight for kill in kills), context
    assert redelivered != [], context
    for event_id, requests in received.items():
        for request in requests:
            assert request.body == stored_bodies[event_id], (event_id, context)
            assert verify_standard_webhook(secret, request.headers, request.body), event_id
            assert request.headers["authorization"] == AUTHORIZATION
            assert json.loads(request.body)["webhook_id"] == event_id
