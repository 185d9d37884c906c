"""add refresh schedule and job queue

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00.000000

On PostgreSQL this also creates Procrastinate's tables and functions, the job queue of
`vinculo worker`. SQLite servers run their jobs in memory, inside `vinculo serve`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

from vinculo.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("login_lease_holder", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("next_refresh_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "historical_update_pending",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(sa.Column("refresh_request_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("last_refreshed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("refresh_requested_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("refresh_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index(batch.f("ix_links_next_refresh_at"), ["next_refresh_at"])
    if op.get_bind().dialect.name == "postgresql":
        _run_driver_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_driver_script(
            "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_jobs, procrastinate_workers CASCADE; "
            "DROP TYPE IF EXISTS procrastinate_job_to_defer_v1 CASCADE; "
            "DROP TYPE IF EXISTS procrastinate_job_event_type CASCADE; "
            "DROP TYPE IF EXISTS procrastinate_job_status CASCADE; "
            "DO $$ DECLARE f record; BEGIN "
            "FOR f IN SELECT oid::regprocedure AS signature FROM pg_proc "
            "WHERE proname LIKE 'procrastinate\\_%' LOOP "
            "EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE'; END LOOP; END $$;"
        )
    with op.batch_alter_table("links") as batch:
        batch.drop_index(batch.f("ix_links_next_refresh_at"))
        batch.drop_column("refresh_count")
        batch.drop_column("refresh_requested_at")
        batch.drop_column("last_refreshed_at")
        batch.drop_column("refresh_request_id")
        batch.drop_column("historical_update_pending")
        batch.drop_column("next_refresh_at")
        batch.drop_column("login_lease_holder")


def _run_driver_script(script: str) -> None:
    """Run several SQL statements at once through asyncpg's simple query protocol.

    SQLAlchemy sends one prepared statement at a time, and Procrastinate's schema is a script
    of many, with function bodies that a naive split on `;` would break.
    """
    adapted: Any = op.get_bind().connection.dbapi_connection
    adapted.run_async(lambda driver: driver.execute(script))
