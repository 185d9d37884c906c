"""Migrations build exactly the schema the models declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from vinculo.db.engine import asyncpg_url, database_kind
from vinculo.db.migrate import upgrade
from vinculo.db.models import Base
from vinculo.db.sqlite import sqlite_engine


def _is_model_table(name: str | None, kind: str, parents: Any) -> bool:
    # Procrastinate's job queue tables come from its own schema script, not from the models.
    return not (kind == "table" and name is not None and name.startswith("procrastinate_"))


def compare_with_models(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"include_name": _is_model_table})
    return list(compare_metadata(context, Base.metadata))


async def postgres_differences(url: str) -> list[Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(asyncpg_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare_with_models)
    finally:
        await engine.dispose()


def schema_differences(url: str) -> list[Any]:
    """Return Alembic's differences between the database at `url` and the models."""
    if database_kind(url) == "postgresql":
        return asyncio.run(postgres_differences(url))
    engine = sqlite_engine(url)
    try:
        with engine.connect() as connection:
            return compare_with_models(connection)
    finally:
        engine.dispose()


def test_migrations_match_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    assert schema_differences(empty_database_url) == []


def test_upgrade_twice_is_harmless(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)

    assert schema_differences(empty_database_url) == []
