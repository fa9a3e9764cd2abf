"""An in-memory event store with the exact semantics of the durable ones.

For unit tests and throwaway engines (no data directory). Nothing survives
the process. Every method runs to completion without awaiting, so on one
event loop each call is atomic, as a transaction would be.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from argyll.engine.store.base import (
    AggregateId,
    AppendBatch,
    FlowIndexEntry,
    FlowIndexQuery,
    StoredEvent,
)
from argyll.engine.store.index import (
    ACTIVE,
    IndexChange,
    aggregate_key,
    commit_ns,
    from_micros,
    from_ns,
    index_change,
    is_child,
    only_batch,
    query_entries,
    to_micros,
)
from argyll.engine.store.signal import CommitSignal
from argyll.errors import ConcurrencyError, StoreError

__all__ = ["MemoryStore"]


class MemoryStore:
    """The ``EventStore`` protocol over dicts.

    Args:
        clock: Wall clock in unix nanoseconds, used for index timestamps
            (the commit time of EVT-13); inject one for deterministic tests.

    Attributes:
        transactions: Number of committed appends (one per ``append`` or
            ``append_many`` call that wrote something).
    """

    def __init__(self, *, clock: Callable[[], int] = time.time_ns) -> None:
        self._clock = clock
        self._events: dict[AggregateId, list[StoredEvent]] = {}
        self._log: list[StoredEvent] = []  # every event in position order, from 1
        self._index: dict[str, FlowIndexEntry] = {}
        self._last_ns = 0
        self._closed = False
        self._signal = CommitSignal()
        self.transactions = 0

    async def open(self) -> None:
        """Make the store usable again after ``close`` (contents are kept)."""
        self._closed = False

    async def close(self) -> None:
        """Refuse further calls; idempotent. Contents are kept for inspection."""
        self._closed = True

    async def append(self, batch: AppendBatch) -> list[StoredEvent]:
        """Append one batch atomically.

        Raises:
            ConcurrencyError: ``batch.expected_sequence`` is stale; nothing
                was written.
            StoreError: A ``flow_started``/``flow_deactivated`` payload
                cannot be indexed; nothing was written.
        """
        return only_batch(await self.append_many([batch]))

    async def append_many(
        self, batches: list[AppendBatch]
    ) -> list[list[StoredEvent] | ConcurrencyError]:
        """Append batches as one transaction; a stale batch fails alone.

        Raises:
            StoreError: A payload cannot be indexed; nothing was written.
        """
        self._check_open()
        # Derive every index change before writing anything (all or nothing).
        changes = [
            [c for c in (index_change(b.aggregate_id, e) for e in b.events) if c is not None]
            for b in batches
        ]
        for batch in batches:
            aggregate_key(batch.aggregate_id)
        nexts: dict[AggregateId, int] = {}
        results: list[list[StoredEvent] | ConcurrencyError] = []
        applied: list[IndexChange] = []
        for batch, batch_changes in zip(batches, changes, strict=True):
            agg = batch.aggregate_id
            log = self._events.get(agg)
            next_seq = nexts.get(agg, len(log) if log is not None else 0)
            if batch.expected_sequence != next_seq:
                results.append(ConcurrencyError(agg, batch.expected_sequence, next_seq))
                continue
            base = len(self._log) + 1
            stored = [
                StoredEvent(
                    agg,
                    next_seq + i,
                    from_micros(to_micros(e.timestamp)),
                    e.type,
                    e.data,
                    base + i,
                )
                for i, e in enumerate(batch.events)
            ]
            nexts[agg] = next_seq + len(stored)
            self._events.setdefault(agg, []).extend(stored)
            self._log.extend(stored)
            applied.extend(batch_changes)
            results.append(stored)
        if nexts:
            self.transactions += 1
            self._signal.fire()
        if applied:
            self._last_ns = commit_ns(self._clock(), self._last_ns)
            for change in applied:
                self._apply(change, self._last_ns)
        return results

    def _apply(self, change: IndexChange, ns: int) -> None:
        labels = change.labels
        if labels is None:
            old = self._index.get(change.flow_id)
            labels = old.labels if old is not None else {}
        self._index[change.flow_id] = FlowIndexEntry(
            change.flow_id, change.status, from_ns(ns), dict(labels)
        )

    async def read(self, aggregate_id: AggregateId, from_sequence: int = 0) -> list[StoredEvent]:
        """Events of an aggregate with ``sequence >= from_sequence``, in order."""
        self._check_open()
        return list(self._events.get(aggregate_id, [])[max(from_sequence, 0) :])

    async def read_committed(self, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events with ``position > after``, in position order."""
        self._check_open()
        start = max(after, 0)
        return self._log[start : start + max(limit, 0)]

    async def last_position(self) -> int:
        """The number of events appended so far (positions run from 1)."""
        self._check_open()
        return len(self._log)

    async def wait_committed(self, after: int, timeout: float) -> int:
        """``last_position()`` once past ``after``, or after ``timeout`` seconds."""
        return await self._signal.wait(self.last_position, after, timeout)

    async def next_sequence(self, aggregate_id: AggregateId) -> int:
        """The number of events of the aggregate (EVT-3)."""
        self._check_open()
        return len(self._events.get(aggregate_id, []))

    async def flow_entry(self, flow_id: str) -> FlowIndexEntry | None:
        """The index entry of a flow (children included), or ``None``."""
        self._check_open()
        return self._index.get(flow_id)

    async def query_flows(self, query: FlowIndexQuery) -> tuple[list[FlowIndexEntry], int]:
        """Matching non-child entries in index order, and the total before paging."""
        self._check_open()
        return query_entries(self._index.values(), query)

    async def active_flow_ids(self) -> list[str]:
        """IDs of every indexed ``active`` flow (children included), sorted."""
        self._check_open()
        return sorted(f for f, e in self._index.items() if e.status == ACTIVE)

    async def delete_flows_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Delete up to ``limit`` old terminal flows with their children (see the protocol).

        The flows leave reads and the index; the commit log behind
        ``read_committed`` keeps their events (positions are list offsets).
        """
        self._check_open()
        roots = sorted(
            (e for e in self._index.values() if e.status != ACTIVE and e.timestamp < cutoff),
            key=lambda e: (e.timestamp, e.flow_id),
        )
        deleted: list[str] = []
        taken = 0
        for root in roots:
            if taken >= limit:
                break
            if is_child(root.flow_id):
                continue
            prefix = root.flow_id + ":"
            family = [root.flow_id, *(f for f in self._index if f.startswith(prefix))]
            if any(self._index[f].status == ACTIVE for f in family):
                continue
            for flow_id in family:
                self._index.pop(flow_id, None)
                self._events.pop(("flow", flow_id), None)
            deleted.extend(family)
            taken += 1
        return deleted

    def status(self) -> dict[str, object]:
        """``{"type": "memory", "aggregates": n, "flows": n}``."""
        return {"type": "memory", "aggregates": len(self._events), "flows": len(self._index)}

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("event store is closed")
