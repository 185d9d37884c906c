"""The database handle that every request and job opens its unit of work on.

`Database` picks the engine from the URL's scheme: SQLite (`vinculo.db.sqlite`, the default)
or PostgreSQL through asyncpg (`vinculo.db.postgres`). Both give the same `UnitOfWork`, so
services and repositories do not depend on which one runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlalchemy.engine import Dialect
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError

from vinculo.db.protocol import DatabaseUnavailable, UnitOfWork
from vinculo.db.sqlite import SqliteDatabase

if TYPE_CHECKING:
    from vinculo.db.postgres import PostgresDatabase

__all__ = [
    "Database",
    "DatabaseKind",
    "DatabaseUnavailable",
    "UnitOfWork",
    "asyncpg_url",
    "database_kind",
]

DatabaseKind = Literal["sqlite", "postgresql"]

_SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
_POSTGRES_DRIVERS = frozenset({"postgresql", "postgresql+asyncpg"})


def database_kind(url: str) -> DatabaseKind:
    """Return the engine that `url` names; raise `ValueError` for any other."""
    try:
        drivername = make_url(url).drivername
    except ArgumentError:
        drivername = None
    if drivername in _SQLITE_DRIVERS:
        return "sqlite"
    if drivername in _POSTGRES_DRIVERS:
        return "postgresql"
    # Only the scheme: the rest of the URL may carry a password.
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to/file.db or "
        "postgresql://user:password@host:port/database"
    )


def asyncpg_url(url: str) -> str:
    """Return a PostgreSQL URL with the asyncpg driver, which is the one Vínculo uses."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


class Database:
    """One process's access to the database of record, SQLite or PostgreSQL."""

    def __init__(self, url: str, *, pool_size: int | None = None) -> None:
        """`pool_size` is the number of PostgreSQL connections opened at most (see
        `PostgresDatabase`); SQLite ignores it."""
        self.url = url
        self.kind = database_kind(url)
        self.backend: SqliteDatabase | PostgresDatabase
        if self.kind == "sqlite":
            self.backend = SqliteDatabase(url)
        else:
            # Imported here so that a SQLite server never loads asyncpg and SQLAlchemy's
            # asyncio support.
            from vinculo.db.postgres import PostgresDatabase

            self.backend = PostgresDatabase(asyncpg_url(url), pool_size=pool_size)
        self.dialect: Dialect = self.backend.dialect

    def unit_of_work(self) -> UnitOfWork:
        """Start a unit of work: use it as `async with`; it commits at the end of the block
        and rolls back if the block raises."""
        return self.backend.unit_of_work()

    def single_statement(self) -> UnitOfWork:
        """Start a unit of work for one statement that is consistent alone: a read, or a write
        that checks and changes its rows in one conditional statement.

        On PostgreSQL the statement runs outside a transaction, which saves the BEGIN and
        COMMIT round trips, and takes no write lock: `begin_write` and `begin_row_write` do
        nothing in it. On SQLite it is an ordinary unit of work.
        """
        return self.backend.single_statement()

    def close(self) -> None:
        """Close a SQLite database's connections; a PostgreSQL database needs `aclose`."""
        if not isinstance(self.backend, SqliteDatabase):
            raise RuntimeError(
                "PostgreSQL connections close asynchronously: await Database.aclose() instead"
            )
        self.backend.close()

    async def aclose(self) -> None:
        """Close the connections, on either engine; units of work opened after this fail."""
        if isinstance(self.backend, SqliteDatabase):
            self.backend.close()
        else:
            await self.backend.close()
