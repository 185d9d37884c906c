"""Fixtures of the retrieval tests: the shared `app` and clients run on a fixed clock."""

from __future__ import annotations

import pytest

from tests.retrieval.calls import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    """Replace the wall clock: every test starts at `calls.NOW` and moves time by `advance`."""
    return FrozenClock()
