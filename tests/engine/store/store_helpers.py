"""Helpers of the event-store tests: a fake clock, store factory, event builders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from argyll.engine.store import EventStore, MemoryStore, NewEvent, SQLiteStore

T = TypeVar("T")

#: A fixed instant (unix ns) the fake clock starts from.
CLOCK_START_NS = 1_790_000_000_000_000_000


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion (pytest-asyncio is not used here)."""
    return asyncio.run(coro)


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


def make_store(kind: str, path: Path, clock: FakeClock | None = None) -> EventStore:
    """A new, unopened store of ``kind`` (``memory`` or ``sqlite``)."""
    clock = clock if clock is not None else FakeClock()
    if kind == "memory":
        return MemoryStore(clock=clock)
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
