"""The event store: append-only event logs per aggregate plus the flow index.

``EventStore`` (``base``) is the protocol the engine codes against;
``SQLiteStore`` is the durable embedded default, ``MemoryStore`` its
in-memory twin for tests and throwaway engines, ``PostgresStore``
(``postgres``, imported on demand) the store several engines share.
``factory`` picks one from the configuration. Nothing outside the
``sqlite*`` and ``postgres*`` modules knows about SQL.
"""

from __future__ import annotations

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
from argyll.engine.store.factory import open_store
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
