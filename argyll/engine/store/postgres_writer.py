"""The group-commit writer of ``PostgresStore``: one task, one connection.

Appends from any number of coroutines are queued to one writer task, which
takes everything queued so far and writes it as ONE transaction on its own
connection, then resolves each caller's future. While one transaction
commits, the next group gathers, so the transactions per second stay
roughly constant while the events per transaction grow with the load.

A group is written in two statements (``postgres_append``): read the last
sequence of its aggregates, check its batches (stale ones are answered with
``ConcurrencyError``, the others get their sequences), then one statement
that takes the store-wide head lock, reserves the positions and inserts the
events and flow-index rows. If another engine appended to one of the
aggregates in between, the primary key rejects that statement and the group
is done again in a transaction that takes the head lock before reading the
sequences.

If the connection is lost while nothing can have been committed (while
reading, or inside the locked transaction before COMMIT), the group is
written again on a new connection. If it is lost while the write statement
or the COMMIT runs, the appends of the group fail with ``StoreError``: they
may or may not have been committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from argyll.engine.store.index import PreparedBatch, Results
from argyll.engine.store.postgres_append import (
    LOCK_HEAD,
    finish,
    last_sequences,
    plan_group,
    write_plan,
)
from argyll.errors import StoreError

__all__ = ["PostgresWriter"]

# Attempts at a group: after a lost connection (before anything could commit)
# or a unique violation (done again under the head lock).
_ATTEMPTS = 3


def _connection_lost(exc: Exception, conn: Any) -> bool:
    """True when ``exc`` means the connection is gone (so nothing of it committed)."""
    import asyncpg

    if conn.is_closed():
        return True
    return isinstance(
        exc,
        OSError
        | asyncpg.InterfaceError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError,
    )


def _unique_violation(exc: Exception) -> bool:
    import asyncpg

    return isinstance(exc, asyncpg.UniqueViolationError)


@dataclass(frozen=True, slots=True)
class _Request:
    batches: list[PreparedBatch]
    future: asyncio.Future[Results]


class PostgresWriter:
    """Owns the write connection and the task that commits queued appends.

    Args:
        connect: Opens a new connection (search path set to the store's
            schema); called at start and again after a connection is lost.
        clock: Wall clock in unix nanoseconds (index commit time, EVT-13).
        channel: The ``NOTIFY`` channel told of every commit.
        max_batches: Most batches written in one transaction.
        node_id: The owner recorded for flows this writer starts.

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
        channel: str,
        max_batches: int = 1024,
        node_id: str = "",
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._node_id = node_id
        self._clock = clock
        self._max_batches = max_batches
        self._conn: Any = None
        self._queue: asyncio.Queue[_Request | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
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
        requests = [r.batches for r in group]
        keys = list(dict.fromkeys(b.key for batches in requests for b in batches))
        outcomes: list[Results] | StoreError = StoreError("failed to append events")
        locked = False  # first optimistically, under the head lock after a conflict
        for _ in range(_ATTEMPTS):
            conn: Any = None
            tx: Any = None
            safe = True  # nothing of this attempt can have been committed yet
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                conn = self._conn
                if locked:
                    tx = conn.transaction()
                    await tx.start()
                    await conn.fetchval(LOCK_HEAD)
                plan = plan_group(requests, await last_sequences(conn, keys))
                base = 0
                if plan.count:
                    safe = locked
                    base = await write_plan(conn, plan, self._clock(), self._node_id, self._channel)
                if tx is not None:
                    safe = False
                    await tx.commit()
            except Exception as exc:
                outcomes = self._failed(exc)
                lost = conn is None or _connection_lost(exc, conn)
                if lost:
                    self._drop_connection()
                elif tx is not None:
                    await self._rollback(tx)
                if _unique_violation(exc):
                    locked = True  # nothing was written: again, under the lock
                    continue
                if lost and safe:
                    continue
                break
            outcomes = finish(requests, plan, base)
            self.transactions += 1
            self.batches += sum(isinstance(r, list) for out in outcomes for r in out)
            self.events += plan.count
            break
        self._resolve(group, outcomes)

    @staticmethod
    def _failed(exc: Exception) -> StoreError:
        error = StoreError(f"failed to append events: {' '.join(str(exc).split())}")
        error.__cause__ = exc
        return error

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def _rollback(self, tx: Any) -> None:
        try:
            await tx.rollback()
        except Exception:
            self._drop_connection()

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
