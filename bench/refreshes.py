"""Benchmark the refreshes per second of one `vinculo worker` process, and its webhook
deliveries per second to a local receiver, on PostgreSQL.

The script recreates a PostgreSQL database, registers recurrent links in-process through the
same service function as `POST /api/links/`, and lets one worker run their historical updates.
Then each worker configuration (connector and fetch delay) gets one worker process, kept
running for its rounds. Each round moves the sandbox clock past the 7-day refresh rate, so
every link is due, and waits until every link has been refreshed. The first round after the
worker starts is reported apart. Deliveries are measured on a backlog written to the
outbox in one transaction, against a bare receiver, and compared with the same POSTs sent
without the database. See bench/README.md for how to run it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psycopg
from sqlalchemy.engine.url import make_url

from bench.links import free_port
from bench.transactions import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_NAME = "vinculo_bench_refreshes"
TENANT = "bench"
INSTITUTION = "erebor_mx_retail"
# Past the default refresh rate of 7 days, so that every recurrent link is due again.
CLOCK_STEP = "P8D"
STARTUP_SECONDS = 60
STOP_SECONDS = 30
POLL_SECONDS = 0.2
# A round in which no link is refreshed for this long has links that will not be refreshed
# while its worker runs.
STALL_SECONDS = 60
# Links registered at a time; registration waits for nothing but the database.
REGISTER_CONCURRENCY = 8
# How long a query of the script waits for a PostgreSQL server that refuses connections.
CONNECT_RETRY_SECONDS = 60


@dataclass(frozen=True)
class WorkerConfig:
    """One way of running the worker: which connector, and how long each bank response takes."""

    name: str
    module: str
    fetch_delay_seconds: float


@dataclass
class CpuSample:
    """CPU seconds used so far: by the whole machine, and by each process of interest."""

    wall: float
    machine_busy: float
    worker: float
    postgres: dict[int, float]
    own: float


@dataclass
class CpuUse:
    """CPU cores used on average over an interval, by part."""

    worker: float
    postgres: float
    own: float
    foreign: float


@dataclass
class RefreshRound:
    """One pass over every link by one worker process.

    `rate` is the refreshes finished per second from the first to the last, as the worker's
    log times them. `seconds_from_due` runs from the clock move to the last refresh, so it
    includes the scheduler's pick-up delay.
    """

    config: str
    round: int
    links: int
    refreshed: int
    stalled_links: int
    other_outcomes: dict[str, int]
    rate: float
    seconds_from_due: float
    worker_cpu_ms_per_refresh: float
    postgres_cpu_ms_per_refresh: float
    cpu: CpuUse
    load_average: tuple[float, float]


@dataclass
class DeliveryRound:
    """One backlog of webhook deliveries sent to the receiver, by the worker or the baseline."""

    sender: str
    round: int
    deliveries: int
    rate: float
    sender_cpu_ms_per_delivery: float
    postgres_cpu_ms_per_delivery: float
    cpu: CpuUse
    load_average: tuple[float, float]


@dataclass
class Environment:
    """The settings that every process of the run shares: database, keys and output folder."""

    server_url: str
    database_url: str
    data_dir: Path
    concurrency: int
    master_key: str = field(default_factory=lambda: b64encode(os.urandom(32)).decode())

    def variables(self, **extra: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("VINCULO_")}
        env.update(
            VINCULO_MODE="sandbox",
            VINCULO_DATABASE_URL=self.database_url,
            VINCULO_DATA_DIR=str(self.data_dir),
            VINCULO_MASTER_KEY=self.master_key,
            VINCULO_WORKER_CONCURRENCY=str(self.concurrency),
            VINCULO_LOG_FORMAT="json",
        )
        env.update(extra)
        return env


# --- processes and CPU accounting ------------------------------------------------------------


def machine_busy_seconds() -> float:
    """Return the CPU seconds that all cores spent outside idle and I/O wait since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_pids(env: Environment) -> list[int]:
    """Return the PostgreSQL server processes connected to the benchmark's database."""
    pids = query_value(
        env, "SELECT array_agg(pid) FROM pg_stat_activity WHERE datname = %s", DATABASE_NAME
    )
    return list(pids or [])


def sample_cpu(env: Environment, worker_pid: int) -> CpuSample:
    postgres = {}
    for pid in backend_pids(env):
        try:
            postgres[pid] = process_cpu_seconds(pid)
        except OSError:
            # The backend ended between the query and the read.
            continue
    return CpuSample(
        wall=time.monotonic(),
        machine_busy=machine_busy_seconds(),
        worker=process_cpu_seconds(worker_pid),
        postgres=postgres,
        own=own_cpu_seconds(),
    )


def cpu_between(start: CpuSample, end: CpuSample) -> tuple[CpuUse, float, float]:
    """Return the average cores used per part, and the worker's and PostgreSQL's CPU seconds.

    A backend that connected during the interval counts from zero; one that disconnected is
    lost, which the pools of a running worker make rare."""
    seconds = end.wall - start.wall
    worker = end.worker - start.worker
    postgres = sum(cpu - start.postgres.get(pid, 0.0) for pid, cpu in end.postgres.items())
    own = end.own - start.own
    busy = end.machine_busy - start.machine_busy
    use = CpuUse(
        worker=worker / seconds,
        postgres=postgres / seconds,
        own=own / seconds,
        foreign=max(0.0, busy - worker - postgres - own) / seconds,
    )
    return use, worker, postgres


def start_worker(env: Environment, config: WorkerConfig, log_path: Path) -> subprocess.Popen[bytes]:
    variables = env.variables(
        VINCULO_SANDBOX_FETCH_DELAY_SECONDS=str(config.fetch_delay_seconds),
        # The worker runs in the data folder, and `bench.refresh_worker` lives in the repository.
        PYTHONPATH=str(ROOT),
    )
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", config.module, *(["worker"] if config.module == "vinculo" else [])],
        cwd=env.data_dir,
        env=variables,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}; see {log_path}")
        if any(event.get("event") == "worker.started" for event in read_log(log_path)):
            return process
        time.sleep(POLL_SECONDS)
    stop(process)
    raise RuntimeError(f"worker did not start within {STARTUP_SECONDS} s; see {log_path}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_log(path: Path) -> list[dict[str, Any]]:
    """Return the JSON events of a worker's log; other lines (a traceback) are skipped."""
    events = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def event_time(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp()


# --- database set-up and in-process service calls --------------------------------------------


def recreate_database(env: Environment) -> None:
    with psycopg.connect(env.server_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE_NAME} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    subprocess.run(
        [sys.executable, "-m", "vinculo", "migrate"],
        cwd=env.data_dir,
        env=env.variables(),
        check=True,
        capture_output=True,
    )


def query_value(env: Environment, sql: str, *params: Any) -> Any:
    """Run one query and return the first column of its first row.

    Connection failures (too many clients, a server restart) are retried for up to
    `CONNECT_RETRY_SECONDS`."""
    deadline = time.monotonic() + CONNECT_RETRY_SECONDS
    while True:
        try:
            with psycopg.connect(env.database_url, autocommit=True) as connection:
                row = connection.execute(sql, params).fetchone()
            return None if row is None else row[0]
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def configure(env: Environment) -> Any:
    """Return the settings of the in-process service calls, with warnings logged to stderr."""
    from vinculo.config import Settings
    from vinculo.logging import configure_logging

    for name, value in env.variables(VINCULO_LOG_LEVEL="WARNING").items():
        if name.startswith("VINCULO_"):
            os.environ[name] = value
    settings = Settings()
    configure_logging(settings)
    return settings


def in_process(env: Environment) -> Any:
    """Build the context that the in-process service calls use."""
    from vinculo.app import build_context

    return build_context(configure(env))


async def register_links(env: Environment, count: int) -> None:
    """Register `count` recurrent links, each due at once for its historical update."""
    from vinculo.links.registration import register
    from vinculo.links.schemas import LinkRegisterRequest
    from vinculo.sandbox.seed import seed_principal

    context = in_process(env)
    try:
        principal = await seed_principal(context, TENANT)
        numbers = iter(range(count))

        async def register_next() -> None:
            for number in numbers:
                body = msgspec.convert(
                    {
                        "institution": INSTITUTION,
                        "username": f"bench_{number:05d}",
                        "password": "bench-password",
                        "access_mode": "recurrent",
                    },
                    LinkRegisterRequest,
                )
                await register(context, principal, body)

        await asyncio.gather(*(register_next() for _ in range(REGISTER_CONCURRENCY)))
    finally:
        await context.database.aclose()


async def move_clock(env: Environment) -> None:
    from vinculo.sandbox_api.schemas import ClockMoveRequest
    from vinculo.sandbox_api.service import move_clock as move

    context = in_process(env)
    try:
        await move(context, ClockMoveRequest(advance=CLOCK_STEP))
    finally:
        await context.database.aclose()


async def create_endpoint(env: Environment, url: str) -> None:
    from vinculo.webhooks.service import create_endpoint as create

    context = in_process(env)
    try:
        async with context.database.unit_of_work() as uow:
            tenant_id = await tenant_of(uow)
            await create(
                uow,
                context.vault,
                tenant_id,
                url=url,
                authorization=None,
                allow_private=True,
                now=context.clock.now(),
            )
    finally:
        await context.database.aclose()


async def tenant_of(uow: Any) -> str:
    from vinculo.tenants.repository import tenant_by_name

    row = await tenant_by_name(uow, TENANT)
    return str(row.id)


def sample_event_data() -> dict[str, Any]:
    """Return the data of a recurrent refresh's event, as `vinculo.refreshes.service` writes
    it."""
    return {"new_transactions": 12}


async def write_backlog(env: Environment, count: int) -> None:
    """Write `count` events to the outbox, each with one delivery to the bench endpoint, and
    make them due at the same moment by committing them together."""
    from vinculo.webhooks.service import enqueue_event

    context = in_process(env)
    try:
        link_id = str(query_value(env, "SELECT id FROM links LIMIT 1"))
        async with context.database.unit_of_work() as uow:
            tenant_id = await tenant_of(uow)
            now = context.clock.now()
            for _ in range(count):
                await enqueue_event(
                    uow,
                    tenant_id,
                    webhook_type="TRANSACTIONS",
                    webhook_code="new_transactions_available",
                    link_id=link_id,
                    external_id=None,
                    process_type="recurrent_update",
                    request_id=None,
                    data=sample_event_data(),
                    now=now,
                )
    finally:
        await context.database.aclose()


async def send_without_database(env: Environment, url: str, count: int) -> None:
    """Send `count` POSTs as the worker does (`send_attempt`, signed, `CLAIM_BATCH` at a time)
    but with the bodies built here, so no database work sits between them."""
    import uuid

    from vinculo.webhooks.delivery import new_http_client, send_attempt
    from vinculo.webhooks.payloads import WebhookPayload, encode_payload
    from vinculo.webhooks.repository import CLAIM_BATCH

    settings = configure(env)
    async with new_http_client(settings) as client:
        for start in range(0, count, CLAIM_BATCH):
            batch = []
            for _ in range(min(CLAIM_BATCH, count - start)):
                event_id = uuid.uuid4().hex
                body = encode_payload(
                    WebhookPayload(
                        webhook_id=event_id,
                        webhook_type="TRANSACTIONS",
                        webhook_code="new_transactions_available",
                        link_id=str(uuid.uuid4()),
                        request_id=None,
                        external_id=None,
                        process_type="recurrent_update",
                        data=sample_event_data(),
                    )
                )
                batch.append(
                    send_attempt(
                        client,
                        settings,
                        url=url,
                        event_id=event_id,
                        body=body,
                        secret="whsec_" + "0" * 32,
                        authorization=None,
                    )
                )
            outcomes = await asyncio.gather(*batch)
            failed = [outcome for outcome in outcomes if not outcome.delivered]
            if failed:
                raise RuntimeError(f"baseline POST failed: {failed[0]}")


# --- the measurements ------------------------------------------------------------------------


def wait_for(
    condition: Any, timeout: float, what: str, process: subprocess.Popen[bytes] | None
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL_SECONDS)


def refreshed_links(env: Environment, expected_count: int) -> int:
    return int(
        query_value(env, "SELECT count(*) FROM links WHERE refresh_count >= %s", expected_count)
    )


def wait_for_refreshes(
    env: Environment,
    process: subprocess.Popen[bytes],
    *,
    links: int,
    expected_count: int,
    timeout: float,
) -> tuple[CpuSample, int]:
    """Wait until `links` links have `expected_count` refreshes, or until none is added for
    `STALL_SECONDS`. Return the CPU sample taken when the last refresh was seen, and how many
    links were left."""
    deadline = time.monotonic() + timeout
    done, changed_at = -1, time.monotonic()
    sample = sample_cpu(env, process.pid)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode} during a round")
        count = refreshed_links(env, expected_count)
        now = time.monotonic()
        if count != done:
            done, changed_at = count, now
            sample = sample_cpu(env, process.pid)
        if done >= links:
            return sample, 0
        if now - changed_at > STALL_SECONDS:
            return sample, links - done
        if now > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s with {links - done} links left")
        time.sleep(POLL_SECONDS)


class RunningWorker:
    """The worker process of one configuration, kept running from round to round, as a
    deployed worker runs for days. The sandbox connector remembers each user's simulation
    between refreshes, which only a process that keeps running can reuse."""

    def __init__(self, env: Environment, config: WorkerConfig) -> None:
        self.env = env
        self.config = config
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = env.data_dir / "unused.log"

    def start(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        slug = self.config.name.replace(" ", "-").replace(",", "")
        self.log_path = self.env.data_dir / f"worker-{slug}-{self.starts}.log"
        self.process = start_worker(self.env, self.config, self.log_path)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def run_refresh_round(
    env: Environment,
    worker: RunningWorker,
    *,
    number: int,
    links: int,
    expected_count: int,
    move: bool,
    timeout: float,
) -> RefreshRound:
    """Make every link due (by moving the clock, unless `move` is false because they are due
    already), and measure `worker` until each link has `expected_count` refreshes. The worker
    is started if it does not run.

    Links whose refresh stops making progress are counted in `stalled_links`. The worker is
    then stopped, and a second one, not measured, finishes them so that the next round starts
    from the same state; the next round starts the worker again.
    """
    config = worker.config
    load_before = os.getloadavg()[0]
    process = worker.process or worker.start()
    log_path = worker.log_path
    start = sample_cpu(env, process.pid)
    due_at = time.time()
    try:
        if move:
            asyncio.run(move_clock(env))
        end, stalled = wait_for_refreshes(
            env, process, links=links, expected_count=expected_count, timeout=timeout
        )
    except BaseException:
        worker.stop()
        raise
    if stalled:
        worker.stop()
        print(
            f"{stalled} links made no progress for {STALL_SECONDS} s ({config.name}, round "
            f"{number}); a new worker finishes them",
            file=sys.stderr,
        )
        finish_stalled(env, config, log_path, links=links, expected_count=expected_count)
    cpu, worker_cpu, postgres_cpu = cpu_between(start, end)

    finished = [
        event
        for event in read_log(log_path)
        if event.get("event") == "refresh.finished" and event_time(event) >= due_at
    ]
    outcomes: dict[str, int] = {}
    for event in finished:
        outcomes[event["outcome"]] = outcomes.get(event["outcome"], 0) + 1
    refreshed = outcomes.pop("refreshed", 0)
    times = sorted(event_time(event) for event in finished if event["outcome"] == "refreshed")
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return RefreshRound(
        config=config.name,
        round=number,
        links=links,
        refreshed=refreshed,
        stalled_links=stalled,
        other_outcomes=outcomes,
        rate=rate,
        seconds_from_due=times[-1] - due_at if times else 0.0,
        worker_cpu_ms_per_refresh=1000 * worker_cpu / max(refreshed, 1),
        postgres_cpu_ms_per_refresh=1000 * postgres_cpu / max(refreshed, 1),
        cpu=cpu,
        load_average=(load_before, os.getloadavg()[0]),
    )


def finish_stalled(
    env: Environment, config: WorkerConfig, log_path: Path, *, links: int, expected_count: int
) -> None:
    """Run a worker until every link has `expected_count` refreshes. Its stalled-job recovery
    hands the jobs that the stopped worker left running to the queue again.

    NOTE: not run yet: no round of the recorded runs stalled.
    """
    recovery_log = log_path.with_name(log_path.stem + "-recovery.log")
    process = start_worker(env, config, recovery_log)
    try:
        _, left = wait_for_refreshes(
            env, process, links=links, expected_count=expected_count, timeout=STALL_SECONDS * 5
        )
    finally:
        stop(process)
    if left:
        raise RuntimeError(f"{left} links are still not refreshed; see {recovery_log}")


def start_receiver(env: Environment, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "bench.webhook_receiver:app",
        "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"the webhook receiver did not start within {STARTUP_SECONDS} s")


def run_delivery_round(
    env: Environment,
    *,
    sender: str,
    number: int,
    count: int,
    receiver_url: str,
    worker: subprocess.Popen[bytes],
    timeout: float,
) -> DeliveryRound:
    """Send `count` deliveries to the receiver, through the worker's outbox or directly, and
    measure the rate at which they arrive."""
    stats_url = receiver_url.rsplit("/", 1)[0] + "/stats"
    httpx.delete(stats_url).raise_for_status()
    load_before = os.getloadavg()[0]
    if sender == "worker":
        delivered_before = int(
            query_value(env, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'")
        )
        # Sampled before the backlog commits, because the worker may start on it at once.
        start = sample_cpu(env, worker.pid)
        asyncio.run(write_backlog(env, count))
        wait_for(
            lambda: httpx.get(stats_url).json()["count"] >= count,
            timeout,
            f"{count} deliveries",
            worker,
        )
        wait_for(
            lambda: (
                int(
                    query_value(
                        env, "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'"
                    )
                )
                >= delivered_before + count
            ),
            timeout,
            f"{count} deliveries recorded",
            worker,
        )
        end = sample_cpu(env, worker.pid)
        sender_cpu = end.worker - start.worker
    else:
        start = sample_cpu(env, worker.pid)
        asyncio.run(send_without_database(env, receiver_url, count))
        end = sample_cpu(env, worker.pid)
        sender_cpu = end.own - start.own
    cpu, _, postgres_cpu = cpu_between(start, end)
    stats = httpx.get(stats_url).json()
    if stats["count"] != count:
        raise RuntimeError(f"the receiver got {stats['count']} POSTs, expected {count}")
    return DeliveryRound(
        sender=sender,
        round=number,
        deliveries=count,
        rate=(count - 1) / (stats["last"] - stats["first"]),
        sender_cpu_ms_per_delivery=1000 * sender_cpu / count,
        postgres_cpu_ms_per_delivery=1000 * postgres_cpu / count,
        cpu=cpu,
        load_average=(load_before, os.getloadavg()[0]),
    )


# --- the report --------------------------------------------------------------------------------


def print_refreshes(
    rounds: list[RefreshRound],
    first_rounds: list[RefreshRound],
    configs: list[WorkerConfig],
    concurrency: int,
) -> None:
    print(
        "| worker | rounds | refreshes/s | cap | ratio to cap | worker CPU ms/refresh "
        "| PostgreSQL CPU ms/refresh | due to done s | stalled links | other outcomes | load "
        "| first round after start, refreshes/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for config in configs:
        mine = [item for item in rounds if item.config == config.name]
        first = next(item for item in first_rounds if item.config == config.name)
        rate = statistics.median(item.rate for item in mine)
        cap = concurrency / config.fetch_delay_seconds if config.fetch_delay_seconds else None
        others: dict[str, int] = {}
        for item in mine:
            for outcome, count in item.other_outcomes.items():
                others[outcome] = others.get(outcome, 0) + count
        loads = [value for item in mine for value in item.load_average]
        print(
            f"| {config.name} | {len(mine)} | {rate:,.1f} "
            f"| {f'{cap:,.0f}' if cap else '-'} | {f'{rate / cap:.3f}x' if cap else '-'} "
            f"| {statistics.median(item.worker_cpu_ms_per_refresh for item in mine):.1f} "
            f"| {statistics.median(item.postgres_cpu_ms_per_refresh for item in mine):.1f} "
            f"| {statistics.median(item.seconds_from_due for item in mine):.1f} "
            f"| {sum(item.stalled_links for item in mine)} "
            f"| {json.dumps(others) if others else 'none'} "
            f"| {min(loads):.1f}-{max(loads):.1f} | {first.rate:,.1f} |"
        )


def print_deliveries(rounds: list[DeliveryRound]) -> None:
    print(
        "| sender | rounds | deliveries/s | sender CPU ms/delivery "
        "| PostgreSQL CPU ms/delivery | ratio to baseline | load |"
    )
    print("|---|---|---|---|---|---|---|")
    medians = {}
    for sender in ("worker", "baseline"):
        medians[sender] = statistics.median(item.rate for item in rounds if item.sender == sender)
    for sender in ("worker", "baseline"):
        mine = [item for item in rounds if item.sender == sender]
        loads = [value for item in mine for value in item.load_average]
        print(
            f"| {sender} | {len(mine)} | {medians[sender]:,.0f} "
            f"| {statistics.median(item.sender_cpu_ms_per_delivery for item in mine):.2f} "
            f"| {statistics.median(item.postgres_cpu_ms_per_delivery for item in mine):.2f} "
            f"| {medians[sender] / medians['baseline']:.2f}x "
            f"| {min(loads):.1f}-{max(loads):.1f} |"
        )


def code_version() -> str:
    """Return the commit of the working tree, marked when files differ from it."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"commit {commit}" + (" with uncommitted changes" if changed else "")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--links", type=int, default=1000, help="recurrent links to refresh")
    parser.add_argument("--rounds", type=int, default=3, help="passes over every link per worker")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=50,
        help="jobs one worker runs at the same time (VINCULO_WORKER_CONCURRENCY, default 50)",
    )
    parser.add_argument(
        "--delay", type=float, default=0.2, help="seconds each sandbox data request takes"
    )
    parser.add_argument(
        "--workers",
        default="sandbox,sandbox-no-delay,prepared,prepared-no-delay",
        help="worker configurations to measure, comma-separated, from: sandbox, "
        "sandbox-no-delay, prepared, prepared-no-delay",
    )
    parser.add_argument("--deliveries", type=int, default=3000, help="webhook backlog per round")
    parser.add_argument(
        "--server-url",
        default=DEFAULT_SERVER_URL,
        help=f"libpq URL of a database on the PostgreSQL server where {DATABASE_NAME} is "
        "dropped and created",
    )
    parser.add_argument("--round-timeout", type=float, default=900, help="seconds per round")
    parser.add_argument("--keep-logs", type=Path, help="copy the workers' logs to this folder")
    parser.add_argument("--output", type=Path, help="also write every round as JSON here")
    return parser.parse_args()


def worker_configs(names: str, delay: float) -> list[WorkerConfig]:
    known = {
        "sandbox": WorkerConfig(f"sandbox, {delay * 1000:.0f} ms", "vinculo", delay),
        "sandbox-no-delay": WorkerConfig("sandbox, 0 ms", "vinculo", 0.0),
        "prepared": WorkerConfig(
            f"prepared data, {delay * 1000:.0f} ms", "bench.refresh_worker", delay
        ),
        "prepared-no-delay": WorkerConfig("prepared data, 0 ms", "bench.refresh_worker", 0.0),
    }
    configs = []
    for name in names.split(","):
        if name.strip() not in known:
            sys.exit(f"Unknown worker configuration {name!r}; use one of {', '.join(known)}.")
        configs.append(known[name.strip()])
    return configs


def main() -> None:
    args = parse_arguments()
    code = code_version()
    configs = worker_configs(args.workers, args.delay)
    data_dir = Path(tempfile.mkdtemp(prefix="vinculo-bench-refreshes-"))
    server_url = args.server_url
    database_url = (
        make_url(server_url).set(database=DATABASE_NAME).render_as_string(hide_password=False)
    )
    env = Environment(server_url, database_url, data_dir, args.concurrency)
    refresh_rounds: list[RefreshRound] = []
    first_rounds: list[RefreshRound] = []
    delivery_rounds: list[DeliveryRound] = []
    try:
        recreate_database(env)
        started = time.perf_counter()
        asyncio.run(register_links(env, args.links))
        print(
            f"Registered {args.links} links in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )

        historian = RunningWorker(env, configs[0])
        try:
            history = run_refresh_round(
                env,
                historian,
                number=0,
                links=args.links,
                expected_count=1,
                move=False,
                timeout=args.round_timeout,
            )
        finally:
            historian.stop()
        print(f"Historical updates: {asdict(history)}", file=sys.stderr)
        expected = 1
        for config in configs:
            # Round 0 of each worker is its first after it started, reported apart: the
            # sandbox simulates each user's whole history once, and with prepared data it
            # stores the template user's accounts on every link, which later rounds update.
            worker = RunningWorker(env, config)
            try:
                for number in range(args.rounds + 1):
                    expected += 1
                    measured = run_refresh_round(
                        env,
                        worker,
                        number=number,
                        links=args.links,
                        expected_count=expected,
                        move=True,
                        timeout=args.round_timeout,
                    )
                    print(f"  {json.dumps(asdict(measured))}", file=sys.stderr)
                    (first_rounds if number == 0 else refresh_rounds).append(measured)
            finally:
                worker.stop()

        delivery_rounds = measure_deliveries(env, args)
    finally:
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for path in data_dir.glob("*.log"):
                shutil.copy(path, args.keep_logs / path.name)
        shutil.rmtree(data_dir, ignore_errors=True)

    print(
        f"Code: {code}. Refreshes: {args.links} recurrent links on {INSTITUTION}, "
        f"one worker process, concurrency {args.concurrency}; medians of {args.rounds} rounds."
    )
    print(
        f"Historical updates (one year each, {configs[0].name}): {history.rate:,.1f}/s, "
        f"worker CPU {history.worker_cpu_ms_per_refresh:.1f} ms/refresh, "
        f"load {history.load_average[0]:.1f}-{history.load_average[1]:.1f}."
    )
    print()
    print_refreshes(refresh_rounds, first_rounds, configs, args.concurrency)
    print()
    print(f"Webhook deliveries: backlogs of {args.deliveries}; medians of {args.rounds} rounds.")
    print()
    print_deliveries(delivery_rounds)
    if args.output:
        record = {
            "code": code,
            "arguments": {key: str(value) for key, value in vars(args).items()},
            "historical_updates": asdict(history),
            "first_rounds": [asdict(item) for item in first_rounds],
            "refreshes": [asdict(item) for item in refresh_rounds],
            "deliveries": [asdict(item) for item in delivery_rounds],
        }
        args.output.write_text(json.dumps(record, indent=2))


def measure_deliveries(env: Environment, args: argparse.Namespace) -> list[DeliveryRound]:
    """Measure deliveries from the outbox by one idle worker, alternating with the baseline."""
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}/webhooks"
    receiver = start_receiver(env, port)
    rounds: list[DeliveryRound] = []
    try:
        asyncio.run(create_endpoint(env, receiver_url))
        config = WorkerConfig("deliveries", "vinculo", 0.0)
        worker = start_worker(env, config, env.data_dir / "worker-deliveries.log")
        try:
            for number in range(1, args.rounds + 1):
                for sender in ("worker", "baseline"):
                    measured = run_delivery_round(
                        env,
                        sender=sender,
                        number=number,
                        count=args.deliveries,
                        receiver_url=receiver_url,
                        worker=worker,
                        timeout=args.round_timeout,
                    )
                    print(f"  {json.dumps(asdict(measured))}", file=sys.stderr)
                    rounds.append(measured)
        finally:
            stop(worker)
    finally:
        stop(receiver)
    return rounds


if __name__ == "__main__":
    main()
