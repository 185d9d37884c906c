"""Apply Alembic migrations to the configured database, SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy.exc
import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import BigInteger, Connection, func, literal, select
from sqlalchemy.engine.url import make_url

from vinculo.db.engine import asyncpg_url, database_kind
from vinculo.db.sqlite import sqlite_engine

logger = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Serialises servers that migrate one PostgreSQL database at the same time; SQLite gets the
# same from `BEGIN IMMEDIATE`. Any fixed 64-bit number other than the write lock's works.
MIGRATION_LOCK_KEY = 0x76696E63756C6F + 1

T = TypeVar("T")


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
    # Imported here so that a SQLite server never loads SQLAlchemy's asyncio support.
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from vinculo.db.postgres import connect, unavailable_error

    engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        connection = await connect(engine)
        try:
            await connection.execute(
                select(func.pg_advisory_xact_lock(literal(MIGRATION_LOCK_KEY, BigInteger)))
            )
            await connection.run_sync(_run_alembic, revision)
            await connection.commit()
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
