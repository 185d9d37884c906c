"""The one source of "now", which the sandbox (and tests) can move forward without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time shifted by an offset that only grows or is reset.

    NOTE: the offset lives in this process only, so a clock moved in one server process does
    not move in another. A shared clock needs the offset stored in the database.
    """

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move time forward by `delta`; moving it backwards is rejected."""
        if delta < timedelta(0):
            raise ValueError(f"the clock only moves forward, got {delta}")
        self._offset += delta

    def reset(self) -> None:
        self._offset = timedelta(0)

    @property
    def offset(self) -> timedelta:
        return self._offset
