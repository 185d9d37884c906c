"""The interface every database engine gives the services: the unit of work and its errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy import Executable
from sqlalchemy.sql import Select

from vinculo.db.prepared import Prepared


class DatabaseUnavailable(Exception):
    """The database cannot take the request now (server down, restarting, out of resources).

    PostgreSQL raises it from the driver's error, which stays available as `__cause__`. SQLite
    raises its own `OperationalError` instead. Either way requests get a 503 with
    `Retry-After`, because the same request may succeed once the database is back.
    """


class UnitOfWork(Protocol):
    """One transaction: use it as `async with`; it commits at the end of the block and rolls
    back if the block raises. Services only execute statements in it, and never commit."""

    async def rows(self, statement: Select[Any] | Prepared, **params: Any) -> Sequence[Any]:
        """Return every row of a SELECT, read inside the write transaction once one began."""
        ...

    async def first(self, statement: Select[Any] | Prepared, **params: Any) -> Any:
        """Return the first row of a SELECT, or None."""
        ...

    async def scalar(self, statement: Select[Any] | Prepared, **params: Any) -> Any:
        """Return the first column of the first row of a SELECT, or None."""
        ...

    async def execute(self, statement: Executable | Prepared, **params: Any) -> int:
        """Execute a write statement in the write transaction; return the affected row count."""
        ...

    async def execute_many(self, statement: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        """Execute a write statement once per parameter set in `rows`."""
        ...

    async def execute_returning(self, statement: Prepared, **params: Any) -> list[Any]:
        """Execute a write statement with a RETURNING clause; return the rows it returned."""
        ...

    async def begin_write(self) -> None:
        """Start the write transaction unless this work already did.

        Write transactions never overlap, across every process on the database: a read after
        `begin_write` sees every write committed before it, and nothing else writes until this
        work ends. Services rely on that to check a row and then write.
        """
        ...

    async def begin_row_write(self) -> None:
        """Start a write transaction that may overlap other row writes, unless this work
        already began one of either kind.

        A row write never overlaps a `begin_write` transaction, but two row writes may run at
        once, so one must lock the rows it checks before it writes on what it read (a SELECT
        ... FOR UPDATE, or a single conditional UPDATE). It is meant for the writes that
        background work makes many of at a time and that each touch one link's rows:
        refreshes, login leases, webhook delivery attempts. SQLite has one writer at a time,
        so there it is the same as `begin_write`.
        """
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this work has committed; it is dropped on rollback."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
