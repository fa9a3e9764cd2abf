"""How ``PostgresWriter`` writes one group of append batches: plan, then one statement.

A group is written by one ``INSERT`` statement (``_WRITE``) whose first
step is ``UPDATE event_head``: it takes the store-wide head lock (waiting
for another engine's group to commit), reserves the group's positions after
the head's and moves the index time forward. The events and the flow-index
rows are inserted by the same statement, with the reserved positions and
index time. The head lock is thus held for the execution of one statement
and its commit, with no client round trip in between. It also ends with a
``NOTIFY`` of the new last position, delivered to listening engines when
(and only if) the group commits.

The sequences the batches are checked against are read just before
(``last_sequences``). Outside a transaction that read is optimistic: another
engine may append to the same aggregate in between, and then the primary
key ``(aggregate, sequence)`` rejects the whole statement (a unique
violation, nothing written) and the writer does the group again inside a
transaction that takes the head lock first (``LOCK_HEAD``), so that the
sequences it reads are final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from argyll.engine.store.base import StoredEvent
from argyll.engine.store.index import (
    IndexChange,
    PreparedBatch,
    Results,
    from_micros,
    group_of,
    is_child,
)
from argyll.errors import ConcurrencyError

__all__ = ["LOCK_HEAD", "GroupPlan", "finish", "last_sequences", "plan_group", "write_plan"]

LOCK_HEAD = "SELECT position FROM event_head WHERE id = 1 FOR UPDATE"
_LAST_SEQUENCES = (
    "SELECT (SELECT e.sequence FROM events e WHERE e.aggregate = t.k"
    " ORDER BY e.sequence DESC LIMIT 1)"
    " FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY t.n"
)
_INDEX_COLUMNS = "flow_id, status, grp, timestamp_ns, neg_ns, labels, is_child"
_INDEX_UPDATE = (
    " ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, grp = excluded.grp,"
    " timestamp_ns = excluded.timestamp_ns, neg_ns = excluded.neg_ns"
)
# $1-$5 events, $6 event count, $7 index changed, $8 clock (unix ns, whole µs),
# $9-$13 flows (re)started, with labels, $14-$17 flows deactivated (labels kept),
# $18 the writing node: the owner of the flows it starts (clusters),
# $19 the channel told the new last position at COMMIT (``PostgresStore.wait_committed``).
_WRITE = f"""
WITH head AS (
    UPDATE event_head SET position = position + $6::bigint,
        index_ns = CASE WHEN $7::boolean THEN greatest(index_ns, $8::bigint) ELSE index_ns END
    WHERE id = 1
    RETURNING position - $6::bigint AS base, index_ns
), started AS (
    INSERT INTO flow_index ({_INDEX_COLUMNS}, owner)
    SELECT t.f, t.s, t.g, head.index_ns, -head.index_ns, t.l::jsonb, t.c, $18::text
    FROM head, unnest($9::text[], $10::text[], $11::smallint[], $12::text[], $13::boolean[])
        AS t(f, s, g, l, c)
    {_INDEX_UPDATE}, labels = excluded.labels
), deactivated AS (
    INSERT INTO flow_index ({_INDEX_COLUMNS})
    SELECT t.f, t.s, t.g, head.index_ns, -head.index_ns, '{{}}'::jsonb, t.c
    FROM head, unnest($14::text[], $15::text[], $16::smallint[], $17::boolean[])
        AS t(f, s, g, c)
    {_INDEX_UPDATE}
), inserted AS (
    INSERT INTO events (position, aggregate, sequence, timestamp, type, data)
    SELECT head.base + t.n, t.k, t.s, t.ts, t.ty, t.d
    FROM head, unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::bytea[])
        WITH ORDINALITY AS t(k, s, ts, ty, d, n)
)
SELECT base, pg_notify($19, (base + $6::bigint)::text) FROM head
"""

_labels_encoder = msgspec.json.Encoder()


@dataclass(slots=True)
class GroupPlan:
    """A group checked against known sequences, ready for ``write_plan``.

    Attributes:
        results: Per request, per batch: its ``ConcurrencyError``, or
            ``(first sequence, offset of its first event in the columns)``.
        columns: Keys, sequences, timestamps, types and payloads of the
            accepted events, in position order.
        changes: The index changes of the accepted batches, one per flow.
    """

    results: list[list[ConcurrencyError | tuple[int, int]]] = field(default_factory=list)
    columns: tuple[list[Any], ...] = field(default_factory=lambda: ([], [], [], [], []))
    changes: list[IndexChange] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Number of accepted events."""
        return len(self.columns[0])


async def last_sequences(conn: Any, keys: list[str]) -> dict[str, int]:
    """The next sequence of each aggregate key (0 for a new aggregate)."""
    rows = await conn.fetch(_LAST_SEQUENCES, keys)
    return {k: 0 if row[0] is None else row[0] + 1 for k, row in zip(keys, rows, strict=True)}


def plan_group(requests: list[list[PreparedBatch]], nexts: dict[str, int]) -> GroupPlan:
    """Check every batch against ``nexts`` (updated as batches are accepted)."""
    plan = GroupPlan()
    keys, seqs, stamps, types, payloads = plan.columns
    final: dict[str, IndexChange] = {}
    for batches in requests:
        results: list[ConcurrencyError | tuple[int, int]] = []
        for batch in batches:
            next_seq = nexts[batch.key]
            if batch.expected != next_seq:
                results.append(ConcurrencyError(batch.aggregate_id, batch.expected, next_seq))
                continue
            results.append((next_seq, len(keys)))
            for seq, (micros, type_, data) in enumerate(batch.events, next_seq):
                keys.append(batch.key)
                seqs.append(seq)
                stamps.append(micros)
                types.append(type_)
                payloads.append(data)
            nexts[batch.key] = next_seq + len(batch.events)
            for change in batch.changes:
                prev = final.get(change.flow_id)
                final[change.flow_id] = change if prev is None else prev.then(change)
        plan.results.append(results)
    plan.changes = list(final.values())
    return plan


async def write_plan(
    conn: Any, plan: GroupPlan, clock_ns: int, owner: str = "", channel: str = "argyll"
) -> int:
    """Write a plan of at least one event; returns the position before its first event.

    Raises:
        asyncpg.UniqueViolationError: A sequence was taken meanwhile; nothing
            was written.
    """
    started: tuple[list[Any], ...] = ([], [], [], [], [])
    deactivated: tuple[list[Any], ...] = ([], [], [], [])
    for c in plan.changes:
        grp, child = group_of(c.status), is_child(c.flow_id)
        if c.labels is None:
            row: tuple[Any, ...] = (c.flow_id, c.status, grp, child)
            target = deactivated
        else:
            labels = _labels_encoder.encode(c.labels).decode()
            row, target = (c.flow_id, c.status, grp, labels, child), started
        for column, value in zip(target, row, strict=True):
            column.append(value)
    args = (
        *plan.columns,
        plan.count,
        bool(plan.changes),
        clock_ns - clock_ns % 1000,
        *started,
        *deactivated,
        owner,
        channel,
    )
    return int(await conn.fetchval(_WRITE, *args))


def finish(requests: list[list[PreparedBatch]], plan: GroupPlan, base: int) -> list[Results]:
    """The stored events (or conflicts) of every request, positions from ``base``."""
    outcomes: list[Results] = []
    for batches, results in zip(requests, plan.results, strict=True):
        out: Results = []
        for batch, result in zip(batches, results, strict=True):
            if isinstance(result, ConcurrencyError):
                out.append(result)
                continue
            first, offset = result
            out.append(
                [
                    StoredEvent(
                        batch.aggregate_id,
                        first + i,
                        from_micros(micros),
                        type_,
                        data,
                        base + offset + i + 1,
                    )
                    for i, (micros, type_, data) in enumerate(batch.events)
                ]
            )
        outcomes.append(out)
    return outcomes
