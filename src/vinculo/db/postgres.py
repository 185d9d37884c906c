"""PostgreSQL behind `vinculo.db.engine.Database`, through SQLAlchemy's async engine and asyncpg.

A unit of work takes one pooled connection on its first statement and runs every statement in
one transaction on it, committed at the end of the block. `begin_write` takes a transaction
advisory lock that every writer takes, so write transactions never overlap, as on SQLite: the
services check a row and then write, and rely on nothing writing in between.
`begin_row_write` takes the same lock in shared mode: row writes run beside each other, each
locking the rows it checks, and never beside a `begin_write` transaction. PostgreSQL queues a
lock request behind a conflicting one that waits, so a steady stream of row writes does not
starve a `begin_write`.

NOTE: only refreshes, login leases and webhook deliveries use row writes so far; every other
write still runs alone across all processes.

Connection failures (server down or restarting, a terminated backend, no free connection)
raise `DatabaseUnavailable`. A connection found dead on the first statement of a unit of work
is replaced once, since nothing has run on it yet; SQLAlchemy then also discards the other
pooled connections opened before the failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import sqlalchemy.exc
import structlog
from sqlalchemy import BigInteger, CursorResult, Executable, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Select

from vinculo.db.prepared import Prepared
from vinculo.db.protocol import DatabaseUnavailable

logger = structlog.get_logger(__name__)

# SQLSTATE classes of failures that are no fault of the request: connection exception (08),
# insufficient resources (53), operator intervention such as a shutdown (57), system error (58).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
# NOTE: chosen, not measured: a connect timeout far below asyncpg's default of 60 s.
CONNECT_TIMEOUT_SECONDS = 10
# Connections kept for reuse unless `database_pool_size` sets another number, and
# connections opened beyond them while all are busy, each closed when given back.
# NOTE: a worker running 50 jobs at once opens and closes connections throughout a round with
# this pool: the set-up took about 4% of its CPU (py-spy, `bench.refreshes`). A larger default
# runs into PostgreSQL's default `max_connections` of 100 with one server and two workers.
POOL_SIZE = 10
POOL_MAX_OVERFLOW = 10
APPLICATION_NAME = "vinculo"
# Any fixed 64-bit number works; this one is "vinculo" in ASCII.
WRITE_LOCK_KEY = 0x76696E63756C6F

# A SQLAlchemy statement, or driver SQL such as a `Prepared` statement's compiled text.
Statement = Executable | str

_TAKE_WRITE_LOCK = select(func.pg_advisory_xact_lock(literal(WRITE_LOCK_KEY, BigInteger)))
_TAKE_ROW_WRITE_LOCK = select(
    func.pg_advisory_xact_lock_shared(literal(WRITE_LOCK_KEY, BigInteger))
)


def unavailable_error(exc: BaseException) -> DatabaseUnavailable | None:
    """Return the `DatabaseUnavailable` that `exc` amounts to, or None for any other failure.

    Constraint violations, syntax errors and the like stay as they are: they are bugs or
    expected conditions, never a reason to retry later.
    """
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return DatabaseUnavailable(f"no free database connection: {exc}")
    if isinstance(exc, OSError):
        return DatabaseUnavailable(f"cannot reach PostgreSQL: {type(exc).__name__}: {exc}")
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        if exc.connection_invalidated or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
            return DatabaseUnavailable(f"PostgreSQL connection failed: {driver_message(exc)}")
    return None


def driver_message(exc: BaseException) -> str:
    """Name asyncpg's own error and its message, without the statement SQLAlchemy adds."""
    cause: BaseException = exc
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        # SQLAlchemy's adapter wraps asyncpg's exception, which it keeps as the cause.
        cause = exc.orig.__cause__ or exc.orig
    return f"{type(cause).__name__}: {cause}"


async def connect(engine: AsyncEngine) -> AsyncConnection:
    """Take a connection from `engine`; raise `DatabaseUnavailable` if there is none to have."""
    try:
        return await engine.connect()
    except (sqlalchemy.exc.DBAPIError, sqlalchemy.exc.TimeoutError, OSError) as exc:
        # Whatever the cause (server down, wrong password, unknown database), the database
        # cannot be used, and the driver's message gives the reason.
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {driver_message(exc)}") from exc


class PostgresDatabase:
    """One process's pool of connections to the PostgreSQL database of record."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        self.engine = create_async_engine(
            url,
            pool_size=pool_size or POOL_SIZE,
            max_overflow=POOL_MAX_OVERFLOW,
            # Statement parameters may be sealed credentials: keep them out of error messages.
            hide_parameters=True,
            connect_args={
                "timeout": CONNECT_TIMEOUT_SECONDS,
                "server_settings": {"application_name": APPLICATION_NAME},
            },
        )
        self.dialect = self.engine.dialect

    def unit_of_work(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self)

    def single_statement(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self, autocommit=True)

    async def close(self) -> None:
        await self.engine.dispose()


class PostgresUnitOfWork:
    """One transaction on one pooled connection, both taken on the first statement."""

    def __init__(self, database: PostgresDatabase, *, autocommit: bool = False) -> None:
        self._database = database
        self._connection: AsyncConnection | None = None
        # Each statement commits on its own, with no BEGIN or COMMIT round trip; see
        # `Database.single_statement` for what may run so.
        self._autocommit = autocommit
        self._writing = autocommit
        self._after_commit: list[Callable[[], None]] = []

    async def rows(self, statement: Select[Any] | Prepared, **params: Any) -> Sequence[Any]:
        if isinstance(statement, Prepared):
            compiled = statement.compiled(self._database.dialect)
            result = await self._execute(compiled.sql, tuple(compiled.parameters(params)))
            return compiled.convert_rows(result.all())
        return (await self._execute(statement)).all()

    async def first(self, statement: Select[Any] | Prepared, **params: Any) -> Any:
        rows: Sequence[Any]
        if isinstance(statement, Prepared):
            rows = await self.rows(statement, **params)
        else:
            rows = await self.rows(statement.limit(1))
        return rows[0] if rows else None

    async def scalar(self, statement: Select[Any] | Prepared, **params: Any) -> Any:
        row = await self.first(statement, **params)
        return None if row is None else row[0]

    async def execute(self, statement: Executable | Prepared, **params: Any) -> int:
        await self.begin_write()
        if isinstance(statement, Prepared):
            compiled = statement.compiled(self._database.dialect)
            result = await self._execute(compiled.sql, tuple(compiled.parameters(params)))
        else:
            result = await self._execute(statement)
        return int(result.rowcount)

    async def execute_many(self, statement: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        await self.begin_write()
        compiled = statement.compiled(self._database.dialect)
        await self._execute(compiled.sql, [tuple(compiled.parameters(row)) for row in rows])

    async def execute_returning(self, statement: Prepared, **params: Any) -> list[Any]:
        await self.begin_write()
        compiled = statement.compiled(self._database.dialect)
        result = await self._execute(compiled.sql, tuple(compiled.parameters(params)))
        return compiled.convert_rows(result.all())

    async def begin_write(self) -> None:
        """Take the write lock, held until this work commits or rolls back."""
        if self._writing:
            return
        await self._execute(_TAKE_WRITE_LOCK)
        self._writing = True

    async def begin_row_write(self) -> None:
        """Take the write lock in shared mode, held until this work commits or rolls back."""
        if self._writing:
            return
        await self._execute(_TAKE_ROW_WRITE_LOCK)
        self._writing = True

    async def _execute(self, statement: Statement, parameters: Any = None) -> CursorResult[Any]:
        """Run a SQLAlchemy statement, or driver SQL (a `str`) with positional parameters."""
        connection = self._connection
        if connection is None:
            return await self._execute_first(statement, parameters)
        try:
            return await _run(connection, statement, parameters)
        except (sqlalchemy.exc.DBAPIError, OSError) as exc:
            _raise_if_unavailable(exc)
            raise

    async def _execute_first(self, statement: Statement, parameters: Any) -> CursorResult[Any]:
        """Take a connection and run this work's first statement, on a second connection if
        the first one turns out to be dead."""
        connection = await self._connect()
        try:
            return await _run(connection, statement, parameters)
        except sqlalchemy.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                _raise_if_unavailable(exc)
                raise
            logger.warning("database.reconnecting", error=driver_message(exc))
        except OSError as exc:
            _raise_if_unavailable(exc)
            raise
        await self._close_connection()
        connection = await self._connect()
        try:
            return await _run(connection, statement, parameters)
        except (sqlalchemy.exc.DBAPIError, OSError) as exc:
            _raise_if_unavailable(exc)
            raise

    async def _connect(self) -> AsyncConnection:
        connection = await connect(self._database.engine)
        if self._autocommit:
            # The pool restores the default isolation level when the connection comes back.
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        self._connection = connection
        return connection

    async def __aenter__(self) -> PostgresUnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self._commit()
        else:
            await self._rollback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    async def _commit(self) -> None:
        connection = self._connection
        if connection is not None:
            try:
                await connection.commit()
            except BaseException as exc:
                # The commit may or may not have happened, so nothing may act as if it had.
                self._after_commit.clear()
                await self._close_connection()
                _raise_if_unavailable(exc)
                raise
            await self._close_connection()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def _rollback(self) -> None:
        self._after_commit.clear()
        connection = self._connection
        if connection is None:
            return
        try:
            await connection.rollback()
        except (sqlalchemy.exc.DBAPIError, OSError) as exc:
            # The block's own exception is the one to report; a dead connection cannot roll
            # back, and the server ends its transaction when the connection closes.
            logger.warning("database.rollback_failed", error=driver_message(exc))
        finally:
            await self._close_connection()

    async def _close_connection(self) -> None:
        """Give the connection back to the pool, which discards it if it was found dead."""
        connection, self._connection = self._connection, None
        self._writing = self._autocommit
        if connection is not None:
            await connection.close()


async def _run(
    connection: AsyncConnection, statement: Statement, parameters: Any
) -> CursorResult[Any]:
    if isinstance(statement, str):
        return await connection.exec_driver_sql(statement, parameters)
    return await connection.execute(statement, parameters)


def _raise_if_unavailable(exc: BaseException) -> None:
    unavailable = unavailable_error(exc)
    if unavailable is not None:
        raise unavailable from exc
