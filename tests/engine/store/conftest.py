"""Fixtures of the event-store tests: both stores behind one parametrized fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import FakeClock, make_store, run

from argyll.engine.store import EventStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[EventStore]:
    """An open store of each kind, closed after the test."""
    s = make_store(request.param, tmp_path / "data", clock)
    run(s.open())
    try:
        yield s
    finally:
        run(s.close())
