"""The one source of "now", which the sandbox (and tests) can move forward without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock time shifted by an offset that only grows or is reset.

    In sandbox mode the offset is stored in the database, so every server process on it shares
    one clock: `vinculo.sandbox_api.clock` reads the stored offset at most once per
    `refresh_seconds` and passes it to `apply_stored`. `now()` itself never reads the database.
    `advance` and `reset` change this process's offset only, and tests use them.
    """

    def __init__(self, *, refresh_seconds: float = 1.0) -> None:
        self._offset = timedelta(0)
        self._refresh_seconds = refresh_seconds
        # `time.monotonic()` after which the stored offset should be read again.
        self._refresh_at = 0.0
        # The version of the stored offset that `_offset` came from. Version 0 is real time,
        # which is what a database without a stored offset has.
        self._version = 0

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def real_now(self) -> datetime:
        """Return the time without the sandbox's offset.

        Leases use it: they bound how long a process may hold a link or a delivery, which
        moving or resetting the sandbox clock must not shorten or stretch.
        """
        return datetime.now(UTC)

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

    def refresh_due(self) -> bool:
        """Return whether the stored offset should be read again."""
        return time.monotonic() >= self._refresh_at

    def apply_stored(self, offset: timedelta, version: int) -> None:
        """Take the offset stored in the database, unless this version was applied already.

        A version seen before leaves the offset alone, so an offset set with `advance` stays
        while nobody changes the stored one.
        """
        if version != self._version:
            self._offset = offset
            self._version = version
        self._refresh_at = time.monotonic() + self._refresh_seconds
