"""The event-store protocol: append-only logs per aggregate plus a flow index.

This module should not hold any storage logic. It defines what every store
(embedded SQLite, in-memory, a future shared PostgreSQL) must do, in terms
that assume nothing about SQLite:

- an aggregate is a tuple of strings: ``("catalog",)``, ``("cluster",)``,
  ``("flow", flow_id)``;
- sequences start at 0 per aggregate and have no gaps (EVT-3);
- ``append`` is atomic per batch and checks the expected next sequence
  (optimistic concurrency), so several engines can share one store; how a
  store batches concurrent appends into one transaction (group commit) is
  its own business;
- every committed event also gets a ``position``: one counter over all
  aggregates, increasing in commit order, so that a subscriber (or another
  engine on a shared store) can tail everything committed with
  ``read_committed(after=last_seen)`` and never miss an event: once an
  event at position *p* is visible, every event below *p* is visible too;
- the flow index (EVT-13, TERM-8) is maintained by the store from the events
  it appends, in the same transaction: ``flow_started`` indexes a flow as
  ``active`` with its labels, ``flow_deactivated`` re-indexes it with its
  terminal status; the index timestamp is the commit time;
- an append returns only after its events are durable (REC-6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from argyll.errors import ConcurrencyError

__all__ = [
    "AggregateId",
    "AppendBatch",
    "ConcurrencyError",
    "EventStore",
    "FlowIndexEntry",
    "FlowIndexQuery",
    "IndexCursor",
    "NewEvent",
    "StoredEvent",
]

AggregateId = tuple[str, ...]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its type, its JSON payload and when it was raised (EVT-4)."""

    type: str
    data: bytes
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A committed event.

    ``position`` is its place in the store-wide commit order (from 1, no
    gaps within one store); 0 only for events built outside a store.
    """

    aggregate_id: AggregateId
    sequence: int
    timestamp: datetime
    type: str
    data: bytes
    position: int = 0


@dataclass(frozen=True, slots=True)
class AppendBatch:
    """Events for one aggregate, appended atomically at ``expected_sequence``."""

    aggregate_id: AggregateId
    expected_sequence: int
    events: list[NewEvent]


@dataclass(frozen=True, slots=True)
class FlowIndexEntry:
    """One indexed flow (EVT-13): its indexed status, labels and index time."""

    flow_id: str
    status: str
    timestamp: datetime
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def group(self) -> int:
        """Sort group of API-23: ``active`` = 0, terminal = 1."""
        return 0 if self.status == "active" else 1

    @property
    def cursor(self) -> IndexCursor:
        """This entry's position, exactly (API-23 ``next_cursor``, ``FlowIndexQuery.after``).

        Stores keep index times in whole microseconds, so the integer
        nanoseconds here match the stored ones; converting
        ``timestamp.timestamp()`` (a float) would not.
        """
        micros = (self.timestamp - _EPOCH) // timedelta(microseconds=1)
        return IndexCursor(self.group, micros * 1000, self.flow_id)


@dataclass(frozen=True, slots=True)
class IndexCursor:
    """A position in index order: (group, timestamp in unix ns, flow ID)."""

    group: int
    recent_ns: int
    flow_id: str


@dataclass(frozen=True, slots=True)
class FlowIndexQuery:
    """A query over the flow index (API-22, API-23).

    Child flows (IDs containing ``:``) are never returned. ``statuses`` empty
    means all three. Order: group ascending, then timestamp ascending
    (``descending=False``) or descending, then flow ID ascending. ``after``
    starts strictly after that position. ``limit`` 0 means unlimited.
    """

    id_prefix: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()
    descending: bool = False
    limit: int = 0
    after: IndexCursor | None = None


class EventStore(Protocol):
    """What the engine needs from storage. All methods are safe to call concurrently."""

    async def open(self) -> None:
        """Open connections and create the schema if needed."""

    async def close(self) -> None:
        """Flush pending appends and close connections; idempotent."""

    async def append(self, batch: AppendBatch) -> list[StoredEvent]:
        """Append one batch atomically; returns the stored events once durable.

        Raises:
            ConcurrencyError: ``batch.expected_sequence`` is not the
                aggregate's next sequence; nothing was written.
        """

    async def read(self, aggregate_id: AggregateId, from_sequence: int = 0) -> list[StoredEvent]:
        """Events of an aggregate with ``sequence >= from_sequence``, in order."""

    async def read_committed(self, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` committed events with ``position > after``, in position order.

        Tailing with ``after`` = the last position seen never skips an event,
        even when appends commit concurrently (from one engine or several).
        """

    async def last_position(self) -> int:
        """The position of the last committed event (0 for an empty store)."""

    async def wait_committed(self, after: int, timeout: float) -> int:
        """Wait until an event past ``after`` is committed, by this engine or any other.

        Returns ``last_position()`` as soon as it exceeds ``after``, or
        when ``timeout`` seconds have passed (then it may not). For tailers:
        ``read_committed`` until empty, then ``wait_committed`` instead of
        polling.
        """

    async def flow_entry(self, flow_id: str) -> FlowIndexEntry | None:
        """The index entry of a flow (children included), or ``None``."""

    async def query_flows(self, query: FlowIndexQuery) -> tuple[list[FlowIndexEntry], int]:
        """Matching entries in index order, and the match count before paging."""

    async def active_flow_ids(self) -> list[str]:
        """IDs of every flow (children included) whose indexed status is ``active``."""

    async def delete_flows_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Delete up to ``limit`` terminal flows indexed before ``cutoff`` (retention).

        Candidates are non-child flows whose indexed status is terminal and
        whose index time is earlier than ``cutoff``, oldest first. Each goes
        with its child flows (IDs starting with ``<flow_id>:``): their events,
        index entries and labels, in one transaction. A flow with an active
        child is skipped. Active flows are never touched.

        Returns:
            The IDs deleted (children included).
        """

    def status(self) -> dict[str, object]:
        """Informational store status for ``GET /health`` (API-1)."""
