"""The shared event store: PostgreSQL, for several engines on one database.

Selected with ``argyll serve --store postgresql://USER@HOST:PORT/DB`` (or
``STORE_URL``; see ``postgres_url`` for ``?schema=`` and ``?pool_size=``).
Same protocol and semantics as ``SQLiteStore``: per-aggregate logs with
gap-free sequences, optimistic concurrency on the expected sequence, the
flow index maintained in the append's transaction, queries over it, and the
globally ordered read. The tables are in ``postgres_schema`` (created and
migrated on open), group commit in ``postgres_writer``, index queries in
``postgres_query``. Reads and queries use a connection pool; appends use the
writer's own connection. The store is bound to the event loop that opened it.

**Positions without holes for tailers.** A sequence or identity column would
hand out positions at insert time, but transactions commit in any order: a
tailer that has read position 12 (committed) can never see a position 11
still being committed, and would skip it for good. Three ways out were
weighed: (a) one counter row updated in the appending transaction, (b) an
advisory transaction lock around a sequence, (c) tailing by transaction ID
(``xid8`` per row, read only below ``pg_snapshot_xmin``). (b) is (a) with
the lock outside the data, and (c) keeps appends parallel but makes the
order (xid, position), makes every reader compute a snapshot horizon, and
stalls tailers behind any long transaction. We use (a): the statement that
writes a group's events starts by updating the single ``event_head`` row
(``postgres_append``), which reserves positions after the head's and holds
the row lock until COMMIT. PostgreSQL makes a commit visible before it
releases its locks, so the next writer, blocked on that row, goes on only
after the previous commit is visible and continues its numbering: positions
are gap-free and become visible in order, so ``read_committed(after)`` never
skips. The head also keeps index time monotonic across engines.

The price is that appends of all engines are serialized, for one statement
and its COMMIT per group (no client round trip happens under the lock).
Group commit makes that cheap: each engine writes everything queued while it
waited in one transaction, so more load means bigger groups, not more
transactions.

**Driver.** asyncpg, measured against psycopg 3 (3.3, binary, prepared
statements) with a group-commit transaction (lock the head, read the
sequences, insert with ``unnest``, update the head), 64 coroutines each
appending one 332-byte event to its own aggregate, on the project's 2-core
machine (PostgreSQL 15 on loopback, 4 s per run, two runs each):
asyncpg 50,400 and 53,400 appends/s (790-830 transactions/s), psycopg
29,400 and 31,100 appends/s (460-490 transactions/s). The difference is
client-side CPU (asyncpg's binary protocol is in Cython), which is what an
engine on a small machine is short of.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
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
    to_micros,
)
from argyll.engine.store.index import prepare_batch as _prepare
from argyll.engine.store.postgres_cluster import SQL, NodeRecord, node_record
from argyll.engine.store.postgres_query import ENTRY_COLUMNS, index_entry, query_index
from argyll.engine.store.postgres_retention import delete_flows_before
from argyll.engine.store.postgres_schema import SCHEMA_VERSION, migrate
from argyll.engine.store.postgres_url import PostgresURL, parse_postgres_url
from argyll.engine.store.postgres_writer import PostgresWriter
from argyll.engine.store.signal import CommitSignal
from argyll.errors import StoreError

__all__ = ["PostgresStore"]

log = logging.getLogger("argyll.store")

_READ = (
    "SELECT sequence, timestamp, type, data, position FROM events"
    " WHERE aggregate = $1 AND sequence >= $2 ORDER BY sequence"
)
_READ_COMMITTED = (
    "SELECT aggregate, sequence, timestamp, type, data, position FROM events"
    " WHERE position > $1 ORDER BY position LIMIT $2"
)
_LAST_POSITION = "SELECT position FROM event_head WHERE id = 1"
_LAST_SEQUENCE = "SELECT max(sequence) FROM events WHERE aggregate = $1"
_ENTRY = f"SELECT {ENTRY_COLUMNS} FROM flow_index WHERE flow_id = $1"
_ACTIVE = "SELECT flow_id FROM flow_index WHERE grp = 0 ORDER BY flow_id"
_CONNECT_TIMEOUT = 10.0
_LISTEN_RETRY_S = 5.0


class PostgresStore:
    """The ``EventStore`` protocol on a PostgreSQL database.

    Call ``await open()`` before use and ``await close()`` at the end, on one
    event loop.

    Args:
        url: ``postgresql://USER@HOST:PORT/DB[?schema=NAME&pool_size=N]``.
        clock: Wall clock in unix nanoseconds for index timestamps (EVT-13).
        max_batches: Most append batches committed in one transaction.
        node_id: This engine's node ID: the owner of the flows it starts.
        writer_idle_ms: How long the server lets the writer's transaction sit
            idle (its engine frozen) before ending it and freeing the head lock.

    Raises:
        ConfigError: The URL is malformed (nothing is connected yet).
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], int] = time.time_ns,
        max_batches: int = 1024,
        node_id: str = "",
        writer_idle_ms: int = 10_000,
    ) -> None:
        self.url: PostgresURL = parse_postgres_url(url)
        self.node_id = node_id
        self._writer_idle_ms = writer_idle_ms
        self._clock = clock
        self._max_batches = max_batches
        self._pool: Any = None
        self._writer: PostgresWriter | None = None
        self._closing = False
        self._signal = CommitSignal()
        self._listener: Any = None
        self._listening = asyncio.Lock()
        self._listen_failed = -_LISTEN_RETRY_S
        digest = hashlib.sha1(self.url.schema.encode(), usedforsecurity=False).hexdigest()
        self.channel = f"argyll_{digest[:24]}"

    @property
    def transactions(self) -> int:
        """Append transactions committed since ``open`` (fewer than appends under load)."""
        return self._writer.transactions if self._writer is not None else 0

    def _settings(self) -> dict[str, str]:
        # The application name tells engines' connections apart in pg_stat_activity.
        name = f"argyll/{self.url.schema}"
        return {"search_path": f'"{self.url.schema}"', "application_name": name}

    async def _connect(self) -> Any:
        """The writer's connection.

        A writer holds the store-wide head lock while its transaction is
        open; if its engine freezes mid-transaction (a paused VM, a machine
        gone without closing the socket), the server ends the session after
        ``writer_idle_ms`` so the other engines' writers can go on.
        """
        import asyncpg

        settings = self._settings()
        settings["idle_in_transaction_session_timeout"] = str(self._writer_idle_ms)
        return await asyncpg.connect(
            self.url.dsn, server_settings=settings, timeout=_CONNECT_TIMEOUT
        )

    async def open(self) -> None:
        """Connect, create or migrate the schema, start the writer.

        Raises:
            StoreError: The database is unreachable, refuses the login, or
                has a newer schema.
        """
        if self._writer is not None and not self._closing:
            return
        import asyncpg

        where = self.url.display
        pool: Any = None
        try:
            pool = await asyncpg.create_pool(
                self.url.dsn,
                min_size=1,
                max_size=self.url.pool_size,
                server_settings=self._settings(),
                timeout=_CONNECT_TIMEOUT,
            )
            async with pool.acquire() as conn:
                await migrate(conn, self.url.schema, where)
            writer = PostgresWriter(
                self._connect,
                clock=self._clock,
                channel=self.channel,
                max_batches=self._max_batches,
                node_id=self.node_id,
            )
            await writer.start()
        except BaseException as exc:
            if pool is not None:
                pool.terminate()
            if isinstance(exc, StoreError):
                raise
            if isinstance(
                exc, (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
            ):
                raise StoreError(f"cannot open event store {where}: {_reason(exc)}") from exc
            raise
        self._pool = pool
        self._writer = writer
        self._closing = False

    async def close(self) -> None:
        """Commit queued appends, stop the writer, close connections; idempotent."""
        writer = self._writer
        if writer is None or self._closing:
            return
        self._closing = True
        try:
            await writer.stop()
            listener, self._listener = self._listener, None
            if listener is not None:
                listener.terminate()
        finally:
            pool, self._pool = self._pool, None
            if pool is not None:
                await pool.close()

    async def append(self, batch: AppendBatch) -> list[StoredEvent]:
        """Append one batch atomically; returns its stored events once committed.

        Raises:
            ConcurrencyError: ``batch.expected_sequence`` is stale; nothing
                was written.
            StoreError: The store is closed, a ``flow_started`` or
                ``flow_deactivated`` payload cannot be indexed, or the
                transaction failed; nothing was written.
        """
        return only_batch(await self.append_many([batch]))

    async def append_many(self, batches: list[AppendBatch]) -> Results:
        """Append batches in one transaction; a stale batch fails alone.

        Cancelling the caller does not take the append back.

        Raises:
            StoreError: As for ``append``; nothing of any batch was written.
        """
        writer = self._writer
        if writer is None or self._closing:
            raise StoreError("event store is closed")
        prepared = [_prepare(batch) for batch in batches]
        if not prepared:
            return []
        results = await writer.submit(prepared)
        if any(isinstance(r, list) and r for r in results):
            self._signal.fire()  # this engine's waiters need not wait for the NOTIFY
        return results

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        pool = self._pool
        if pool is None or self._closing:
            raise StoreError("event store is closed")
        try:
            result: list[Any] = await pool.fetch(sql, *args)
        except Exception as exc:
            raise StoreError(f"failed to read the event store: {_reason(exc)}") from exc
        return result

    async def read(self, aggregate_id: AggregateId, from_sequence: int = 0) -> list[StoredEvent]:
        """Events of an aggregate with ``sequence >= from_sequence``, in order."""
        rows = await self._fetch(_READ, aggregate_key(aggregate_id), from_sequence)
        return [
            StoredEvent(aggregate_id, seq, from_micros(micros), type_, data, pos)
            for seq, micros, type_, data, pos in rows
        ]

    async def read_committed(self, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` committed events with ``position > after``, in position order."""
        rows = await self._fetch(_READ_COMMITTED, after, max(limit, 0))
        return [
            StoredEvent(aggregate_id(key), seq, from_micros(micros), type_, data, pos)
            for key, seq, micros, type_, data, pos in rows
        ]

    async def last_position(self) -> int:
        """The position of the last committed event (0 for an empty store)."""
        ((position,),) = await self._fetch(_LAST_POSITION)
        return int(position)

    async def wait_committed(self, after: int, timeout: float) -> int:
        """``last_position()`` once past ``after``, or after ``timeout`` seconds.

        Woken by this engine's appends and, through ``LISTEN`` on a
        connection of its own (opened on first use), by every other
        engine's. Without that connection it still returns at ``timeout``.
        """
        await self._listen()
        return await self._signal.wait(self.last_position, after, timeout)

    async def _listen(self) -> None:
        if self._closing or self._pool is None:
            raise StoreError("event store is closed")
        if self._listener is not None and not self._listener.is_closed():
            return
        async with self._listening:
            if self._listener is not None and not self._listener.is_closed():
                return
            if time.monotonic() - self._listen_failed < _LISTEN_RETRY_S:
                return  # failed just now: poll at the callers' timeouts meanwhile
            try:
                import asyncpg

                conn = await asyncpg.connect(
                    self.url.dsn, server_settings=self._settings(), timeout=_CONNECT_TIMEOUT
                )
                await conn.add_listener(self.channel, self._notified)
            except Exception as exc:
                self._listen_failed = time.monotonic()
                log.warning("cannot listen for commits on %s: %s", self.url.display, _reason(exc))
                return
            if self._closing:
                conn.terminate()
                return
            self._listener = conn

    def _notified(self, *_: object) -> None:
        self._signal.fire()

    async def next_sequence(self, aggregate_id: AggregateId) -> int:
        """The sequence the next event of the aggregate will get (EVT-3)."""
        ((last,),) = await self._fetch(_LAST_SEQUENCE, aggregate_key(aggregate_id))
        return 0 if last is None else int(last) + 1

    async def flow_entry(self, flow_id: str) -> FlowIndexEntry | None:
        """The index entry of a flow (children included), or ``None``."""
        rows = await self._fetch(_ENTRY, flow_id)
        return index_entry(rows[0]) if rows else None

    async def query_flows(self, query: FlowIndexQuery) -> tuple[list[FlowIndexEntry], int]:
        """Matching non-child entries in index order, and the total before paging.

        Count and page come from one repeatable-read snapshot.
        """
        pool = self._pool
        if pool is None or self._closing:
            raise StoreError("event store is closed")
        try:
            async with (
                pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                return await query_index(conn, query)
        except Exception as exc:
            raise StoreError(f"failed to query flows: {_reason(exc)}") from exc

    async def active_flow_ids(self) -> list[str]:
        """IDs of every indexed ``active`` flow (children included), sorted."""
        return [row[0] for row in await self._fetch(_ACTIVE)]

    async def delete_flows_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Delete up to ``limit`` old terminal flows with their children (see the protocol)."""
        pool = self._pool
        if pool is None or self._closing:
            raise StoreError("event store is closed")
        try:
            async with pool.acquire() as conn:
                return await delete_flows_before(conn, to_micros(cutoff) * 1000, limit)
        except Exception as exc:
            raise StoreError(f"failed to delete old flows: {_reason(exc)}") from exc

    # cluster (postgres_cluster) -------------------------------------------------

    #: Several engines may share this store: the engine runs as a cluster node.
    shared = True

    async def _execute(self, sql: str, *args: Any) -> None:
        pool = self._pool
        if pool is None or self._closing:
            raise StoreError("event store is closed")
        try:
            await pool.execute(sql, *args)
        except Exception as exc:
            raise StoreError(f"failed to write the event store: {_reason(exc)}") from exc

    async def join(self, address: str) -> None:
        """Register this node (a fresh ``started`` time) at ``address``."""
        await self._execute(SQL.JOIN, self.node_id, address)

    async def heartbeat(self, address: str) -> None:
        """Record that this node is alive now."""
        await self._execute(SQL.HEARTBEAT, self.node_id, address)

    async def leave(self) -> None:
        """Mark this node dead at once (a clean shutdown): survivors take its flows."""
        await self._execute(SQL.LEAVE, self.node_id)

    async def nodes(self, lease_s: float) -> list[NodeRecord]:
        """Every known node; ``alive`` when it heartbeat within ``lease_s`` seconds."""
        return [node_record(row) for row in await self._fetch(SQL.NODES, lease_s)]

    async def flow_owner(self, flow_id: str) -> str | None:
        """The node driving an active flow ("" when unknown); ``None`` if not active."""
        rows = await self._fetch(SQL.OWNER, flow_id)
        return str(rows[0][0]) if rows else None

    async def owned_flows(self) -> list[str]:
        """Active flows this node owns."""
        return [str(row[0]) for row in await self._fetch(SQL.OWNED, self.node_id)]

    async def claim_orphans(self, lease_s: float, limit: int) -> list[str]:
        """Take over up to ``limit`` active flows whose owner is dead; their IDs."""
        rows = await self._fetch(SQL.CLAIM_ORPHANS, self.node_id, lease_s, limit)
        return [str(row[0]) for row in rows]

    async def claim_flow(self, flow_id: str, lease_s: float) -> bool:
        """Own ``flow_id`` if it is active and its owner is this node or dead."""
        return bool(await self._fetch(SQL.CLAIM_ONE, self.node_id, flow_id, lease_s))

    def status(self) -> dict[str, object]:
        """``{"type": "postgresql", "url", "schema", "schema_version", ...}``."""
        writer = self._writer
        return {
            "type": "postgresql",
            "url": self.url.display,
            "schema": self.url.schema,
            "schema_version": SCHEMA_VERSION,
            "open": writer is not None and not self._closing,
            "transactions": writer.transactions if writer is not None else 0,
            "queued": writer.queued() if writer is not None else 0,
        }


def _reason(exc: BaseException) -> str:
    """A one-line reason for a driver or socket error."""
    text = " ".join(str(exc).split())
    if isinstance(exc, TimeoutError) and not text:
        return "timed out"
    return text or type(exc).__name__
