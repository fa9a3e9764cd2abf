"""Fixtures of the event-store tests: every store behind one parametrized fixture."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_helpers import (
    PG_URL,
    STORE_KINDS,
    FakeClock,
    make_store,
    one_loop,
    pg_schema,
    postgres_unreachable,
    run,
)

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


# -- PostgreSQL tests: deselected with one line when the server is unreachable --

_STORE_DIR = Path(__file__).resolve().parent
_skipped: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL test server")


def _needs_postgres(item: pytest.Item) -> bool:
    if item.get_closest_marker("postgres") is not None:
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgres" in callspec.params.values()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside CI, leave out every PostgreSQL test at once when the server is unreachable."""
    mine = [i for i in items if _STORE_DIR in Path(str(i.path)).parents and _needs_postgres(i)]
    if not mine or os.environ.get("CI", "").lower() == "true":
        return  # under CI they run, and fail if the server is unreachable
    reason = postgres_unreachable()
    if not reason:
        return
    config.hook.pytest_deselected(items=mine)
    dropped = set(map(id, mine))
    items[:] = [i for i in items if id(i) not in dropped]
    _skipped.append(f"{len(mine)} PostgreSQL store tests skipped: {PG_URL} unreachable ({reason})")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _skipped:
        terminalreporter.write_line(line)
