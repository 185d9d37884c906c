"""Apply Alembic migrations to the configured database, SQLite or PostgreSQL, or check that
they were applied."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy.exc
import structlog
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import BigInteger, Connection, func, literal, select
from sqlalchemy.engine.url import make_url

from vinculo.db.engine import asyncpg_url, database_kind
from vinculo.db.sqlite import sqlite_engine

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

logger = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Serialises servers that migrate one PostgreSQL database at the same time; SQLite gets the
# same from `BEGIN IMMEDIATE`. Any fixed 64-bit number other than the write lock's works.
MIGRATION_LOCK_KEY = 0x76696E63756C6F + 1

T = TypeVar("T")


class SchemaNotCurrent(Exception):
    """The database's schema is not at the revision that this release's migrations end at."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (the latest by default)."""
    if database_kind(url) == "sqlite":
        _upgrade_sqlite(url, revision)
    else:
        run_blocking(_upgrade_postgres(asyncpg_url(url), revision))
    logger.info(
        "database.migrated",
        revision=revision,
        database=make_url(url).render_as_string(hide_password=True),
    )


def _upgrade_sqlite(url: str, revision: str) -> None:
    engine = sqlite_engine(url, begin_statement="BEGIN IMMEDIATE")
    try:
        with engine.connect() as connection:
            _run_alembic(connection, revision)
            connection.commit()
    finally:
        engine.dispose()


async def _upgrade_postgres(url: str, revision: str) -> None:
    async with _postgres_connection(url) as connection:
        await connection.execute(
            select(func.pg_advisory_xact_lock(literal(MIGRATION_LOCK_KEY, BigInteger)))
        )
        await connection.run_sync(_run_alembic, revision)
        await connection.commit()


@contextlib.asynccontextmanager
async def _postgres_connection(url: str) -> AsyncIterator[AsyncConnection]:
    """Open one connection outside any pool; connection failures raise `DatabaseUnavailable`."""
    # Imported here so that a SQLite server never loads SQLAlchemy's asyncio support.
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from vinculo.db.postgres import connect, unavailable_error

    engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        connection = await connect(engine)
        try:
            yield connection
        finally:
            await connection.close()
    except (sqlalchemy.exc.DBAPIError, OSError) as exc:
        unavailable = unavailable_error(exc)
        if unavailable is not None:
            raise unavailable from exc
        raise
    finally:
        await engine.dispose()


def _run_alembic(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def check_schema_current(url: str) -> None:
    """Raise `SchemaNotCurrent` unless the database at `url` is at the latest revision.

    It only reads, so a SQLite file that does not exist counts as empty and is not created. The
    `keys` and `webhooks` commands call it instead of `upgrade`, so they never change the
    tables.
    """
    script = ScriptDirectory.from_config(alembic_config())
    latest = set(script.get_heads())
    current = current_revisions(url)
    if current == latest:
        return
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        raise SchemaNotCurrent(
            f"The database schema is at revision {', '.join(unknown)}, which this release does "
            "not know. A newer release of Vínculo migrated it, so run that release instead."
        )
    raise SchemaNotCurrent(
        "The database schema is older than this release (or empty): run `vinculo migrate` first."
    )


def current_revisions(url: str) -> set[str]:
    """Return the revisions stored in the database at `url`, or none for an empty database."""
    if database_kind(url) == "postgresql":
        return run_blocking(_current_revisions_postgres(asyncpg_url(url)))
    path = make_url(url).database
    if not path or path == ":memory:" or not Path(path).exists():
        return set()
    engine = sqlite_engine(url, begin_statement="BEGIN")
    try:
        with engine.connect() as connection:
            return _read_revisions(connection)
    finally:
        engine.dispose()


async def _current_revisions_postgres(url: str) -> set[str]:
    async with _postgres_connection(url) as connection:
        return await connection.run_sync(_read_revisions)


def _read_revisions(connection: Connection) -> set[str]:
    # Returns no revision when the version table does not exist yet.
    return set(MigrationContext.configure(connection).get_current_heads())


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion from synchronous code.

    Alembic's commands are synchronous. A caller that already runs an event loop in this
    thread gets the coroutine run on a new loop in a worker thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop_running = False
    else:
        loop_running = True
    if not loop_running:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
