"""Helpers of the event-store tests: a fake clock, store factory, event builders.

PostgreSQL: ``ARGYLL_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``) names the server; every test
gets a schema of its own (``pg_schema``), dropped afterwards. When the
server is unreachable the PostgreSQL tests skip, except under ``CI=true``
where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import uuid
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from argyll.engine.store import EventStore, MemoryStore, NewEvent, SQLiteStore
from argyll.engine.store.postgres import PostgresStore

T = TypeVar("T")

#: A fixed instant (unix ns) the fake clock starts from.
CLOCK_START_NS = 1_790_000_000_000_000_000

PG_URL = os.environ.get("ARGYLL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
STORE_KINDS = ["memory", "sqlite", "postgres"]

_runner: asyncio.Runner | None = None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion (pytest-asyncio is not used here).

    Inside ``one_loop`` every call runs on that loop (a PostgreSQL store is
    bound to the loop that opened it); otherwise on a new loop.
    """
    if _runner is not None:
        return _runner.run(coro)
    return asyncio.run(coro)


@contextlib.contextmanager
def one_loop() -> Iterator[None]:
    """Make every ``run`` in the block use one event loop."""
    global _runner
    with asyncio.Runner() as runner:
        _runner = runner
        try:
            yield
        finally:
            _runner = None


@functools.cache
def postgres_unreachable() -> str:
    """Why PostgreSQL cannot be used ("" when it can)."""

    async def probe() -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return ""


def require_postgres() -> None:
    """Skip (fail under ``CI=true``) when PostgreSQL is unreachable."""
    reason = postgres_unreachable()
    if not reason:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable under CI: {reason}")
    pytest.skip(f"PostgreSQL at {PG_URL} unreachable ({reason})")


async def drop_schema(schema: str) -> None:
    """Drop a test schema and everything in it."""
    import asyncpg

    conn = await asyncpg.connect(PG_URL, timeout=10)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A store URL on a fresh schema of its own, dropped at the end."""
    require_postgres()
    schema = f"argyll_test_{uuid.uuid4().hex[:16]}"
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}schema={schema}&pool_size=4"
    finally:
        asyncio.run(drop_schema(schema)) if _runner is None else run(drop_schema(schema))


class FakeClock:
    """A wall clock in unix ns that advances ``step_ns`` on every reading."""

    def __init__(self, start_ns: int = CLOCK_START_NS, step_ns: int = 1_000_000) -> None:
        self.now_ns = start_ns
        self.step_ns = step_ns
        self.readings = 0

    def __call__(self) -> int:
        self.now_ns += self.step_ns
        self.readings += 1
        return self.now_ns


def make_store(kind: str, path: Path, clock: FakeClock | None = None, url: str = "") -> EventStore:
    """A new, unopened store of ``kind`` (``memory``, ``sqlite``, or ``postgres`` at ``url``)."""
    clock = clock if clock is not None else FakeClock()
    if kind == "memory":
        return MemoryStore(clock=clock)
    if kind == "postgres":
        return PostgresStore(url, clock=clock)
    return SQLiteStore(path, clock=clock)


def event(type_: str = "step_started", data: dict[str, Any] | None = None) -> NewEvent:
    """A new event with a JSON payload, raised now."""
    return NewEvent(type_, json.dumps(data or {}).encode(), datetime.now(UTC))


def started(flow_id: str, labels: dict[str, str] | None = None) -> NewEvent:
    """A ``flow_started`` event (plan and init left out: the store ignores them)."""
    data: dict[str, Any] = {"flow_id": flow_id, "plan": {}, "init": {}}
    if labels:
        data["labels"] = labels
    return event("flow_started", data)


def deactivated(flow_id: str, status: str) -> NewEvent:
    """A ``flow_deactivated`` event with a terminal status."""
    return event("flow_deactivated", {"flow_id": flow_id, "status": status})
