"""The group-commit writer of ``PostgresStore``: one task, one connection.

Appends from any number of coroutines are queued to one writer task, which
takes everything queued so far and writes it in ONE transaction on its own
connection, then resolves each caller's future. While one transaction
commits, the next group gathers, so the transactions per second stay
roughly constant while the events per transaction grow with the load.

One transaction, in this order (each step its own statement, because under
READ COMMITTED a statement reads from a snapshot taken when it starts):

1. ``SELECT ... FROM event_head FOR UPDATE``: the store-wide write lock,
   held until commit by one engine at a time;
2. the last sequence of every aggregate of the group, read after the lock
   is granted, so it includes every commit of every engine;
3. stale batches are answered with ``ConcurrencyError``, the others get
   their sequences and positions (after the head's) and are inserted with
   one ``INSERT ... SELECT FROM unnest(...)``;
4. the flow index is upserted with the group's commit time;
5. the head row gets the last position and index time; COMMIT.

The primary key ``(aggregate, sequence)`` stays the last guard: a unique
violation (a writer that did not take the lock) rolls the group back and it
is retried once, checked again against the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from argyll.engine.store.base import StoredEvent
from argyll.engine.store.index import (
    IndexChange,
    PreparedBatch,
    Results,
    commit_ns,
    from_micros,
    group_of,
    is_child,
)
from argyll.errors import ConcurrencyError, StoreError

__all__ = ["PostgresWriter"]

_LOCK_HEAD = "SELECT position, index_ns FROM event_head WHERE id = 1 FOR UPDATE"
_LAST_SEQUENCES = (
    "SELECT (SELECT e.sequence FROM events e WHERE e.aggregate = t.k"
    " ORDER BY e.sequence DESC LIMIT 1)"
    " FROM unnest($1::text[]) WITH ORDINALITY AS t(k, n) ORDER BY t.n"
)
_INSERT_EVENTS = (
    "INSERT INTO events (position, aggregate, sequence, timestamp, type, data)"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[],"
    " $5::text[], $6::bytea[])"
)
_INDEX_STARTED = (
    "INSERT INTO flow_index (flow_id, status, grp, timestamp_ns, neg_ns, labels, is_child)"
    " SELECT f, s, g, $4, -$4::bigint, l::jsonb, c"
    " FROM unnest($1::text[], $2::text[], $3::smallint[], $5::text[], $6::boolean[])"
    " AS t(f, s, g, l, c)"
    " ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, grp = excluded.grp,"
    " timestamp_ns = excluded.timestamp_ns, neg_ns = excluded.neg_ns, labels = excluded.labels"
)
# A deactivation keeps the labels; it indexes an unknown flow with none.
_INDEX_STATUS = (
    "INSERT INTO flow_index (flow_id, status, grp, timestamp_ns, neg_ns, labels, is_child)"
    " SELECT f, s, g, $4, -$4::bigint, '{}'::jsonb, c"
    " FROM unnest($1::text[], $2::text[], $3::smallint[], $5::boolean[]) AS t(f, s, g, c)"
    " ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, grp = excluded.grp,"
    " timestamp_ns = excluded.timestamp_ns, neg_ns = excluded.neg_ns"
)
_SET_HEAD = "UPDATE event_head SET position = $1, index_ns = $2 WHERE id = 1"


@dataclass(frozen=True, slots=True)
class _Request:
    batches: list[PreparedBatch]
    future: asyncio.Future[Results]


def _final_changes(changes: list[IndexChange]) -> list[IndexChange]:
    final: dict[str, IndexChange] = {}
    for change in changes:
        prev = final.get(change.flow_id)
        final[change.flow_id] = change if prev is None else prev.then(change)
    return list(final.values())


class PostgresWriter:
    """Owns the write connection and the task that commits queued appends.

    Args:
        connect: Opens a new connection (search path set to the store's
            schema); called at start and again after a connection is lost.
        clock: Wall clock in unix nanoseconds (index commit time, EVT-13).
        max_batches: Most batches written in one transaction.

    Attributes:
        transactions: Transactions committed so far.
        batches: Batches written so far (stale ones excluded).
        events: Events written so far.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        *,
        clock: Callable[[], int],
        max_batches: int = 1024,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._max_batches = max_batches
        self._conn: Any = None
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._labels_encoder = msgspec.json.Encoder()
        self.transactions = 0
        self.batches = 0
        self.events = 0

    async def start(self) -> None:
        """Open the write connection and start the writer task."""
        self._conn = await self._connect()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="argyll-postgres-writer"
        )

    def queued(self) -> int:
        """Requests waiting for the next transaction."""
        return self._queue.qsize()

    def submit(self, batches: list[PreparedBatch]) -> asyncio.Future[Results]:
        """Queue batches for the next transaction (on the store's event loop).

        Returns:
            A future resolved, once the transaction committed, with one
            result per batch: its stored events or its ``ConcurrencyError``.
            It fails with ``StoreError`` if the whole transaction failed.

        Raises:
            StoreError: The writer is stopping or stopped.
        """
        if self._stopping:
            raise StoreError("event store is closed")
        future: asyncio.Future[Results] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Request(batches, future))
        return future

    async def stop(self) -> None:
        """Commit what is queued, stop the task and close the connection."""
        if not self._stopping:
            self._stopping = True
            self._queue.put_nowait(None)
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def _run(self) -> None:
        stop = False
        while not stop:
            item = await self._queue.get()
            group: list[_Request] = []
            count = 0
            while True:
                if item is None:
                    stop = True
                    break
                group.append(item)
                count += len(item.batches)
                if count >= self._max_batches or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if group:
                try:
                    await self._commit(group)
                except Exception as exc:  # a bug here must not leave callers waiting
                    error = StoreError(f"failed to append events: {exc}")
                    error.__cause__ = exc
                    self._resolve(group, error)

    async def _commit(self, group: list[_Request]) -> None:
        import asyncpg

        outcomes: list[Results] | StoreError
        for attempt in range(2):
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                async with self._conn.transaction():
                    outcomes = await self._write(self._conn, group)
            except Exception as exc:
                outcomes = StoreError(f"failed to append events: {exc}")
                outcomes.__cause__ = exc
                if isinstance(exc, asyncpg.UniqueViolationError) and attempt == 0:
                    continue
                if not isinstance(exc, asyncpg.PostgresError) and self._conn is not None:
                    # The connection may be broken: start over with a new one.
                    conn, self._conn = self._conn, None
                    conn.terminate()
            else:
                self.transactions += 1
                for results in outcomes:
                    for result in results:
                        if isinstance(result, list):
                            self.batches += 1
                            self.events += len(result)
            break
        self._resolve(group, outcomes)

    async def _write(self, conn: Any, group: list[_Request]) -> list[Results]:
        head = await conn.fetchrow(_LOCK_HEAD)
        position: int = head[0]
        last_ns: int = head[1]
        keys = list(dict.fromkeys(b.key for r in group for b in r.batches))
        lasts = await conn.fetch(_LAST_SEQUENCES, keys)
        nexts = {
            k: (0 if row[0] is None else row[0] + 1) for k, row in zip(keys, lasts, strict=True)
        }
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
        changes: list[IndexChange] = []
        outcomes: list[Results] = []
        for request in group:
            results: Results = []
            for batch in request.batches:
                next_seq = nexts[batch.key]
                if batch.expected != next_seq:
                    results.append(ConcurrencyError(batch.aggregate_id, batch.expected, next_seq))
                    continue
                stored: list[StoredEvent] = []
                agg = batch.aggregate_id
                for seq, (micros, type_, data) in enumerate(batch.events, next_seq):
                    position += 1
                    for column, value in zip(
                        columns, (position, batch.key, seq, micros, type_, data), strict=True
                    ):
                        column.append(value)
                    stored.append(StoredEvent(agg, seq, from_micros(micros), type_, data, position))
                nexts[batch.key] = next_seq + len(stored)
                changes.extend(batch.changes)
                results.append(stored)
            outcomes.append(results)
        if columns[0]:
            await conn.execute(_INSERT_EVENTS, *columns)
        index_ns = last_ns
        if changes:
            index_ns = commit_ns(self._clock(), last_ns)
            await self._write_index(conn, _final_changes(changes), index_ns)
        if columns[0] or changes:
            await conn.execute(_SET_HEAD, position, index_ns)
        return outcomes

    async def _write_index(self, conn: Any, changes: list[IndexChange], ns: int) -> None:
        started: tuple[list[Any], ...] = ([], [], [], [], [])
        status: tuple[list[Any], ...] = ([], [], [], [])
        for c in changes:
            grp, child = group_of(c.status), is_child(c.flow_id)
            if c.labels is None:
                for column, value in zip(status, (c.flow_id, c.status, grp, child), strict=True):
                    column.append(value)
                continue
            labels = self._labels_encoder.encode(c.labels).decode()
            row = (c.flow_id, c.status, grp, labels, child)
            for column, value in zip(started, row, strict=True):
                column.append(value)
        if started[0]:
            f, s, g, labels_, child_ = started
            await conn.execute(_INDEX_STARTED, f, s, g, ns, labels_, child_)
        if status[0]:
            f, s, g, child_ = status
            await conn.execute(_INDEX_STATUS, f, s, g, ns, child_)

    def _resolve(self, group: list[_Request], outcomes: list[Results] | StoreError) -> None:
        for i, request in enumerate(group):
            if request.future.done():
                continue  # a cancelled caller: its events are committed anyway
            if isinstance(outcomes, StoreError):
                error = StoreError(str(outcomes))
                error.__cause__ = outcomes.__cause__
                request.future.set_exception(error)
            else:
                request.future.set_result(outcomes[i])
