"""The database handle and the unit of work that every request and job runs in.

SQLite is driven synchronously on two long-lived connections per process, called inline on the
event loop: a point query or a commit in WAL mode takes microseconds, far less than a thread
hop through aiosqlite would (see "Request path cost" in the design notes under `docs/`).

- Reads outside a write transaction go to the reader connection, so they never wait for the
  write lock.
- The first write of a unit of work takes the process's write lock (an `asyncio.Lock`) and
  starts `BEGIN IMMEDIATE`, so SQLite's write lock is taken up front and a transaction never has
  to upgrade from read to write, which is what makes SQLite answer "database is locked". Other
  processes that write to the same file wait up to `busy_timeout` for it.

A unit of work commits once, at the end of the request; services only execute statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, Executable, Row, create_engine, event
from sqlalchemy.engine.url import make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Select

logger = structlog.get_logger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _configure_sqlite(engine: Engine, *, begin_statement: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" event below starts transactions,
        # so pysqlite never issues its own deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode is durable across application crashes; a power loss may lose the
        # last transactions but never corrupts the file.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin_statement)


def sqlite_engine(url: str, *, begin_statement: str = "BEGIN IMMEDIATE") -> Engine:
    """Create a one-connection engine for the SQLite file at `url`, creating its folder."""
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    _configure_sqlite(engine, begin_statement=begin_statement)
    return engine


class Database:
    """One process's access to the SQLite database of record."""

    def __init__(self, url: str) -> None:
        if not url.startswith("sqlite"):
            raise ValueError(
                f"unsupported database URL {make_url(url).render_as_string()!r}: "
                "this version supports SQLite URLs (sqlite:///path/to/file.db)"
            )
        self.url = url
        self._write_engine = sqlite_engine(url)
        self._read_engine = sqlite_engine(url, begin_statement="BEGIN")
        self._writer = self._write_engine.connect()
        self._reader = self._read_engine.connect()
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Run a block as one transaction: commit at the end, roll back on any exception."""
        work = UnitOfWork(self)
        try:
            yield work
        except BaseException:
            work.rollback()
            raise
        else:
            work.commit()

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
        self._read_engine.dispose()
        self._write_engine.dispose()


class UnitOfWork:
    """One transaction's statements; reads go to the reader until the first write."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._writing = False
        self._after_commit: list[Callable[[], None]] = []

    async def rows(self, statement: Select[Any]) -> Sequence[Row[Any]]:
        """Return every row of a SELECT, read inside the write transaction once one began."""
        if self._writing:
            return self._database._writer.execute(statement).all()
        reader = self._database._reader
        try:
            return reader.execute(statement).all()
        finally:
            # End the read transaction at once so the reader never pins an old snapshot.
            reader.rollback()

    async def first(self, statement: Select[Any]) -> Row[Any] | None:
        rows = await self.rows(statement.limit(1))
        return rows[0] if rows else None

    async def scalar(self, statement: Select[Any]) -> Any:
        row = await self.first(statement)
        return None if row is None else row[0]

    async def execute(self, statement: Executable) -> int:
        """Execute a write statement in the write transaction; return the affected row count."""
        await self.begin_write()
        result = self._database._writer.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def begin_write(self) -> None:
        """Take the write lock and start `BEGIN IMMEDIATE`, unless this work already did."""
        if self._writing:
            return
        await self._database._write_lock.acquire()
        self._writing = True
        try:
            self._database._writer.begin()
        except BaseException:
            self._release()
            raise

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this work has committed; it is dropped on rollback."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        if self._writing:
            try:
                self._database._writer.commit()
            finally:
                self._release()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self._after_commit.clear()
        if self._writing:
            try:
                self._database._writer.rollback()
            finally:
                self._release()

    def _release(self) -> None:
        self._writing = False
        self._database._write_lock.release()
