"""The database engine a test run uses, and PostgreSQL databases made for one test session.

`VINCULO_TEST_DATABASE=postgresql` runs the suite on PostgreSQL: each test that needs a
database gets the session's migrated database with its tables emptied, and the live servers
get empty databases that `vinculo serve` migrates. The server is `VINCULO_TEST_POSTGRES_URL`
(default: the local server's `test` database), which is used only to create and drop
databases named `vinculo_test_<pid>_...`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

import asyncpg
from sqlalchemy.engine.url import make_url

from vinculo.db.migrate import upgrade
from vinculo.db.models import Base

T = TypeVar("T")

TestDatabase = Literal["sqlite", "postgresql"]
DEFAULT_POSTGRES_URL = "postgresql://127.0.0.1:5432/test"
CONNECT_TIMEOUT_SECONDS = 5


def selected_database() -> TestDatabase:
    """Return the engine named by `VINCULO_TEST_DATABASE` (SQLite when unset)."""
    value = os.environ.get("VINCULO_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if value not in ("sqlite", "postgresql"):
        raise ValueError(
            f"VINCULO_TEST_DATABASE={value!r} is invalid: use 'sqlite' or 'postgresql'"
        )
    return "postgresql" if value == "postgresql" else "sqlite"


def postgres_server_url() -> str:
    return os.environ.get("VINCULO_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def driver_url(url: str) -> str:
    """Return `url` in the form asyncpg itself accepts (no `+asyncpg` driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


class PostgresDatabases:
    """Creates, empties and drops the PostgreSQL databases of one test session.

    The tests that need a migrated database share one, emptied before each test. Creating a
    copy of a template database and dropping it took about 0.25 s per test with PostgreSQL 15
    on an idle 2-vCPU machine, and over 1 s while the suite ran, for some 2,000 tests.
    Emptying the tables leaves the same schema with no rows, which is all that a fresh copy
    would differ in.

    Every command runs on connections of this class's own event loop, in a thread of its own,
    so fixtures can call it whatever loop the test runs.
    """

    def __init__(self, server_url: str) -> None:
        self._server_url = server_url
        self._prefix = f"vinculo_test_{os.getpid()}"
        self._shared = f"{self._prefix}_migrated"
        self._numbers = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._admin: asyncpg.Connection | None = None
        self._shared_connection: asyncpg.Connection | None = None
        self._created: list[str] = []

    def connect(self) -> None:
        """Connect to the server; raise `OSError` or asyncpg's error when it cannot."""
        self._admin = self._run(_connect(self._server_url))

    def url_of(self, name: str) -> str:
        url = make_url(self._server_url).set(drivername="postgresql", database=name)
        return url.render_as_string(hide_password=False)

    def create_empty(self) -> str:
        """Create an empty database and return its URL."""
        name = f"{self._prefix}_{next(self._numbers)}"
        self._run(self._create(name))
        return self.url_of(name)

    def migrated(self) -> str:
        """Return the URL of the session's migrated database, with every table emptied and
        every connection to it from an earlier test ended."""
        url = self.url_of(self._shared)
        if self._shared_connection is None:
            self._run(self._create(self._shared))
            upgrade(url)
            self._shared_connection = self._run(_connect(url))
        self._run(self._empty(self._shared_connection))
        return url

    def drop(self, url: str) -> None:
        """Drop the database at `url`, ending any connection left on it."""
        name = make_url(url).database
        assert name in self._created, f"{name} was not created by this session"
        self._run(self._drop(name))

    def close(self) -> None:
        """Drop every database this session created, then stop the thread."""
        try:
            if self._shared_connection is not None:
                self._run(self._shared_connection.close())
            for name in list(self._created):
                self._run(self._drop(name))
            if self._admin is not None:
                self._run(self._admin.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    async def _create(self, name: str) -> None:
        assert self._admin is not None, "call connect() first"
        await self._admin.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)

    async def _drop(self, name: str) -> None:
        assert self._admin is not None, "call connect() first"
        await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.remove(name)

    async def _empty(self, connection: asyncpg.Connection) -> None:
        # A connection an earlier test left open could hold locks that the DELETEs wait for.
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        # Children before parents, so that no foreign key stops a DELETE. The names are
        # the models' own.
        tables = reversed(Base.metadata.sorted_tables)
        deletes = [f'DELETE FROM "{table.name}"' for table in tables]  # noqa: S608
        # Procrastinate's job queue, which the PostgreSQL migrations create beside the models.
        deletes.append(
            "TRUNCATE procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_jobs, procrastinate_workers RESTART IDENTITY"
        )
        await connection.execute("; ".join(deletes))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on a new event loop in a worker thread, whatever loop this thread runs."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(driver_url(url), timeout=CONNECT_TIMEOUT_SECONDS)


def stored_values(url: str) -> dict[str, bytes]:
    """Return every stored value of every table of the PostgreSQL database at `url`.

    Binary values are kept as they are and everything else is turned into text, so a scan
    for a secret finds what a reader of the database's files would find once decoded.
    """
    return run_in_thread(_stored_values(url))


async def _stored_values(url: str) -> dict[str, bytes]:
    connection = await _connect(url)
    try:
        names = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        contents = {}
        for record in names:
            table = record["tablename"]
            # The names come from the catalogue, not from input.
            rows = await connection.fetch(f'SELECT * FROM "{table}"')  # noqa: S608
            parts = [
                value if isinstance(value, bytes) else str(value).encode()
                for row in rows
                for value in row.values()
                if value is not None
            ]
            contents[table] = b"\n".join(parts)
    finally:
        await connection.close()
    return contents


def unreachable_reason(server_url: str) -> str | None:
    """Return why the PostgreSQL server at `server_url` cannot be used, or None if it can."""

    async def probe() -> None:
        connection = await _connect(server_url)
        await connection.close()

    try:
        run_in_thread(probe())
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {shown_url(server_url)} is unreachable ({type(exc).__name__}: {exc})"
    return None


if __name__ == "__main__":
    # scripts/test runs the PostgreSQL pass only when `python -m tests.support.databases` exits 0.
    reason = unreachable_reason(postgres_server_url())
    print(reason or f"PostgreSQL at {shown_url(postgres_server_url())} is reachable")
    raise SystemExit(1 if reason else 0)
