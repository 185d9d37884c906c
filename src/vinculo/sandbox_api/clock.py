"""The sandbox clock's offset, stored in the database and shared by every server process.

`refresh_shared_clock` runs before each authenticated request and each retention run. It reads
the stored offset again once the clock's `refresh_seconds` (one second by default) have passed
since the last read, so a clock moved by another process applies here from the first request
after that. The process that moves the clock applies the change at once. Production mode never
reads or applies a stored offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, select, update

from vinculo.db.engine import UnitOfWork
from vinculo.db.models import sandbox_clock
from vinculo.db.prepared import Prepared

if TYPE_CHECKING:
    from vinculo.context import AppContext

# The id of the table's only row.
CLOCK_ROW_ID = 1

_READ = Prepared(
    select(sandbox_clock.c.offset_microseconds, sandbox_clock.c.version).where(
        sandbox_clock.c.id == bindparam("id")
    )
)


@dataclass(frozen=True, slots=True)
class StoredOffset:
    """The clock's offset from real time and the version that counts its changes."""

    offset: timedelta
    version: int


# A database without the row has never moved the clock.
REAL_TIME = StoredOffset(timedelta(0), 0)


async def read_offset(uow: UnitOfWork) -> StoredOffset:
    row = await uow.first(_READ, id=CLOCK_ROW_ID)
    if row is None:
        return REAL_TIME
    return StoredOffset(timedelta(microseconds=row.offset_microseconds), row.version)


async def write_offset(uow: UnitOfWork, offset: timedelta, *, now: datetime) -> StoredOffset:
    """Store a new offset and return it with its new version.

    The caller must have called `uow.begin_write()` before reading the offset it changes, so
    that two processes moving the clock at once cannot lose a change.
    """
    current = await read_offset(uow)
    stored = StoredOffset(offset, current.version + 1)
    values = {
        "offset_microseconds": offset // timedelta(microseconds=1),
        "version": stored.version,
        "updated_at": now,
    }
    changed = await uow.execute(
        update(sandbox_clock).where(sandbox_clock.c.id == CLOCK_ROW_ID).values(**values)
    )
    if changed == 0:
        await uow.execute(insert(sandbox_clock).values(id=CLOCK_ROW_ID, **values))
    return stored


async def refresh_shared_clock(context: AppContext) -> None:
    """Apply the stored offset to the process's clock when the last read is older than the
    clock's refresh interval; do nothing in production mode."""
    clock = context.clock
    if not context.settings.is_sandbox or not clock.refresh_due():
        return
    async with context.database.unit_of_work() as uow:
        stored = await read_offset(uow)
    clock.apply_stored(stored.offset, stored.version)
