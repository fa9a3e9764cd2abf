"""The aggregate repository: every read and write of an aggregate's events goes here.

- *load* = cache + fold: catalog and cluster are projections kept for the
  process's life (replayed once at start-up); flows are folded on demand
  into a bounded LRU cache of :class:`FlowEntry` values.
- *commit* = encode the payloads, append them at the expected sequence
  (optimistic concurrency: a stale sequence raises ``ConcurrencyError`` and
  writes nothing), then publish the stored events on the bus, in commit order.
  In a cluster the store's global order is the publisher instead
  (``cluster.Tail``), and ``on_commit`` publishes nothing.

Nothing else in the engine calls ``EventStore.append`` or encodes events;
this is the seam a shared (PostgreSQL) store plugs into.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from argyll.engine.bus import EventBus
from argyll.engine.eventlog import decode_payload, encode_payload
from argyll.engine.flow.state import fold
from argyll.engine.store.base import AggregateId, AppendBatch, EventStore, StoredEvent
from argyll.errors import ConcurrencyError
from argyll.model import events as ev
from argyll.model.flow import FlowState

__all__ = [
    "COMMIT_ATTEMPTS",
    "FlowEntry",
    "Projection",
    "Repository",
    "flow_aggregate",
    "payloads",
]

#: Decisions tried on one write when other writers keep committing first.
COMMIT_ATTEMPTS = 5


class Projection(Protocol):
    """A state folded from one aggregate's events (catalog, cluster)."""

    next_sequence: int

    def apply(self, payload: ev.Payload, ts: datetime) -> None: ...


@dataclass(slots=True)
class FlowEntry:
    """A flow's folded state and the sequence its next event will get."""

    state: FlowState
    next_sequence: int


def flow_aggregate(flow_id: str) -> AggregateId:
    """The aggregate ID of a flow: ``("flow", flow_id)``."""
    return ("flow", flow_id)


def payloads(events: Iterable[StoredEvent]) -> Iterable[tuple[ev.Payload, datetime]]:
    """The typed payloads of stored events with their timestamps, for ``fold``."""
    return ((decode_payload(e), e.timestamp) for e in events)


class Repository:
    """Loads and commits aggregates over one store and one bus.

    Args:
        store: The event store.
        bus: Where committed events are published.
        flow_cache_size: How many folded flows stay in memory.
    """

    def __init__(self, store: EventStore, bus: EventBus, flow_cache_size: int) -> None:
        self.store = store
        self.bus = bus
        #: Called with each commit's stored events (default: publish them on the bus).
        self.on_commit: Callable[[list[StoredEvent]], None] = bus.publish
        self._flows: OrderedDict[str, FlowEntry] = OrderedDict()
        self._flow_cache_size = max(1, flow_cache_size)

    # any aggregate ---------------------------------------------------------

    async def read(self, aggregate: AggregateId, from_sequence: int = 0) -> list[StoredEvent]:
        """The committed events of ``aggregate`` from ``from_sequence`` on."""
        return await self.store.read(aggregate, from_sequence)

    async def replay(self, aggregate: AggregateId, projection: Projection) -> None:
        """Fold every committed event of ``aggregate`` into ``projection`` (REC-1)."""
        for payload, ts in payloads(await self.store.read(aggregate)):
            projection.apply(payload, ts)

    async def commit(
        self, aggregate: AggregateId, expected: int, events: Sequence[ev.Payload], at: datetime
    ) -> list[StoredEvent]:
        """Append ``events`` raised at ``at`` atomically at ``expected``, then publish them.

        Raises:
            ConcurrencyError: ``expected`` is not the aggregate's next
                sequence; nothing was written or published.
        """
        batch = AppendBatch(aggregate, expected, [encode_payload(p, at) for p in events])
        stored = await self.store.append(batch)
        self.on_commit(stored)
        return stored

    async def commit_to(
        self,
        aggregate: AggregateId,
        projection: Projection,
        events: Sequence[ev.Payload],
        at: datetime,
    ) -> list[StoredEvent]:
        """Commit ``events`` at ``projection.next_sequence`` and apply them to it.

        An event the cluster tail applied first (while this commit returned)
        is not applied twice.
        """
        stored = await self.commit(aggregate, projection.next_sequence, events, at)
        for payload, event in zip(events, stored, strict=True):
            if event.sequence == projection.next_sequence:
                projection.apply(payload, at)
        return stored

    async def decide_and_commit(
        self,
        aggregate: AggregateId,
        projection: Projection,
        decide: Callable[[], Sequence[ev.Payload]],
        now: Callable[[], datetime],
    ) -> Sequence[ev.Payload]:
        """Decide against ``projection`` and commit the events; returns them.

        When another writer (a cluster node) committed first, the projection
        catches up from the store and ``decide`` runs again, up to
        ``COMMIT_ATTEMPTS`` times. Callers serialize their own writes.
        """
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            events = decide()
            if not events:
                return events
            try:
                await self.commit_to(aggregate, projection, events, now())
                return events
            except ConcurrencyError:
                if attempt == COMMIT_ATTEMPTS:
                    raise
                await self.catch_up(aggregate, projection)
        return []

    async def catch_up(self, aggregate: AggregateId, projection: Projection) -> None:
        """Apply what other writers committed to ``aggregate`` since the projection's head."""
        for event in await self.store.read(aggregate, projection.next_sequence):
            if event.sequence == projection.next_sequence:
                projection.apply(decode_payload(event), event.timestamp)

    # flows -------------------------------------------------------------------

    def cached_flow(self, flow_id: str) -> FlowEntry | None:
        """A flow's cached entry, if any; never reads the store."""
        return self._flows.get(flow_id)

    async def load_flow(self, flow_id: str, pinned: Container[str] = ()) -> FlowEntry | None:
        """A flow's entry from the cache, or folded from its events; ``None`` if unknown."""
        entry = self._flows.get(flow_id)
        if entry is not None:
            self._flows.move_to_end(flow_id)
            return entry
        stored = await self.store.read(flow_aggregate(flow_id))
        if not stored:
            return None
        entry = FlowEntry(fold(payloads(stored)), len(stored))
        self.remember_flow(flow_id, entry, pinned)
        return entry

    async def committed_flow(self, flow_id: str) -> FlowEntry | None:
        """A flow folded from its committed events only, bypassing the cache.

        The cache may hold a decision whose events are not yet durable; a
        snapshot for a subscriber must not (WS-5).
        """
        stored = await self.store.read(flow_aggregate(flow_id))
        if not stored:
            return None
        return FlowEntry(fold(payloads(stored)), stored[-1].sequence + 1)

    def forget_flow(self, flow_id: str) -> None:
        """Drop a cached flow (another node wrote it); the next load reads the store."""
        self._flows.pop(flow_id, None)

    def remember_flow(self, flow_id: str, entry: FlowEntry, pinned: Container[str] = ()) -> None:
        """Cache ``entry``; evicts the least recently used flows not in ``pinned``."""
        flows = self._flows
        flows[flow_id] = entry
        flows.move_to_end(flow_id)
        while len(flows) > self._flow_cache_size:
            oldest = next(iter(flows))
            if oldest in pinned:  # being written: keep it
                flows.move_to_end(oldest)
                break
            del flows[oldest]

    async def commit_flow(
        self, flow_id: str, entry: FlowEntry, events: Sequence[ev.Payload], at: datetime
    ) -> list[StoredEvent]:
        """Commit a decision's events (already applied to ``entry.state``).

        On failure the cached entry is dropped: its state ran ahead of the log.
        """
        try:
            stored = await self.commit(flow_aggregate(flow_id), entry.next_sequence, events, at)
        except BaseException:
            self._flows.pop(flow_id, None)
            raise
        entry.next_sequence += len(stored)
        return stored
