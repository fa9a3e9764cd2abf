"""The group-commit writer of ``SQLiteStore``: one thread, one connection.

Appends from any number of coroutines are queued to a single thread that
takes everything queued so far, writes it in ONE transaction, commits it
durably (WAL + ``synchronous=FULL``, REC-6) and only then resolves each
caller's future on its own event loop. While one commit is being flushed the
next group gathers, so the number of commits per second stays roughly
constant while the number of events per commit grows with the load.

Positions (the store-wide commit order) are assigned inside the write
transaction from the last stored one, so they grow in commit order even
with another process writing the same file.

Sequences are checked inside the transaction (optimistic concurrency): a
batch whose ``expected_sequence`` is stale is skipped and answered with a
``ConcurrencyError``; the other batches of the transaction still commit.
The next sequence of recently written aggregates is cached. The cache is only
trusted when it agrees with the expected sequence; the primary key
``(aggregate, sequence)`` then catches a cache that went stale because
another process wrote to the same file, and the group is retried once
against the database.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
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

__all__ = ["GroupCommitWriter", "PreparedBatch", "Results"]  # the last two from index

_INSERT_EVENT = (
    "INSERT INTO events (aggregate, sequence, timestamp, type, data, position)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_LAST_POSITION = "SELECT max(position) FROM events"
_NEXT_SEQUENCE = "SELECT max(sequence) FROM events WHERE aggregate = ?"
_INDEX_COLUMNS = "flow_id, status, grp, timestamp_ns, neg_ns, labels, is_child"
_INDEX_STARTED = (
    f"INSERT INTO flow_index ({_INDEX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, grp = excluded.grp,"
    " timestamp_ns = excluded.timestamp_ns, neg_ns = excluded.neg_ns, labels = excluded.labels"
)
# A deactivation keeps the labels; it indexes an unknown flow with none.
_INDEX_STATUS = (
    f"INSERT INTO flow_index ({_INDEX_COLUMNS}) VALUES (?, ?, ?, ?, ?, '{{}}', ?)"
    " ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, grp = excluded.grp,"
    " timestamp_ns = excluded.timestamp_ns, neg_ns = excluded.neg_ns"
)
_DELETE_LABELS = "DELETE FROM flow_labels WHERE flow_id = ?"
_INSERT_LABEL = "INSERT INTO flow_labels (flow_id, key, value) VALUES (?, ?, ?)"

# Past this many aggregates the sequence cache starts over (it is only a hint).
_MAX_CACHED_SEQUENCES = 100_000


@dataclass(frozen=True, slots=True)
class _Request:
    batches: list[PreparedBatch]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Results]


@dataclass(frozen=True, slots=True)
class _Job:
    """Maintenance (retention) run in the writer thread, in its own transaction."""

    fn: Callable[[sqlite3.Connection], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


_Outcome = tuple["asyncio.Future[Results]", "Results | BaseException"]


def _settle(outcomes: list[_Outcome]) -> None:
    # Runs on the caller's loop. A cancelled caller already has a done future;
    # its events are committed anyway (an append cannot be taken back).
    for future, outcome in outcomes:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class GroupCommitWriter:
    """Owns the write connection and the thread that commits queued appends.

    Args:
        conn: A connection opened with ``check_same_thread=False`` and
            ``isolation_level=None``, in WAL mode with ``synchronous=FULL``;
            the writer closes it when it stops.
        clock: Wall clock in unix nanoseconds (index commit time, EVT-13).
        last_index_ns: The latest index timestamp already stored.
        max_batches: Most batches written in one transaction.

    Attributes:
        transactions: Transactions committed so far.
        batches: Batches written so far (stale ones excluded).
        events: Events written so far.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        clock: Callable[[], int],
        last_index_ns: int,
        max_batches: int = 1024,
    ) -> None:
        self._conn = conn
        self._clock = clock
        self._last_ns = last_index_ns
        self._max_batches = max_batches
        self._queue: queue.SimpleQueue[_Request | _Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stopping = False
        self._next: dict[str, int] = {}
        self._labels_encoder = msgspec.json.Encoder()
        self._thread = threading.Thread(target=self._run, name="argyll-store-writer", daemon=True)
        self.transactions = 0
        self.batches = 0
        self.events = 0

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def queued(self) -> int:
        """Approximate number of requests waiting for the next transaction."""
        return self._queue.qsize()

    def submit(self, batches: list[PreparedBatch]) -> asyncio.Future[Results]:
        """Queue batches for the next transaction; call on the caller's event loop.

        Returns:
            A future resolved, once the transaction is durable, with one
            result per batch: its stored events or its ``ConcurrencyError``.
            It fails with ``StoreError`` if the whole transaction failed.

        Raises:
            StoreError: The writer is stopping or stopped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Results] = loop.create_future()
        with self._lock:
            if self._stopping:
                raise StoreError("event store is closed")
            self._queue.put(_Request(batches, loop, future))
        return future

    def submit_job(self, fn: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Run ``fn(conn)`` in the writer thread in one transaction, between append groups.

        Maintenance such as retention goes through here rather than a second
        writing connection, which would wait on (and be starved by) the
        writer's lock under load. Returns a future of ``fn``'s result; it
        fails with ``StoreError`` when ``fn`` raised (nothing is committed).

        Raises:
            StoreError: The writer is stopping or stopped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            if self._stopping:
                raise StoreError("event store is closed")
            self._queue.put(_Job(fn, loop, future))
        return future

    def stop(self) -> None:
        """Commit what is queued, stop the thread and close the connection (blocking)."""
        with self._lock:
            if not self._stopping:
                self._stopping = True
                self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            stop = False
            while not stop:
                item = self._queue.get()
                group: list[_Request] = []
                job: _Job | None = None
                count = 0
                while True:
                    if item is None:
                        stop = True
                        break
                    if isinstance(item, _Job):
                        job = item
                        break
                    group.append(item)
                    count += len(item.batches)
                    if count >= self._max_batches:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if group:
                    try:
                        self._commit(group)
                    except Exception as exc:  # a bug here must not leave callers waiting
                        error = StoreError(f"failed to append events: {exc}")
                        error.__cause__ = exc
                        self._resolve(group, error)
                if job is not None:
                    self._run_job(job)
        finally:
            self._conn.close()

    def _run_job(self, job: _Job) -> None:
        outcome: Any
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            outcome = job.fn(self._conn)
            self._conn.execute("COMMIT")
        except Exception as exc:
            self._rollback()
            outcome = StoreError(f"failed to run store maintenance: {exc}")
            outcome.__cause__ = exc
        self._next.clear()  # the job may have deleted aggregates: re-read sequences
        try:
            job.loop.call_soon_threadsafe(_settle, [(job.future, outcome)])
        except RuntimeError:
            pass  # the caller's loop is closed: nobody is waiting

    def _commit(self, group: list[_Request]) -> None:
        outcomes: list[Results] | StoreError
        for attempt in range(2):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                outcomes, nexts, index_ns = self._write(group)
                self._conn.execute("COMMIT")
            except Exception as exc:
                self._rollback()
                outcomes = StoreError(f"failed to append events: {exc}")
                outcomes.__cause__ = exc
                if isinstance(exc, sqlite3.IntegrityError) and attempt == 0:
                    # A cached sequence went stale (another writer on the file):
                    # forget the cache and check every batch against the database.
                    self._next.clear()
                    continue
            else:
                if len(self._next) > _MAX_CACHED_SEQUENCES:
                    self._next.clear()
                self._next.update(nexts)
                self._last_ns = index_ns
                self.transactions += 1
                for results in outcomes:
                    for result in results:
                        if isinstance(result, list):
                            self.batches += 1
                            self.events += len(result)
            break
        self._resolve(group, outcomes)

    def _write(self, group: list[_Request]) -> tuple[list[Results], dict[str, int], int]:
        conn = self._conn
        nexts: dict[str, int] = {}
        rows: list[tuple[str, int, int, str, bytes, int]] = []
        changes: list[IndexChange] = []
        outcomes: list[Results] = []
        # Inside BEGIN IMMEDIATE no other writer runs: positions follow commits.
        (last_position,) = conn.execute(_LAST_POSITION).fetchone()
        position = int(last_position or 0)
        for request in group:
            results: Results = []
            for batch in request.batches:
                key = batch.key
                next_seq = nexts.get(key)
                if next_seq is None:
                    cached = self._next.get(key)
                    if cached is not None and cached == batch.expected:
                        next_seq = cached
                    else:
                        (last,) = conn.execute(_NEXT_SEQUENCE, (key,)).fetchone()
                        next_seq = 0 if last is None else last + 1
                if batch.expected != next_seq:
                    results.append(ConcurrencyError(batch.aggregate_id, batch.expected, next_seq))
                    continue
                stored: list[StoredEvent] = []
                agg = batch.aggregate_id
                # A decision raises its events at one clock reading: convert once.
                last_micros, ts = -1, from_micros(0)
                for seq, (micros, type_, data) in enumerate(batch.events, next_seq):
                    position += 1
                    rows.append((key, seq, micros, type_, data, position))
                    if micros != last_micros:
                        last_micros, ts = micros, from_micros(micros)
                    stored.append(StoredEvent(agg, seq, ts, type_, data, position))
                nexts[key] = next_seq + len(stored)
                changes.extend(batch.changes)
                results.append(stored)
            outcomes.append(results)
        if rows:
            conn.executemany(_INSERT_EVENT, rows)
        index_ns = self._last_ns
        if changes:
            index_ns = commit_ns(self._clock(), self._last_ns)
            self._write_index(changes, index_ns)
        return outcomes, nexts, index_ns

    def _write_index(self, changes: list[IndexChange], ns: int) -> None:
        final: dict[str, IndexChange] = {}
        for change in changes:
            prev = final.get(change.flow_id)
            final[change.flow_id] = change if prev is None else prev.then(change)
        started: list[tuple[str, str, int, int, int, str, int]] = []
        labels: list[tuple[str, str, str]] = []
        deactivated: list[tuple[str, str, int, int, int, int]] = []
        for c in final.values():
            grp, child = group_of(c.status), int(is_child(c.flow_id))
            if c.labels is None:
                deactivated.append((c.flow_id, c.status, grp, ns, -ns, child))
                continue
            encoded = self._labels_encoder.encode(c.labels).decode()
            started.append((c.flow_id, c.status, grp, ns, -ns, encoded, child))
            labels.extend((c.flow_id, k, v) for k, v in c.labels.items())
        conn = self._conn
        if started:
            conn.executemany(_INDEX_STARTED, started)
            conn.executemany(_DELETE_LABELS, [(row[0],) for row in started])
            conn.executemany(_INSERT_LABEL, labels)
        if deactivated:
            conn.executemany(_INDEX_STATUS, deactivated)

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (e.g. after an I/O error)

    def _resolve(self, group: list[_Request], outcomes: list[Results] | StoreError) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for i, request in enumerate(group):
            outcome: Results | BaseException
            if isinstance(outcomes, StoreError):
                outcome = StoreError(str(outcomes))
                outcome.__cause__ = outcomes.__cause__
            else:
                outcome = outcomes[i]
            by_loop.setdefault(request.loop, []).append((request.future, outcome))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, items)
            except RuntimeError:
                pass  # the caller's loop is closed: nobody is waiting
