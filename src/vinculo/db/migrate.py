"""Apply Alembic migrations to the configured database."""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config

from vinculo.db.engine import sqlite_engine

logger = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (the latest by default)."""
    engine = sqlite_engine(url, begin_statement="BEGIN IMMEDIATE")
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()
    logger.info("database.migrated", revision=revision)
