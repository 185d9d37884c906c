"""`UTCDateTime` writes on SQLite exactly the text that SQLAlchemy's own conversion writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from vinculo.db.types import UTCDateTime

DIALECT = sqlite.dialect()
CASES = [
    datetime(2026, 12, 5, 9, 50, 22, 498973, tzinfo=UTC),
    datetime(2026, 12, 5, 9, 50, 22, tzinfo=UTC),
    datetime(1, 1, 2, tzinfo=UTC),
    datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(9999, 12, 30, 18, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.parametrize("value", CASES, ids=str)
def test_sqlite_text_matches_sqlalchemy(value: datetime) -> None:
    ours = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    theirs = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert ours is not None
    assert theirs is not None

    assert ours(value) == theirs(value.astimezone(UTC).replace(tzinfo=None))


def test_sqlite_rejects_naive_datetime() -> None:
    process = UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert process is not None

    with pytest.raises(ValueError, match="naive datetime"):
        process(datetime(2026, 1, 1))
    assert process(None) is None
