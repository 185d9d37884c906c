"""PostgreSQL behind `vinculo.db.engine.Database`, through SQLAlchemy's async engine and asyncpg.

A unit of work takes one pooled connection on its first statement and runs every statement on
it, in one transaction from its first write on, committed at the end of the block (see
`PostgresUnitOfWork` for the reads before it). `begin_write` takes a transaction
advisory lock that every writer takes, so write transactions never overlap, as on SQLite: the
services check a row and then write, and rely on nothing writing in between.
`begin_row_write` takes the same lock in shared mode: row writes run beside each other, each
locking the rows it checks, and never beside a `begin_write` transaction. PostgreSQL queues a
lock request behind a conflicting one that waits, so a steady stream of row writes does not
starve a `begin_write`.

NOTE: only refreshes, login leases and webhook deliveries use row writes so far; every other
write still runs alone across all processes.

Connection failures (server down or restarting, a terminated backend, no free connection)
raise `DatabaseUnavailable`. A pooled connection that the server closed is discarded when
taken, and one found dead on the first statement of a unit of work is replaced once, since
nothing has run on it yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
import asyncpg.exceptions
import sqlalchemy.exc
import structlog
from sqlalchemy import CursorResult, Executable
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
# Connections that one process opens at most unless `database_pool_size` sets another number,
# each kept for reuse once opened, and none opened beyond them. A worker running 50 refreshes
# at once made 97 refreshes/s with 10 kept and 10 more opened and closed while all were busy,
# and 117/s with 20 kept (`bench.refreshes`, 600 links). Three processes of 31 connections
# each, the job queue's included, stay within PostgreSQL's default `max_connections` of 100.
POOL_SIZE = 20
POOL_MAX_OVERFLOW = 0
APPLICATION_NAME = "vinculo"
# Any fixed 64-bit number works; this one is "vinculo" in ASCII.
WRITE_LOCK_KEY = 0x76696E63756C6F

# A SQLAlchemy statement, or driver SQL such as a `Prepared` statement's compiled text.
Statement = Executable | str

_TAKE_WRITE_LOCK = f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"
_TAKE_ROW_WRITE_LOCK = f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK_KEY})"
# Errors a statement can raise from the database, through SQLAlchemy or from asyncpg directly.
_DRIVER_ERRORS = (
    sqlalchemy.exc.DBAPIError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)
T = TypeVar("T")


def unavailable_error(exc: BaseException, *, lost: bool = False) -> DatabaseUnavailable | None:
    """Return the `DatabaseUnavailable` that `exc` amounts to, or None for any other failure.

    `lost` says that the failure ended the connection, whatever `exc` is. Constraint
    violations, syntax errors and the like stay as they are: they are bugs or expected
    conditions, never a reason to retry later.
    """
    if lost:
        return DatabaseUnavailable(f"PostgreSQL connection failed: {driver_message(exc)}")
    if isinstance(exc, asyncpg.PostgresError):
        if str(exc.sqlstate or "")[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
            return DatabaseUnavailable(f"PostgreSQL connection failed: {driver_message(exc)}")
        return None
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
        self.pool_size = pool_size or POOL_SIZE
        self.engine = create_async_engine(
            url,
            pool_size=self.pool_size,
            max_overflow=POOL_MAX_OVERFLOW,
            # The units of work send BEGIN and COMMIT themselves (see `PostgresUnitOfWork`).
            isolation_level="AUTOCOMMIT",
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
    """One transaction on one pooled connection, both taken when first needed.

    The connection comes from SQLAlchemy's pool in autocommit mode, and the unit of work sends
    BEGIN, COMMIT and ROLLBACK on asyncpg itself. `Prepared` statements run on asyncpg
    directly: SQLAlchemy's async adapter was on the stack in 44% of a worker's CPU samples. Other
    statements run through SQLAlchemy on the same connection, inside the same transaction.

    Reads before the first write run outside a transaction, each on its own snapshot as under
    READ COMMITTED inside one, so a unit of work that only reads sends no BEGIN and no COMMIT.
    The transaction begins with the write lock (`begin_write`, `begin_row_write`, `execute`),
    or with a read that locks rows (`SELECT ... FOR UPDATE`).
    """

    def __init__(self, database: PostgresDatabase, *, autocommit: bool = False) -> None:
        self._database = database
        self._connection: AsyncConnection | None = None
        self._driver: asyncpg.Connection | None = None
        # Each statement commits on its own, with no BEGIN or COMMIT round trip; see
        # `Database.single_statement` for what may run so.
        self._autocommit = autocommit
        self._writing = autocommit
        # Set when BEGIN is sent, before the server confirms it. A unit of work cancelled while
        # its BEGIN waits (for the write lock, say) may still get a transaction that asyncpg
        # has not seen yet.
        self._in_transaction = False
        self._after_commit: list[Callable[[], None]] = []

    async def rows(self, statement: Select[Any] | Prepared, **params: Any) -> Sequence[Any]:
        if isinstance(statement, Prepared):
            compiled = statement.compiled(self._database.dialect)
            parameters = compiled.parameters(params)
            if compiled.locks_rows:
                await self._begin("")
            records = await self._call(lambda driver: driver.fetch(compiled.sql, *parameters))
            return compiled.convert_rows(records)
        if statement._for_update_arg is not None:
            await self._begin("")
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
        if not isinstance(statement, Prepared):
            await self.begin_write()
            return int((await self._execute(statement)).rowcount)
        compiled = statement.compiled(self._database.dialect)
        parameters = compiled.parameters(params)
        await self.begin_write()
        status = await self._call(lambda driver: driver.execute(compiled.sql, *parameters))
        return _affected_rows(status)

    async def execute_many(self, statement: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        compiled = statement.compiled(self._database.dialect)
        parameter_sets = [compiled.parameters(row) for row in rows]
        await self.begin_write()
        await self._call(lambda driver: driver.executemany(compiled.sql, parameter_sets))

    async def execute_returning(self, statement: Prepared, **params: Any) -> list[Any]:
        compiled = statement.compiled(self._database.dialect)
        parameters = compiled.parameters(params)
        await self.begin_write()
        records = await self._call(lambda driver: driver.fetch(compiled.sql, *parameters))
        return compiled.convert_rows(records)

    async def begin_write(self) -> None:
        """Take the write lock, held until this work commits or rolls back."""
        await self._begin(_TAKE_WRITE_LOCK)

    async def begin_row_write(self) -> None:
        """Take the write lock in shared mode, held until this work commits or rolls back."""
        await self._begin(_TAKE_ROW_WRITE_LOCK)

    async def _begin(self, lock: str) -> None:
        """Begin the transaction unless it began, and take `lock` (SQL) unless this work holds
        a write lock, in the same round trip."""
        if self._writing or (self._in_transaction and not lock):
            return
        sql = lock if self._in_transaction else f"BEGIN; {lock}"

        async def begin(driver: asyncpg.Connection) -> None:
            self._in_transaction = True
            await driver.execute(sql)

        await self._call(begin)
        self._writing = bool(lock)

    async def _execute(self, statement: Statement, parameters: Any = None) -> CursorResult[Any]:
        """Run a SQLAlchemy statement, or driver SQL (a `str`) with positional parameters."""

        async def run(_driver: asyncpg.Connection) -> CursorResult[Any]:
            assert self._connection is not None
            if isinstance(statement, str):
                return await self._connection.exec_driver_sql(statement, parameters)
            return await self._connection.execute(statement, parameters)

        return await self._call(run)

    async def _call(self, operation: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `operation` on this work's connection, taking one first if there is none.

        On a connection just taken, nothing has run yet, so a connection found dead is
        replaced once.
        """
        fresh = self._driver is None
        driver = self._driver or await self._connect()
        try:
            return await operation(driver)
        except _DRIVER_ERRORS as exc:
            if not (fresh and self._lost(exc)):
                _raise_if_unavailable(exc, lost=self._lost(exc))
                raise
            logger.warning("database.reconnecting", error=driver_message(exc))
        await self._close_connection()
        driver = await self._connect()
        try:
            return await operation(driver)
        except _DRIVER_ERRORS as exc:
            _raise_if_unavailable(exc, lost=self._lost(exc))
            raise

    def _lost(self, exc: BaseException) -> bool:
        """Return whether the failure `exc` ended this work's connection."""
        if self._driver is not None and self._driver.is_closed():
            return True
        if isinstance(exc, sqlalchemy.exc.DBAPIError):
            return bool(exc.connection_invalidated)
        # asyncpg raises InternalClientError when its protocol state is broken, as after a
        # terminated backend, so the connection is no longer usable either way.
        return isinstance(
            exc,
            OSError | asyncpg.ConnectionDoesNotExistError | asyncpg.exceptions.InternalClientError,
        )

    async def _connect(self) -> asyncpg.Connection:
        """Take a pooled connection that is still open.

        asyncpg notices a connection closed by the server (a restart, a terminated backend)
        while it waits in the pool, so those are discarded here without a round trip.
        """
        for _ in range(self._database.pool_size + POOL_MAX_OVERFLOW + 1):
            connection = await connect(self._database.engine)
            driver = _driver_connection(connection)
            if not driver.is_closed():
                self._connection, self._driver = connection, driver
                return driver
            await connection.invalidate()
            await connection.close()
        raise DatabaseUnavailable("PostgreSQL closed every pooled connection")

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
        driver = self._driver
        if driver is not None and self._in_transaction:
            try:
                status = await driver.execute("COMMIT")
            except BaseException as exc:
                # The commit may or may not have happened, so nothing may act as if it had.
                self._after_commit.clear()
                lost = self._lost(exc)
                await self._close_connection()
                if isinstance(exc, _DRIVER_ERRORS):
                    _raise_if_unavailable(exc, lost=lost)
                raise
            # COMMIT returned, so the transaction has ended either way.
            self._in_transaction = False
            if status != "COMMIT":
                # PostgreSQL replies ROLLBACK to a COMMIT when a statement of the transaction
                # failed and the block caught the error and went on.
                self._after_commit.clear()
                await self._close_connection()
                raise RuntimeError(
                    "PostgreSQL rolled the transaction back because one of its statements "
                    f"failed (COMMIT returned {status!r}); nothing of this unit of work is stored"
                )
        await self._close_connection()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def _rollback(self) -> None:
        self._after_commit.clear()
        await self._close_connection()

    async def _close_connection(self) -> None:
        """End any transaction still open and give the connection back to the pool, or
        discard it when it cannot be trusted."""
        connection, driver = self._connection, self._driver
        began = self._in_transaction
        self._connection = self._driver = None
        self._writing, self._in_transaction = self._autocommit, False
        if connection is None or driver is None:
            return
        # asyncpg reads the transaction state from the server's last reply, and a cancelled
        # BEGIN may have none yet. ROLLBACK first waits for the cancellation to finish.
        if not driver.is_closed() and (began or driver.is_in_transaction()):
            try:
                await driver.execute("ROLLBACK")
            except (*_DRIVER_ERRORS, asyncio.CancelledError) as exc:
                # The block's own exception is the one to report; a dead connection cannot
                # roll back, and the server ends its transaction when the connection closes.
                logger.warning("database.rollback_failed", error=driver_message(exc))
        if driver.is_closed() or driver.is_in_transaction():
            await connection.invalidate()
        await connection.close()


def _driver_connection(connection: AsyncConnection) -> asyncpg.Connection:
    """Return the asyncpg connection under a SQLAlchemy connection taken from the pool."""
    driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    assert isinstance(driver, asyncpg.Connection)
    return driver


def _affected_rows(status: str) -> int:
    """Read the row count from a command status such as "UPDATE 3" or "INSERT 0 1"."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0


def _raise_if_unavailable(exc: BaseException, *, lost: bool = False) -> None:
    unavailable = unavailable_error(exc, lost=lost)
    if unavailable is not None:
        raise unavailable from exc
