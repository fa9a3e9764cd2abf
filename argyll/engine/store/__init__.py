"""The event store: append-only event logs per aggregate plus the flow index.

``EventStore`` (``base``) is the protocol the engine codes against;
``SQLiteStore`` is the durable embedded default, ``MemoryStore`` its
in-memory twin for tests and throwaway engines. Nothing outside
``sqlite.py`` and ``sqlite_writer.py`` knows about SQL.
"""

from __future__ import annotations

from pathlib import Path

from argyll.engine.store.base import (
    AggregateId,
    AppendBatch,
    ConcurrencyError,
    EventStore,
    FlowIndexEntry,
    FlowIndexQuery,
    IndexCursor,
    NewEvent,
    StoredEvent,
)
from argyll.engine.store.memory import MemoryStore
from argyll.engine.store.sqlite import SQLiteStore

__all__ = [
    "AggregateId",
    "AppendBatch",
    "ConcurrencyError",
    "EventStore",
    "FlowIndexEntry",
    "FlowIndexQuery",
    "IndexCursor",
    "MemoryStore",
    "NewEvent",
    "SQLiteStore",
    "StoredEvent",
    "open_store",
]


def open_store(data_dir: Path | None) -> EventStore:
    """The store for a data directory: ``SQLiteStore`` there, or ``MemoryStore`` for ``None``.

    The store is not opened yet: ``await store.open()`` before use and
    ``await store.close()`` at the end.
    """
    if data_dir is None:
        return MemoryStore()
    return SQLiteStore(data_dir)
