"""SQLite behind `vinculo.db.engine.Database`: the database handle and its unit of work.

SQLite is driven synchronously on two long-lived connections per process, called inline on the
event loop. A point query or a commit in WAL mode takes microseconds, far less than a thread hop
through aiosqlite; docs/benchmarks.md has the measurements.

- Reads outside a write transaction go to the reader connection, so they never wait for the
  write lock.
- The first write of a unit of work takes the process's write lock (an `asyncio.Lock`) and
  starts `BEGIN IMMEDIATE`, so SQLite's write lock is taken up front and a transaction never has
  to upgrade from read to write, which is what makes SQLite answer "database is locked". Other
  processes that write to the same file wait up to `busy_timeout` for it.

A unit of work commits once, at the end of the request; services only execute statements.

NOTE: waiting for another process's write lock (up to `busy_timeout`, 10 s) blocks the event
loop, reads included. SQLite mode expects one server process, with CLI commands as short,
occasional writers beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine.url import make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Select

from vinculo.db.prepared import CompiledStatement, Prepared
from vinculo.db.types import UNICODE_LOWER_FUNCTION

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
        # SQLite's own lower() folds only ASCII letters, so `name__icontains=ángel` would miss
        # "Ángel". `vinculo.db.types.unicode_lower` compiles to this function on SQLite.
        dbapi_connection.create_function(
            UNICODE_LOWER_FUNCTION, 1, _unicode_lower, deterministic=True
        )

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # `SqliteUnitOfWork.begin_write` may have begun the transaction on the driver already.
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql(begin_statement)


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def sqlite_engine(url: str, *, begin_statement: str = "BEGIN IMMEDIATE") -> Engine:
    """Create a one-connection engine for the SQLite file at `url`, creating its folder."""
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    _configure_sqlite(engine, begin_statement=begin_statement)
    return engine


class SqliteDatabase:
    """One process's access to the SQLite database of record."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._write_engine = sqlite_engine(url)
        self._read_engine = sqlite_engine(url, begin_statement="BEGIN")
        self._writer = self._write_engine.connect()
        self._reader = self._read_engine.connect()
        self.dialect = self._write_engine.dialect
        # The driver connections under the two, for `Prepared` statements. The reader's driver
        # is in autocommit mode, so each statement on it is its own read transaction.
        self._writer_driver: Any = self._writer.connection.dbapi_connection
        self._reader_driver: Any = self._reader.connection.dbapi_connection
        self._write_lock = asyncio.Lock()

    def unit_of_work(self) -> SqliteUnitOfWork:
        """Start a unit of work: use it as `async with`; it commits at the end of the block
        and rolls back if the block raises."""
        return SqliteUnitOfWork(self)

    def single_statement(self) -> SqliteUnitOfWork:
        # A unit of work costs no round trip here, so it is the same as `unit_of_work`.
        return SqliteUnitOfWork(self)

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
        self._read_engine.dispose()
        self._write_engine.dispose()


@dataclass(frozen=True, slots=True)
class _PreparedRun:
    compiled: CompiledStatement
    cursor: Any

    def fetch_rows(self) -> list[Any]:
        return self.compiled.convert_rows(self.cursor.fetchall())


class SqliteUnitOfWork:
    """One transaction's statements; reads go to the reader until the first write."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._database = database
        self._writing = False
        self._after_commit: list[Callable[[], None]] = []

    async def rows(self, statement: Select[Any] | Prepared, **params: Any) -> Sequence[Any]:
        """Return every row of a SELECT, read inside the write transaction once one began."""
        if isinstance(statement, Prepared):
            return self._run_prepared(statement, params).fetch_rows()
        if self._writing:
            return self._database._writer.execute(statement).all()
        reader = self._database._reader
        try:
            return reader.execute(statement).all()
        finally:
            # End the read transaction at once so the reader never pins an old snapshot.
            reader.rollback()

    async def first(self, statement: Select[Any] | Prepared, **params: Any) -> Any:
        rows: Sequence[Any]
        if isinstance(statement, Prepared):
            rows = self._run_prepared(statement, params).fetch_rows()
        else:
            rows = await self.rows(statement.limit(1))
        return rows[0] if rows else None

    async def scalar(self, statement: Select[Any] | Prepared, **params: Any) -> Any:
        row = await self.first(statement, **params)
        return None if row is None else row[0]

    async def execute(self, statement: Executable | Prepared, **params: Any) -> int:
        """Execute a write statement in the write transaction; return the affected row count."""
        await self.begin_write()
        if isinstance(statement, Prepared):
            return int(self._run_prepared(statement, params).cursor.rowcount)
        result = self._database._writer.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def execute_many(self, statement: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        """Execute a write statement once per parameter set in `rows`, in one driver call."""
        if not rows:
            return
        await self.begin_write()
        compiled = statement.compiled(self._database.dialect)
        self._database._writer_driver.executemany(
            compiled.sql, [compiled.parameters(row) for row in rows]
        )

    async def execute_returning(self, statement: Prepared, **params: Any) -> list[Any]:
        """Execute a write statement with a RETURNING clause; return the rows it returned."""
        await self.begin_write()
        return self._run_prepared(statement, params).fetch_rows()

    def _run_prepared(self, statement: Prepared, params: dict[str, Any]) -> _PreparedRun:
        database = self._database
        connection = database._writer_driver if self._writing else database._reader_driver
        compiled = statement.compiled(database.dialect)
        cursor = connection.execute(compiled.sql, compiled.parameters(params))
        return _PreparedRun(compiled, cursor)

    async def begin_write(self) -> None:
        """Take the write lock and start `BEGIN IMMEDIATE`, unless this work already did."""
        if self._writing:
            return
        await self._database._write_lock.acquire()
        self._writing = True
        try:
            # Straight on the driver: going through SQLAlchemy's `begin` costs more than the
            # statement. SQLAlchemy statements later in this work join this transaction.
            self._database._writer_driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    async def begin_row_write(self) -> None:
        await self.begin_write()

    async def __aenter__(self) -> SqliteUnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this work has committed; it is dropped on rollback."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        if self._writing:
            try:
                self._end_write(commit=True)
            except BaseException:
                self.rollback()
                raise
            self._release()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self._after_commit.clear()
        if self._writing:
            try:
                self._end_write(commit=False)
            finally:
                self._release()

    def _end_write(self, *, commit: bool) -> None:
        writer = self._database._writer
        driver = self._database._writer_driver
        if commit:
            if writer.in_transaction():
                # A SQLAlchemy statement joined the transaction; let SQLAlchemy end it.
                writer.commit()
            else:
                driver.commit()
            return
        try:
            # Always through SQLAlchemy too: after a failed commit its connection stays marked
            # invalid (every later statement raises PendingRollbackError) until rolled back.
            writer.rollback()
        finally:
            if driver.in_transaction:
                driver.rollback()

    def _release(self) -> None:
        self._writing = False
        self._database._write_lock.release()
