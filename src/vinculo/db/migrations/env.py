"""Alembic environment: runs migrations on the connection that `vinculo.db.migrate` passes."""

from __future__ import annotations

from alembic import context

from vinculo.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `vinculo migrate`, which supplies a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
