"""The embedded event store: SQLite in WAL mode in the engine's data directory.

The database is ``<data_dir>/argyll.db`` (CFG-4). Appends go through one
group-commit writer thread (``sqlite_writer``) on its own connection with
``synchronous=FULL``, so an append returns only once its events are durable
(REC-6) and a kill -9 loses no acknowledged event. Reads use separate
connections, which WAL lets run alongside the writer: single-aggregate reads
and index look-ups run inline on the event loop (they take tens of
microseconds, less than a hop to a thread), flow queries and the active-flow
scan run in a worker thread (they can scan the whole index).

Schema (version 2, recorded in ``meta``; a version-1 file is migrated on
open, and a newer one is refused):

- ``events(aggregate, sequence, timestamp, type, data, position)``, primary
  key ``(aggregate, sequence)``; ``aggregate`` is the aggregate ID joined by
  U+001F, ``timestamp`` unix microseconds, ``data`` the JSON payload,
  ``position`` the store-wide commit order (unique; version 2 filled it
  from the insertion order of older files). One writer assigns positions
  inside its write transaction, so they grow in commit order and a tailer of
  ``read_committed`` cannot miss one.
- ``flow_index(flow_id, status, grp, timestamp_ns, neg_ns, labels,
  is_child)``: one row per flow (EVT-13); ``grp`` is the API-23 group and
  ``neg_ns = -timestamp_ns`` so both sort orders, and cursors in both orders,
  are plain index range scans.
- ``flow_labels(flow_id, key, value)`` for label filters.

``postgres.py`` implements the same protocol for several engines on one
PostgreSQL database, with the same tables.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from argyll.engine.store.base import (
    AggregateId,
    AppendBatch,
    FlowIndexEntry,
    FlowIndexQuery,
    StoredEvent,
)
from argyll.engine.store.index import (
    Results,
    aggregate_id,
    aggregate_key,
    from_micros,
    only_batch,
    prepare_batch,
    to_micros,
)
from argyll.engine.store.signal import CommitSignal
from argyll.engine.store.sqlite_query import index_entry, query_index
from argyll.engine.store.sqlite_retention import delete_flows_before
from argyll.engine.store.sqlite_writer import GroupCommitWriter
from argyll.errors import StoreError

__all__ = ["DB_FILE", "SCHEMA_VERSION", "SQLiteStore"]

DB_FILE = "argyll.db"
SCHEMA_VERSION = 2

_META = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID
"""

# _MIGRATIONS[n] takes a database from version n to n + 1.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS events (
    aggregate TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    type TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (aggregate, sequence)
);
CREATE TABLE IF NOT EXISTS flow_index (
    flow_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    grp INTEGER NOT NULL,
    timestamp_ns INTEGER NOT NULL,
    neg_ns INTEGER NOT NULL,
    labels TEXT NOT NULL,
    is_child INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS flow_index_asc ON flow_index (is_child, grp, timestamp_ns, flow_id);
CREATE INDEX IF NOT EXISTS flow_index_desc ON flow_index (is_child, grp, neg_ns, flow_id);
CREATE TABLE IF NOT EXISTS flow_labels (
    flow_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (flow_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS flow_labels_kv ON flow_labels (key, value);
"""
# Before version 2 one writer appended in commit order, so the rowid order
# (never renumbered: events are never deleted) is the commit order.
_SCHEMA_V2 = """
ALTER TABLE events ADD COLUMN position INTEGER;
UPDATE events SET position = rowid;
CREATE UNIQUE INDEX events_position ON events (position);
"""
_MIGRATIONS = (_SCHEMA_V1, _SCHEMA_V2)

_READ = (
    "SELECT sequence, timestamp, type, data, position FROM events"
    " WHERE aggregate = ? AND sequence >= ? ORDER BY sequence"
)
_READ_COMMITTED = (
    "SELECT aggregate, sequence, timestamp, type, data, position FROM events"
    " WHERE position > ? ORDER BY position LIMIT ?"
)
_LAST_POSITION = "SELECT max(position) FROM events"
_NEXT_SEQUENCE = "SELECT max(sequence) FROM events WHERE aggregate = ?"
_ENTRY = "SELECT flow_id, status, timestamp_ns, labels FROM flow_index WHERE flow_id = ?"
_ACTIVE = "SELECT flow_id FROM flow_index WHERE grp = 0 ORDER BY flow_id"


_CACHE_KIB = 32 * 1024


def _connect(path: Path, *, writer: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        # A page cache that holds the hot part of a large store's indexes
        # (SQLite's default is 2 MiB): appends stay flat as finished flows pile up.
        conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        if writer:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot use WAL mode for {path} (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")  # REC-6: durable before acknowledged
        else:
            conn.execute("PRAGMA query_only = 1")
    except BaseException:
        conn.close()
        raise
    return conn


class SQLiteStore:
    """The ``EventStore`` protocol on an SQLite file in ``data_dir``.

    Call ``await open()`` before use and ``await close()`` at the end.

    Args:
        data_dir: Directory of ``argyll.db``; created with its parents.
        clock: Wall clock in unix nanoseconds for index timestamps (EVT-13).
        max_batches: Most append batches committed in one transaction.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Callable[[], int] = time.time_ns,
        max_batches: int = 1024,
    ) -> None:
        self.path = Path(data_dir) / DB_FILE
        self._clock = clock
        self._max_batches = max_batches
        self._writer: GroupCommitWriter | None = None
        self._closing = False
        # Inline reads (loop threads) and threaded queries each own a connection.
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()
        self._querier: sqlite3.Connection | None = None
        self._querier_lock = threading.Lock()
        self._signal = CommitSignal()

    @property
    def transactions(self) -> int:
        """Append transactions committed since ``open`` (fewer than appends under load)."""
        return self._writer.transactions if self._writer is not None else 0

    async def open(self) -> None:
        """Create the directory, database and schema if needed; start the writer.

        Raises:
            StoreError: The database cannot be opened or has a newer schema.
        """
        if self._writer is not None and not self._closing:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _connect(self.path, writer=True)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open event store {self.path}: {exc}") from exc
        try:
            last_ns = self._migrate(conn)
            self._reader = _connect(self.path, writer=False)
            self._querier = _connect(self.path, writer=False)
        except BaseException as exc:
            conn.close()
            self._close_readers()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open event store {self.path}: {exc}") from exc
            raise
        self._writer = GroupCommitWriter(
            conn, clock=self._clock, last_index_ns=last_ns, max_batches=self._max_batches
        )
        self._writer.start()
        self._closing = False

    def _migrate(self, conn: sqlite3.Connection) -> int:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(_META)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row is not None else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"event store {self.path} has schema version {version}; this engine"
                    f" supports up to {SCHEMA_VERSION}: upgrade the engine"
                )
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            (last_ns,) = conn.execute("SELECT max(timestamp_ns) FROM flow_index").fetchone()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return int(last_ns or 0)

    async def close(self) -> None:
        """Commit queued appends, stop the writer, close connections; idempotent."""
        writer = self._writer
        if writer is None or self._closing:
            return
        self._closing = True
        await asyncio.to_thread(writer.stop)
        self._close_readers()

    def _close_readers(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        with self._querier_lock:
            if self._querier is not None:
                self._querier.close()
                self._querier = None

    async def append(self, batch: AppendBatch) -> list[StoredEvent]:
        """Append one batch atomically; returns its stored events once durable.

        Raises:
            ConcurrencyError: ``batch.expected_sequence`` is stale; nothing
                was written.
            StoreError: The store is closed, a ``flow_started`` or
                ``flow_deactivated`` payload cannot be indexed, or the
                transaction failed; nothing was written.
        """
        return only_batch(await self.append_many([batch]))

    async def append_many(self, batches: list[AppendBatch]) -> Results:
        """Append batches in one durable transaction; a stale batch fails alone.

        Cancelling the caller does not take the append back.

        Raises:
            StoreError: As for ``append``; nothing of any batch was written.
        """
        writer = self._writer
        if writer is None or self._closing:
            raise StoreError("event store is closed")
        prepared = [prepare_batch(batch) for batch in batches]
        if not prepared:
            return []
        results = await writer.submit(prepared)
        if any(isinstance(r, list) and r for r in results):
            self._signal.fire()
        return results

    def _fetch_inline(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self._reader_lock:
            if self._reader is None or self._closing:
                raise StoreError("event store is closed")
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"failed to read the event store: {exc}") from exc

    async def read(self, aggregate_id: AggregateId, from_sequence: int = 0) -> list[StoredEvent]:
        """Events of an aggregate with ``sequence >= from_sequence``, in order."""
        rows = self._fetch_inline(_READ, (aggregate_key(aggregate_id), from_sequence))
        return [
            StoredEvent(aggregate_id, seq, from_micros(micros), type_, data, pos)
            for seq, micros, type_, data, pos in rows
        ]

    async def read_committed(self, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events with ``position > after``, in position order."""
        rows = self._fetch_inline(_READ_COMMITTED, (after, max(limit, 0)))
        return [
            StoredEvent(aggregate_id(key), seq, from_micros(micros), type_, data, pos)
            for key, seq, micros, type_, data, pos in rows
        ]

    async def last_position(self) -> int:
        """The position of the last committed event (0 for an empty store)."""
        ((last,),) = self._fetch_inline(_LAST_POSITION, ())
        return int(last or 0)

    async def wait_committed(self, after: int, timeout: float) -> int:
        """``last_position()`` once past ``after``, or after ``timeout`` seconds.

        Woken by this store's appends (one engine per data directory).
        """
        return await self._signal.wait(self.last_position, after, timeout)

    async def next_sequence(self, aggregate_id: AggregateId) -> int:
        """The sequence the next event of the aggregate will get (EVT-3)."""
        ((last,),) = self._fetch_inline(_NEXT_SEQUENCE, (aggregate_key(aggregate_id),))
        return 0 if last is None else int(last) + 1

    async def flow_entry(self, flow_id: str) -> FlowIndexEntry | None:
        """The index entry of a flow (children included), or ``None``."""
        rows = self._fetch_inline(_ENTRY, (flow_id,))
        return index_entry(*rows[0]) if rows else None

    async def query_flows(self, query: FlowIndexQuery) -> tuple[list[FlowIndexEntry], int]:
        """Matching non-child entries in index order, and the total before paging.

        Reads only the index tables, in one read transaction, in a worker thread.
        """
        return await asyncio.to_thread(self._query, query)

    def _query(self, query: FlowIndexQuery) -> tuple[list[FlowIndexEntry], int]:
        with self._querier_lock:
            conn = self._querier
            if conn is None or self._closing:
                raise StoreError("event store is closed")
            try:
                conn.execute("BEGIN")  # count and page from one snapshot
                try:
                    return query_index(conn, query)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"failed to query flows: {exc}") from exc

    async def active_flow_ids(self) -> list[str]:
        """IDs of every indexed ``active`` flow (children included), sorted."""
        return await asyncio.to_thread(self._active)

    def _active(self) -> list[str]:
        with self._querier_lock:
            if self._querier is None or self._closing:
                raise StoreError("event store is closed")
            try:
                return [row[0] for row in self._querier.execute(_ACTIVE)]
            except sqlite3.Error as exc:
                raise StoreError(f"failed to list active flows: {exc}") from exc

    async def delete_flows_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Delete up to ``limit`` old terminal flows with their children (see the protocol)."""
        if self._writer is None or self._closing:
            raise StoreError("event store is closed")
        cutoff_ns = to_micros(cutoff) * 1000
        job = functools.partial(delete_flows_before, cutoff_ns=cutoff_ns, limit=limit)
        deleted: list[str] = await self._writer.submit_job(job)
        return deleted

    def status(self) -> dict[str, object]:
        """``{"type": "sqlite", "path", "wal": True, "synchronous": "full", ...}``."""
        writer = self._writer
        return {
            "type": "sqlite",
            "path": str(self.path),
            "wal": True,
            "synchronous": "full",
            "open": writer is not None and not self._closing,
            "transactions": writer.transactions if writer is not None else 0,
            "queued": writer.queued() if writer is not None else 0,
        }
