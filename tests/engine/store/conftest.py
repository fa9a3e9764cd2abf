"""Fixtures of the event-store tests: every store behind one parametrized fixture."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import STORE_KINDS, FakeClock, make_store, one_loop, pg_schema, run

from argyll.engine.store import EventStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[EventStore]:
    """An open store of each kind, closed after the test (PostgreSQL: in its own schema)."""
    with one_loop(), contextlib.ExitStack() as stack:
        url = stack.enter_context(pg_schema()) if request.param == "postgres" else ""
        s = make_store(request.param, tmp_path / "data", clock, url)
        run(s.open())
        try:
            yield s
        finally:
            run(s.close())
