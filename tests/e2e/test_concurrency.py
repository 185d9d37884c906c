"""Concurrent writers on one database: HTTP clients, other processes, and one link's logins.

These tests run their own `vinculo serve`, so that link counts and the log contain only their
own traffic. Writers are expected never to see "database is locked": each unit of work takes
SQLite's write lock up front (`BEGIN IMMEDIATE`) and waits for it up to `busy_timeout`. On
PostgreSQL the same tests check that write transactions, which wait for one advisory lock,
never overlap across processes either.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.synchronize import Barrier as BarrierType
from typing import Any

import httpx
import pytest
from sqlalchemy import ColumnElement, Table, func, select

from tests.support.databases import PostgresDatabases
from tests.support.server import LiveServer, start_live_server
from vinculo.clock import Clock
from vinculo.db.engine import Database
from vinculo.db.models import api_keys
from vinculo.db.models import tenants as tenants_table
from vinculo.tenants.service import create_api_key

WRITERS = 8
DUPLICATE_ROUNDS = 40
LINKS_PER_WRITER = 25
KEYS_PER_PROCESS = 25
SERVER_LINKS_DURING_PROCESSES = 50
LOCKED_MESSAGE = "database is locked"
# Upper bounds that keep a broken server from hanging the suite.
HTTP_TIMEOUT_SECONDS = 30.0
PROCESS_TIMEOUT_SECONDS = 45.0
BARRIER_TIMEOUT_SECONDS = 20.0
# A spawned process needs about a second to import vinculo. The writers start together after
# this delay, so that they contend for the lock instead of running one after another.
PROCESS_START_DELAY_SECONDS = 3.0
# Any pepper works for keys that are only counted, never used to log in.
TEST_PEPPER = bytes(32)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, live_server_databases: PostgresDatabases | None
) -> Iterator[LiveServer]:
    url = live_server_databases.create_empty() if live_server_databases else None
    live = start_live_server(tmp_path_factory.mktemp("concurrency"), database_url=url)
    try:
        yield live
    finally:
        live.stop()
        if live_server_databases and url:
            live_server_databases.drop(url)


@pytest.fixture(scope="module")
def second_server(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Another `vinculo serve` process on the data directory and database of `server`, with
    its own log.

    Both processes then share the database and the master key file, as the workers of one
    deployment do.
    """
    live = start_live_server(
        tmp_path_factory.mktemp("second"),
        {"VINCULO_DATA_DIR": str(server.data_dir)},
        database_url=server.database_url,
    )
    try:
        yield live
    finally:
        live.stop()


def http_client(server: LiveServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        auth=(server.secret_id, server.secret_password),
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def database_url(server: LiveServer) -> str:
    if server.database_url is not None:
        return server.database_url
    return f"sqlite:///{(server.data_dir / 'vinculo.db').resolve()}"


def register_links(
    server: LiveServer, institution: str, usernames: list[str], barrier: threading.Barrier | None
) -> list[httpx.Response]:
    """Register one link per username, in order, after every thread reached `barrier`."""
    responses = []
    with http_client(server) as client:
        if barrier is not None:
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        for username in usernames:
            body = {"institution": institution, "username": username, "password": "pw"}
            responses.append(client.post("/api/links/", json=body))
    return responses


def list_link_ids(server: LiveServer, institution: str) -> list[str]:
    """Return the ids of every link on `institution`, read in one page."""
    with http_client(server) as client:
        response = client.get(
            "/api/links/", params={"institution": institution, "page_size": "1000"}
        )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next"] is None
    return [link["id"] for link in page["results"]]


def failures(responses: list[httpx.Response], expected_status: int) -> list[str]:
    return [
        f"{response.status_code} {response.text}"
        for response in responses
        if response.status_code != expected_status
    ]


def count_rows(server: LiveServer, table: Table, *conditions: ColumnElement[bool]) -> int:
    """Count the rows of `table` that match `conditions`, on a connection of the test's own."""

    async def count() -> int:
        database = Database(database_url(server))
        try:
            async with database.unit_of_work() as uow:
                statement = select(func.count()).select_from(table).where(*conditions)
                return int(await uow.scalar(statement))
        finally:
            await database.aclose()

    return asyncio.run(count())


# Concurrent HTTP writers -----------------------------------------------------------------


def test_http_writers(server: LiveServer) -> None:
    institution = "goonies_mx_gig"
    barrier = threading.Barrier(WRITERS)
    batches = [
        [f"writer{writer}_{number:02d}" for number in range(LINKS_PER_WRITER)]
        for writer in range(WRITERS)
    ]

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        futures = [
            pool.submit(register_links, server, institution, usernames, barrier)
            for usernames in batches
        ]
        responses = [response for future in futures for response in future.result()]

    created_ids = {response.json()["id"] for response in responses if response.status_code == 201}
    listed_ids = list_link_ids(server, institution)
    assert failures(responses, 201) == []
    assert LOCKED_MESSAGE not in server.log_text()
    assert len(listed_ids) == WRITERS * LINKS_PER_WRITER
    assert set(listed_ids) == created_ids


# Writer processes ------------------------------------------------------------------------


async def create_keys(url: str, tenant_names: list[str], label: str) -> list[str]:
    """Create one API key per tenant name, each in its own unit of work; return the errors."""
    database = Database(url)
    errors = []
    try:
        for tenant_name in tenant_names:
            try:
                async with database.unit_of_work() as uow:
                    await create_api_key(
                        uow, pepper=TEST_PEPPER, clock=Clock(), tenant_name=tenant_name, label=label
                    )
            except Exception as exc:
                # The parent asserts that no unit of work failed, and shows these texts if any did.
                first_line = str(exc).splitlines()[0] if str(exc) else ""
                errors.append(f"{tenant_name}: {type(exc).__name__}: {first_line}")
    finally:
        await database.aclose()
    return errors


def write_own_tenants(
    url: str, worker: int, start_at: float, results: multiprocessing.Queue[Any]
) -> None:
    """Create `KEYS_PER_PROCESS` tenants of this worker, each with one key, from `start_at`."""
    time.sleep(max(0.0, start_at - time.time()))
    names = [f"process{worker}-tenant{number:02d}" for number in range(KEYS_PER_PROCESS)]
    try:
        results.put((worker, asyncio.run(create_keys(url, names, f"process{worker}"))))
    except Exception as exc:
        # A crash must reach the parent as an error, not as a missing result.
        results.put((worker, [f"{type(exc).__name__}: {exc}"]))


def write_shared_tenants(
    url: str, worker: int, barrier: BarrierType, results: multiprocessing.Queue[Any]
) -> None:
    """Create one key per round for tenant `shared-<round>`, which every worker creates too."""

    async def rounds() -> list[str]:
        errors = []
        for number in range(KEYS_PER_PROCESS):
            # Every worker requests the same new tenant at the same moment.
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            errors += await create_keys(url, [f"shared-{number:02d}"], f"shared{worker}")
        return errors

    try:
        results.put((worker, asyncio.run(rounds())))
    except Exception as exc:
        # A crash must reach the parent as an error, not as a missing result.
        results.put((worker, [f"{type(exc).__name__}: {exc}"]))


def run_processes(
    target: Any, argument_sets: list[tuple[Any, ...]], results: multiprocessing.Queue[Any]
) -> dict[int, list[str]]:
    """Start one spawned process per argument set and collect `(worker, errors)` results."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=arguments) for arguments in argument_sets]
    for process in processes:
        process.start()
    outcomes: dict[int, list[str]] = {}
    deadline = time.monotonic() + PROCESS_TIMEOUT_SECONDS
    try:
        while len(outcomes) < len(processes) and time.monotonic() < deadline:
            try:
                worker, errors = results.get(timeout=1)
            except queue.Empty:
                continue
            outcomes[worker] = errors
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    return outcomes


def test_process_writers(server: LiveServer) -> None:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[Any] = context.Queue()
    url = database_url(server)
    start_at = time.time() + PROCESS_START_DELAY_SECONDS
    argument_sets = [(url, worker, start_at, results) for worker in range(WRITERS)]
    usernames = [
        f"during_processes_{number:02d}" for number in range(SERVER_LINKS_DURING_PROCESSES)
    ]

    def register_from_start() -> list[httpx.Response]:
        time.sleep(max(0.0, start_at - time.time()))
        return register_links(server, "planet_mx_gig", usernames, None)

    # The server writes links while the processes write keys, so all nine contend for the lock.
    with ThreadPoolExecutor(max_workers=1) as pool:
        server_writes = pool.submit(register_from_start)
        outcomes = run_processes(write_own_tenants, argument_sets, results)
        server_responses = server_writes.result(timeout=PROCESS_TIMEOUT_SECONDS)

    assert sorted(outcomes) == list(range(WRITERS))
    assert {worker: errors for worker, errors in outcomes.items() if errors} == {}
    assert failures(server_responses, 201) == []
    assert LOCKED_MESSAGE not in server.log_text()
    for worker in range(WRITERS):
        label = f"process{worker}"
        keys = count_rows(server, api_keys, api_keys.c.label == label)
        assert keys == KEYS_PER_PROCESS, label
    tenants = count_rows(server, tenants_table, tenants_table.c.name.like("process%"))
    assert tenants == WRITERS * KEYS_PER_PROCESS
    assert len(list_link_ids(server, "planet_mx_gig")) == SERVER_LINKS_DURING_PROCESSES


def test_process_writers_same_tenant(server: LiveServer) -> None:
    # Concurrent `vinculo keys create --tenant X` runs: each must find or create the tenant
    # without tripping over the others' insert of the same name.
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[Any] = context.Queue()
    barrier = context.Barrier(WRITERS)
    url = database_url(server)
    argument_sets = [(url, worker, barrier, results) for worker in range(WRITERS)]

    outcomes = run_processes(write_shared_tenants, argument_sets, results)

    assert sorted(outcomes) == list(range(WRITERS))
    assert {worker: errors for worker, errors in outcomes.items() if errors} == {}
    tenants = count_rows(server, tenants_table, tenants_table.c.name.like("shared-%"))
    assert tenants == KEYS_PER_PROCESS
    keys = count_rows(server, api_keys, api_keys.c.label.like("shared%"))
    assert keys == WRITERS * KEYS_PER_PROCESS


# One link, two logins --------------------------------------------------------------------


def test_concurrent_puts_one_login(server: LiveServer) -> None:
    # A `login_slow` login takes the sandbox delay (0.5 s in the live server), so the second
    # PUT arrives while the first login still runs.
    with http_client(server) as client:
        created = client.post(
            "/api/links/",
            json={"institution": "erebor_mx_retail", "username": "login_slow", "password": "pw"},
        )
    assert created.status_code == 201, created.text
    path = f"/api/links/{created.json()['id']}/"
    barrier = threading.Barrier(2)

    def put_password(password: str) -> httpx.Response:
        with http_client(server) as client:
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            return client.put(path, json={"password": password})

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(put_password, ["first-password", "second-password"]))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 400], [response.text for response in responses]
    rejected = next(response for response in responses if response.status_code == 400)
    assert rejected.json()[0]["code"] == "too_many_sessions"

    # The finished login releases the link, so the next PUT logs in again.
    with http_client(server) as client:
        after = client.put(path, json={"password": "third-password"})
    assert after.status_code == 200, after.text
    assert after.json()["status"] == "valid"


# Two server processes ----------------------------------------------------------------------


def test_two_servers_same_user(server: LiveServer, second_server: LiveServer) -> None:
    # Each round registers one new user through both servers at once: one registration wins,
    # and the other must fail with `duplicated` like any second registration, never a 500.
    barrier = threading.Barrier(2)

    def register(target: LiveServer, username: str) -> httpx.Response:
        with http_client(target) as client:
            barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
            body = {"institution": "goonies_co_gig", "username": username, "password": "pw"}
            return client.post("/api/links/", json=body)

    outcomes: list[tuple[int, ...]] = []
    losers: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for number in range(DUPLICATE_ROUNDS):
            username = f"twin_{number:02d}"
            responses = list(pool.map(register, [server, second_server], [username, username]))
            outcomes.append(tuple(sorted(response.status_code for response in responses)))
            losers += [
                response.json()[0]["code"] for response in responses if response.status_code != 201
            ]

    unexpected = [outcome for outcome in outcomes if outcome != (201, 400)]
    assert unexpected == []
    assert set(losers) == {"duplicated"}
    assert len(list_link_ids(server, "goonies_co_gig")) == DUPLICATE_ROUNDS
