"""Which `vinculo` commands migrate the database, and what the others do on an old schema.

`serve`, `worker`, `migrate` and `sandbox seed` migrate. The `keys` and `webhooks` commands only
check the schema, and exit with status 2 when it is not the latest, without changing it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy
from sqlalchemy.engine.url import make_url

from tests.support.databases import PostgresDatabases, driver_url, selected_database
from tests.test_cli import run_cli as run_cli_on_data_dir
from tests.test_cli_database import run_cli
from vinculo.cli import _postgres_hint
from vinculo.db.engine import DatabaseUnavailable
from vinculo.db.migrate import SchemaNotCurrent, check_schema_current, upgrade

OLDER_THAN_THIS_RELEASE = "older than this release (or empty): run `vinculo migrate` first"
# Every command that must not migrate, with arguments that pass its own input checks.
CHECKING_COMMANDS = [
    ("keys", "list"),
    ("keys", "create", "--tenant", "acme"),
    ("keys", "revoke", "some-secret-id"),
    ("webhooks", "list"),
    ("webhooks", "create", "--tenant", "acme", "--url", "http://127.0.0.1:9/hook"),
    ("webhooks", "delete", "some-endpoint-id"),
    ("webhooks", "deliveries"),
    ("webhooks", "redeliver", "0" * 32),
]


def assert_schema_not_current(url: str) -> None:
    with pytest.raises(SchemaNotCurrent):
        check_schema_current(url)


@pytest.mark.parametrize("command", CHECKING_COMMANDS, ids=" ".join)
def test_command_rejects_empty_database(
    tmp_path: Path, empty_database_url: str, command: tuple[str, ...]
) -> None:
    rejected = run_cli(tmp_path, empty_database_url, *command)

    assert rejected.returncode == 2, rejected.stderr
    assert OLDER_THAN_THIS_RELEASE in rejected.stderr
    assert "database.migrated" not in rejected.stderr
    assert "Traceback" not in rejected.stderr
    assert_schema_not_current(empty_database_url)


def test_check_creates_no_sqlite_file(tmp_path: Path) -> None:
    rejected = run_cli_on_data_dir(tmp_path / "data", "keys", "list")

    assert rejected.returncode == 2
    assert "Database: sqlite:///" in rejected.stderr
    assert not (tmp_path / "data").exists()


def test_command_rejects_older_schema(tmp_path: Path, empty_database_url: str) -> None:
    upgrade(empty_database_url, "0006")

    rejected = run_cli(tmp_path, empty_database_url, "keys", "list")

    assert rejected.returncode == 2
    assert OLDER_THAN_THIS_RELEASE in rejected.stderr
    assert_schema_not_current(empty_database_url)


def test_commands_work_after_migrate(tmp_path: Path, empty_database_url: str) -> None:
    migrated = run_cli(tmp_path, empty_database_url, "migrate")
    listed = run_cli(tmp_path, empty_database_url, "webhooks", "list")
    deliveries = run_cli(tmp_path, empty_database_url, "webhooks", "deliveries")

    assert migrated.returncode == 0, migrated.stderr
    assert "database.migrated" in migrated.stderr
    assert listed.returncode == 0, listed.stderr
    assert "database.migrated" not in listed.stderr
    assert deliveries.returncode == 0, deliveries.stderr
    assert "database.migrated" not in deliveries.stderr


def test_newer_schema_is_named(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    set_revision(empty_database_url, "9999")

    with pytest.raises(SchemaNotCurrent, match="revision 9999, which this release does not"):
        check_schema_current(empty_database_url)


def set_revision(url: str, revision: str) -> None:
    """Write `revision` into Alembic's version table, as a later release's migration would."""
    statement = f"UPDATE alembic_version SET version_num = '{revision}'"  # noqa: S608
    if make_url(url).get_backend_name() == "sqlite":
        engine = sqlalchemy.create_engine(url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(statement)
        finally:
            engine.dispose()
        return

    async def update() -> None:
        connection = await asyncpg.connect(driver_url(url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(update())


def test_migrate_prints_database(tmp_path: Path) -> None:
    migrated = run_cli_on_data_dir(tmp_path, "migrate")

    assert migrated.returncode == 0, migrated.stderr
    assert f"Database: sqlite:///{tmp_path.resolve()}/vinculo.db" in migrated.stderr


def test_migrate_says_what_it_did(tmp_path: Path) -> None:
    first = run_cli_on_data_dir(tmp_path, "migrate")
    again = run_cli_on_data_dir(tmp_path, "migrate")

    assert first.returncode == 0, first.stderr
    assert "Migrated the database from empty to " in first.stdout
    assert again.returncode == 0, again.stderr
    assert "already at the latest revision" in again.stdout


def test_seed_migrates_empty_database(tmp_path: Path) -> None:
    seeded = run_cli_on_data_dir(
        tmp_path, "sandbox", "seed", "--links", "1", "--months", "1", "--workers", "0"
    )

    assert seeded.returncode == 0, seeded.stderr
    check_schema_current(f"sqlite:///{tmp_path / 'vinculo.db'}")


@pytest.mark.skipif(
    selected_database() != "postgresql",
    reason="about PostgreSQL's missing-database error; runs with VINCULO_TEST_DATABASE=postgresql",
)
def test_missing_postgres_database_hint(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    # A name in the test session's own prefix that nothing creates.
    name = f"vinculo_test_{os.getpid()}_never_created"
    url = postgres_databases.url_of(name)

    rejected = run_cli(tmp_path, url, "migrate")

    assert rejected.returncode == 2
    assert f'database "{name}" does not exist' in rejected.stderr
    assert "Create it first, for example with `createdb" in rejected.stderr
    assert f"{name}`." in rejected.stderr
    assert "accepts connections" not in rejected.stderr
    assert "Traceback" not in rejected.stderr


def unavailable_from(driver_error: Exception) -> DatabaseUnavailable:
    """Return a `DatabaseUnavailable` chained to `driver_error`, as the engine raises it."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    except DatabaseUnavailable as unavailable:
        return unavailable


def test_too_many_connections_hint() -> None:
    error = asyncpg.TooManyConnectionsError("sorry, too many clients already")

    hint = _postgres_hint(unavailable_from(error))

    assert "raise its max_connections" in hint
    assert "VINCULO_DATABASE_POOL_SIZE" in hint


def test_refused_connection_hint() -> None:
    hint = _postgres_hint(unavailable_from(ConnectionRefusedError(111, "Connection rejected")))

    assert "is running and accepts connections" in hint
