"""Fixtures of the sandbox control API tests: the app runs on a clock fixed at `calls.NOW`."""

from __future__ import annotations

import pytest

from tests.retrieval.calls import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    """A clock fixed at `tests.retrieval.calls.NOW`, so the sandbox data is the same every run;
    the sandbox control API moves it through the stored offset."""
    return FrozenClock()
