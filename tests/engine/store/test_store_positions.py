"""The globally ordered read, run against every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
import uuid

from store_helpers import event, run, started

from argyll.engine.store import AppendBatch, ConcurrencyError, EventStore, StoredEvent


def flow(flow_id: str) -> tuple[str, str]:
    return ("flow", flow_id)


def uid() -> str:
    return f"wf-{uuid.uuid4().hex[:12]}"


async def tail_all(store: EventStore, after: int = 0, limit: int = 7) -> list[StoredEvent]:
    """Everything committed after ``after``, read in pages of ``limit``."""
    seen: list[StoredEvent] = []
    while True:
        page = await store.read_committed(after, limit)
        if not page:
            return seen
        seen.extend(page)
        after = page[-1].position


def test_an_empty_store_has_position_zero(store: EventStore) -> None:
    async def main() -> None:
        assert await store.last_position() == 0
        assert await store.read_committed(0, 10) == []

    run(main())


def test_positions_number_commits_across_aggregates(store: EventStore) -> None:
    a, b = flow(uid()), flow(uid())

    async def main() -> None:
        first = await store.append(AppendBatch(a, 0, [started(a[1]), event()]))
        second = await store.append(AppendBatch(("catalog",), 0, [event("step_registered")]))
        third = await store.append(AppendBatch(b, 0, [event()]))
        fourth = await store.append(AppendBatch(a, 2, [event("last")]))
        appended = first + second + third + fourth
        assert [e.position for e in appended] == [1, 2, 3, 4, 5]
        assert await store.last_position() == 5
        everything = await store.read_committed(0, 100)
        assert everything == appended
        assert [e.aggregate_id for e in everything] == [a, a, ("catalog",), b, a]
        assert await store.read(a) == first + fourth  # reads carry positions too
        assert await store.read_committed(2, 2) == [second[0], third[0]]
        assert await store.read_committed(5, 10) == []
        assert await store.read_committed(0, 0) == []

    run(main())


def test_stale_batches_take_no_position(store: EventStore) -> None:
    a, b = flow(uid()), flow(uid())

    async def main() -> None:
        await store.append(AppendBatch(a, 0, [event()]))
        results = await store.append_many(  # type: ignore[attr-defined]
            [AppendBatch(a, 0, [event("stale")]), AppendBatch(b, 0, [event(), event()])]
        )
        assert isinstance(results[0], ConcurrencyError)
        assert [e.position for e in results[1]] == [2, 3]
        assert [e.type for e in await tail_all(store)] == ["step_started"] * 3

    run(main())


def test_tailing_during_concurrent_appends_misses_nothing(store: EventStore) -> None:
    aggs = [flow(uid()) for _ in range(12)]
    done = asyncio.Event()

    async def writer(agg: tuple[str, str]) -> None:
        for n in range(8):
            await store.append(AppendBatch(agg, n, [event(data={"n": n})]))

    async def tailer() -> list[StoredEvent]:
        seen: list[StoredEvent] = []
        after = 0
        while True:
            finished = done.is_set()
            page = await store.read_committed(after, 5)
            seen.extend(page)
            if page:
                after = page[-1].position
            elif finished:
                return seen
            else:
                await asyncio.sleep(0)

    async def main() -> None:
        tail = asyncio.ensure_future(tailer())
        await asyncio.gather(*(writer(agg) for agg in aggs))
        done.set()
        seen = await tail
        assert [e.position for e in seen] == list(range(1, 97))
        assert await store.last_position() == 96
        for agg in aggs:
            assert [e.sequence for e in seen if e.aggregate_id == agg] == list(range(8))

    run(main())


def test_waiting_for_commits(store: EventStore) -> None:
    agg = flow(uid())

    async def main() -> None:
        started_at = time.monotonic()
        assert await store.wait_committed(0, 0.05) == 0  # nothing: the timeout
        assert time.monotonic() - started_at >= 0.04
        waiter = asyncio.ensure_future(store.wait_committed(0, 30))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        started_at = time.monotonic()
        await store.append(AppendBatch(agg, 0, [event()]))
        assert await waiter == 1
        assert time.monotonic() - started_at < 5  # woken, not timed out
        assert await store.wait_committed(0, 30) == 1  # already past: at once

    run(main())
