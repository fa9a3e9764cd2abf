"""Store-independent rules shared by every store: keys, timestamps, the flow index.

This module holds no storage and does no I/O. It says, once for all stores:

- how an aggregate ID becomes a single text key and back (``aggregate_key``,
  ``aggregate_id``);
- how event timestamps (unix microseconds) and index timestamps (unix
  nanoseconds, always whole microseconds so they round-trip exactly through
  ``datetime`` and ``IndexCursor.recent_ns``) are converted;
- which index change an appended event causes (EVT-13, TERM-8, DATA-5);
- the order and paging rules of flow queries (API-22, API-23), as a sort key
  that stores either apply in memory (``MemoryStore``) or mirror in their
  query language (``SQLiteStore``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec

from argyll.engine.store.base import (
    AggregateId,
    AppendBatch,
    FlowIndexEntry,
    FlowIndexQuery,
    NewEvent,
    StoredEvent,
)
from argyll.errors import ConcurrencyError, StoreError

__all__ = [
    "ACTIVE",
    "FLOW_DEACTIVATED",
    "FLOW_STARTED",
    "IndexChange",
    "PreparedBatch",
    "Results",
    "aggregate_id",
    "aggregate_key",
    "commit_ns",
    "from_micros",
    "from_ns",
    "group_of",
    "index_change",
    "is_child",
    "only_batch",
    "order_key",
    "prepare_batch",
    "query_entries",
    "to_micros",
    "to_ns",
]

ACTIVE = "active"
FLOW_STARTED = "flow_started"
FLOW_DEACTIVATED = "flow_deactivated"

#: One result per appended batch: its stored events, or why it was skipped.
Results = list[list[StoredEvent] | ConcurrencyError]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Aggregate ID parts are joined with the ASCII unit separator: IDs never contain
# it (DATA-1 allows letters, digits, "_.-+ " and children add ":").
_SEPARATOR = "\x1f"


def only_batch(results: Results) -> list[StoredEvent]:
    """The stored events of a one-batch ``append_many``; its conflict raised.

    Raises:
        ConcurrencyError: The batch's expected sequence was stale.
    """
    (result,) = results
    if isinstance(result, ConcurrencyError):
        raise result
    return result


def aggregate_key(aggregate_id: AggregateId) -> str:
    """The text key of an aggregate: its parts joined by ``"\\x1f"``.

    Raises:
        ValueError: The ID is empty or a part contains ``"\\x1f"``.
    """
    key = _SEPARATOR.join(aggregate_id)
    if not aggregate_id or key.count(_SEPARATOR) != len(aggregate_id) - 1:
        raise ValueError(f"invalid aggregate ID {list(aggregate_id)!r}")
    return key


def aggregate_id(key: str) -> AggregateId:
    """The aggregate ID of a text key (the inverse of ``aggregate_key``)."""
    return tuple(key.split(_SEPARATOR))


def to_micros(ts: datetime) -> int:
    """Unix microseconds of ``ts``; a naive datetime is taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The UTC datetime of unix microseconds (exact)."""
    return _EPOCH + timedelta(microseconds=micros)


def to_ns(ts: datetime) -> int:
    """Unix nanoseconds of ``ts`` (exact: a datetime holds whole microseconds)."""
    return to_micros(ts) * 1000


def from_ns(ns: int) -> datetime:
    """The UTC datetime of unix nanoseconds, truncated to the microsecond."""
    return from_micros(ns // 1000)


def commit_ns(clock_ns: int, previous_ns: int) -> int:
    """The index timestamp of a commit at ``clock_ns``.

    Truncated to the microsecond so that ``to_ns(from_ns(t)) == t``, and never
    before ``previous_ns`` so index time does not run backwards when the wall
    clock does.
    """
    return max(clock_ns - clock_ns % 1000, previous_ns)


def is_child(flow_id: str) -> bool:
    """True for child flow IDs, the only IDs containing ``:`` (DATA-5)."""
    return ":" in flow_id


def group_of(status: str) -> int:
    """Sort group of API-23: ``active`` = 0, terminal = 1."""
    return 0 if status == ACTIVE else 1


@dataclass(frozen=True, slots=True)
class IndexChange:
    """How one appended event changes the flow index.

    Attributes:
        flow_id: The indexed flow.
        status: Its new indexed status.
        labels: Its new labels, or ``None`` to keep the indexed ones.
    """

    flow_id: str
    status: str
    labels: dict[str, str] | None

    def then(self, later: IndexChange) -> IndexChange:
        """The single change equivalent to ``self`` followed by ``later``."""
        labels = later.labels if later.labels is not None else self.labels
        return IndexChange(later.flow_id, later.status, labels)


class _IndexFields(msgspec.Struct):
    # Only the fields the index needs; msgspec skips the rest (the plan, init...)
    # without building them.
    flow_id: str = ""
    status: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)


_fields_decoder = msgspec.json.Decoder(_IndexFields)


def index_change(aggregate_id: AggregateId, event: NewEvent) -> IndexChange | None:
    """The index change caused by appending ``event`` (EVT-13), if any.

    ``flow_started`` indexes its ``flow_id`` (default: the flow aggregate's ID)
    as ``active`` with its ``labels``; ``flow_deactivated`` re-indexes it with
    its ``status``. Other events do not touch the index.

    Raises:
        StoreError: The payload of one of those two events is malformed; the
            append must then write nothing.
    """
    if event.type != FLOW_STARTED and event.type != FLOW_DEACTIVATED:
        return None
    try:
        fields = _fields_decoder.decode(event.data)
    except msgspec.DecodeError as exc:
        raise StoreError(f"cannot index {event.type} event of {list(aggregate_id)}: {exc}") from exc
    flow_id = fields.flow_id
    if not flow_id and len(aggregate_id) == 2 and aggregate_id[0] == "flow":
        flow_id = aggregate_id[1]
    if not flow_id:
        raise StoreError(f"cannot index {event.type} event of {list(aggregate_id)}: no flow_id")
    if event.type == FLOW_STARTED:
        return IndexChange(flow_id, ACTIVE, fields.labels)
    if not fields.status or fields.status == ACTIVE:
        raise StoreError(
            f"cannot index flow_deactivated event of flow {flow_id}: "
            f"terminal status expected, got {fields.status!r}"
        )
    return IndexChange(flow_id, fields.status, None)


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """An ``AppendBatch`` checked and encoded before it reaches a writer.

    Attributes:
        aggregate_id: The aggregate.
        key: Its text key (``index.aggregate_key``).
        expected: The expected next sequence.
        events: ``(unix microseconds, type, data)`` per event, in order.
        changes: The index changes its events cause, in order.
    """

    aggregate_id: AggregateId
    key: str
    expected: int
    events: list[tuple[int, str, bytes]]
    changes: list[IndexChange]


def prepare_batch(batch: AppendBatch) -> PreparedBatch:
    """Check and encode a batch for a writer (its index changes derived first).

    Raises:
        StoreError: A payload cannot be indexed (``index_change``).
        ValueError: The aggregate ID is invalid (``aggregate_key``).
    """
    agg = batch.aggregate_id
    changes: list[IndexChange] = []
    events: list[tuple[int, str, bytes]] = []
    # A decision raises its events at one clock reading: convert it once.
    last_ts: datetime | None = None
    micros = 0
    for e in batch.events:
        type_ = e.type
        if type_ in (FLOW_STARTED, FLOW_DEACTIVATED):
            change = index_change(agg, e)
            if change is not None:
                changes.append(change)
        ts = e.timestamp
        if ts is not last_ts:
            last_ts, micros = ts, to_micros(ts)
        events.append((micros, type_, e.data))
    return PreparedBatch(agg, aggregate_key(agg), batch.expected_sequence, events, changes)


def order_key(group: int, recent_ns: int, flow_id: str, descending: bool) -> tuple[int, int, str]:
    """The API-23 sort key: group, then time (ascending or not), then flow ID.

    A position is *after* a cursor exactly when its key is greater than the
    cursor's key, in both sort directions.
    """
    return (group, -recent_ns if descending else recent_ns, flow_id)


def _matches(entry: FlowIndexEntry, query: FlowIndexQuery) -> bool:
    if is_child(entry.flow_id) or not entry.flow_id.startswith(query.id_prefix):
        return False
    if query.statuses and entry.status not in query.statuses:
        return False
    labels = entry.labels
    return all(labels.get(key) == value for key, value in query.labels.items())


def query_entries(
    entries: Iterable[FlowIndexEntry], query: FlowIndexQuery
) -> tuple[list[FlowIndexEntry], int]:
    """Apply ``query`` to index entries: the page in index order, and the total.

    The reference implementation of ``EventStore.query_flows`` over entries
    held in memory.
    """
    desc = query.descending
    keyed = [
        (order_key(e.group, to_ns(e.timestamp), e.flow_id, desc), e)
        for e in entries
        if _matches(e, query)
    ]
    total = len(keyed)
    if query.after is not None:
        after = query.after
        start = order_key(after.group, after.recent_ns, after.flow_id, desc)
        keyed = [item for item in keyed if item[0] > start]
    keyed.sort(key=lambda item: item[0])
    if query.limit > 0:
        keyed = keyed[: query.limit]
    return [entry for _, entry in keyed], total
