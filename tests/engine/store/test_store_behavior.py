"""The EventStore contract, run against every store (memory and SQLite)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from store_helpers import FakeClock, deactivated, event, run, started

from argyll.engine.store import (
    AppendBatch,
    ConcurrencyError,
    EventStore,
    FlowIndexEntry,
    FlowIndexQuery,
    IndexCursor,
    NewEvent,
)
from argyll.errors import StoreError


def flow(flow_id: str) -> tuple[str, str]:
    return ("flow", flow_id)


def uid(prefix: str = "wf") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- event logs --------------------------------------------------------------


def test_sequences_start_at_zero_without_gaps(store: EventStore) -> None:
    agg = flow(uid())

    async def main() -> None:
        first = await store.append(AppendBatch(agg, 0, [event(), event()]))
        second = await store.append(AppendBatch(agg, 2, [event()]))
        assert [e.sequence for e in first + second] == [0, 1, 2]
        assert [e.sequence for e in await store.read(agg)] == [0, 1, 2]
        assert await store.next_sequence(agg) == 3

    run(main())


def test_stored_events_keep_type_payload_and_timestamp(store: EventStore) -> None:
    agg = flow(uid())
    paris = timezone(timedelta(hours=1))
    raised = [
        NewEvent("a", b'{"x":1}', datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)),
        NewEvent("b", b"{}", datetime(2026, 1, 2, 4, 4, 5, 1, tzinfo=paris)),
        NewEvent("c", b"[]", datetime(1, 1, 1, tzinfo=UTC)),  # the zero time (CONV-1)
    ]

    async def main() -> None:
        stored = await store.append(AppendBatch(agg, 0, raised))
        for events in (stored, await store.read(agg)):
            assert [(e.type, e.data, e.timestamp) for e in events] == [
                (n.type, n.data, n.timestamp) for n in raised
            ]
            assert all(e.timestamp.utcoffset() == timedelta(0) for e in events)
            assert all(e.aggregate_id == agg for e in events)

    run(main())


def test_aggregates_are_independent(store: EventStore) -> None:
    async def main() -> None:
        await store.append(AppendBatch(("catalog",), 0, [event("step_registered")]))
        await store.append(AppendBatch(("cluster",), 0, [event("step_health_changed")]))
        await store.append(AppendBatch(("catalog",), 1, [event("step_updated")]))
        assert [e.type for e in await store.read(("catalog",))] == [
            "step_registered",
            "step_updated",
        ]
        assert await store.next_sequence(("cluster",)) == 1
        assert await store.next_sequence(flow(uid())) == 0
        assert await store.read(flow(uid())) == []

    run(main())


def test_read_from_a_sequence(store: EventStore) -> None:
    agg = flow(uid())

    async def main() -> None:
        await store.append(AppendBatch(agg, 0, [event(data={"n": n}) for n in range(5)]))
        assert [e.sequence for e in await store.read(agg, 3)] == [3, 4]
        assert [e.sequence for e in await store.read(agg, 0)] == [0, 1, 2, 3, 4]
        assert await store.read(agg, 5) == []

    run(main())


@pytest.mark.parametrize("expected", [0, 1, 3])
def test_stale_expected_sequence_raises_and_writes_nothing(
    store: EventStore, expected: int
) -> None:
    agg = flow(uid())

    async def main() -> None:
        await store.append(AppendBatch(agg, 0, [event(), event()]))
        with pytest.raises(ConcurrencyError) as info:
            await store.append(AppendBatch(agg, expected, [event("late")]))
        assert (info.value.aggregate, info.value.expected, info.value.actual) == (agg, expected, 2)
        assert [e.type for e in await store.read(agg)] == ["step_started"] * 2
        assert await store.next_sequence(agg) == 2

    run(main())


def test_append_many_commits_all_but_the_stale_batch(store: EventStore) -> None:
    a, b, c = flow(uid()), flow(uid()), flow(uid())

    async def main() -> None:
        await store.append(AppendBatch(b, 0, [event()]))
        results = await store.append_many(
            [
                AppendBatch(a, 0, [started(a[1]), event()]),
                AppendBatch(b, 0, [started(b[1])]),  # stale: b is at 1
                AppendBatch(c, 0, [event()]),
                AppendBatch(a, 2, [event("third")]),  # follows the first batch
            ]
        )
        assert [type(r) for r in results] == [list, ConcurrencyError, list, list]
        assert [e.sequence for e in results[3]] == [2]  # type: ignore[union-attr]
        assert [e.type for e in await store.read(a)] == ["flow_started", "step_started", "third"]
        assert len(await store.read(b)) == 1
        assert await store.flow_entry(b[1]) is None  # nothing of the stale batch
        assert await store.next_sequence(c) == 1

    run(main())


def test_two_batches_racing_for_one_sequence(store: EventStore) -> None:
    agg = flow(uid())

    async def main() -> None:
        results = await asyncio.gather(
            *(store.append(AppendBatch(agg, 0, [event(data={"n": n})])) for n in range(8)),
            return_exceptions=True,
        )
        assert sum(isinstance(r, list) for r in results) == 1
        assert sum(isinstance(r, ConcurrencyError) for r in results) == 7
        assert await store.next_sequence(agg) == 1

    run(main())


def test_concurrent_appends_keep_every_log_gap_free(store: EventStore) -> None:
    aggs = [flow(uid()) for _ in range(16)]

    async def writer(agg: tuple[str, str]) -> None:
        for n in range(10):
            await store.append(AppendBatch(agg, n * 2, [event(data={"n": n}), event()]))

    async def main() -> None:
        await asyncio.gather(*(writer(agg) for agg in aggs))
        for agg in aggs:
            assert [e.sequence for e in await store.read(agg)] == list(range(20))

    run(main())


def test_empty_append_many(store: EventStore) -> None:
    assert run(store.append_many([])) == []


def test_unindexable_payload_fails_the_whole_call(store: EventStore) -> None:
    a, b = flow(uid()), flow(uid())

    async def main() -> None:
        bad = NewEvent("flow_started", b"not json", datetime.now(UTC))
        with pytest.raises(StoreError):
            await store.append_many([AppendBatch(a, 0, [event()]), AppendBatch(b, 0, [bad])])
        with pytest.raises(StoreError):
            await store.append(AppendBatch(b, 0, [deactivated(b[1], "active")]))
        assert await store.next_sequence(a) == 0
        assert await store.next_sequence(b) == 0

    run(main())


# -- flow index --------------------------------------------------------------


def test_index_follows_flow_started_and_flow_deactivated(
    store: EventStore, clock: FakeClock
) -> None:
    fid = uid()

    async def main() -> None:
        await store.append(AppendBatch(flow(fid), 0, [started(fid, {"env": "prod"})]))
        entry = await store.flow_entry(fid)
        assert entry is not None
        assert (entry.status, entry.labels, entry.group) == ("active", {"env": "prod"}, 0)
        start_ns = entry.cursor.recent_ns
        assert start_ns == clock.now_ns  # commit time, from the injected clock
        assert entry.timestamp == datetime.fromtimestamp(start_ns // 10**9, UTC) + timedelta(
            microseconds=start_ns % 10**9 // 1000
        )
        assert await store.active_flow_ids() == [fid]

        await store.append(AppendBatch(flow(fid), 1, [event("flow_completed")]))
        still = await store.flow_entry(fid)
        assert still is not None and still.status == "active"  # TERM-8

        await store.append(AppendBatch(flow(fid), 2, [deactivated(fid, "completed")]))
        done = await store.flow_entry(fid)
        assert done is not None
        assert (done.status, done.labels, done.group) == ("completed", {"env": "prod"}, 1)
        assert done.cursor.recent_ns > start_ns
        assert await store.active_flow_ids() == []
        assert await store.flow_entry(uid()) is None

    run(main())


def test_start_and_deactivation_in_one_batch(store: EventStore) -> None:
    fid = uid()

    async def main() -> None:
        batch = [started(fid, {"k": "v"}), event(), deactivated(fid, "failed")]
        await store.append(AppendBatch(flow(fid), 0, batch))
        entry = await store.flow_entry(fid)
        assert entry is not None and (entry.status, entry.labels) == ("failed", {"k": "v"})

    run(main())


def test_child_flows_are_indexed_but_never_queried(store: EventStore) -> None:
    parent = uid()
    child = f"{parent}:step:{uuid.uuid4()}"

    async def main() -> None:
        await store.append(AppendBatch(flow(parent), 0, [started(parent)]))
        await store.append(AppendBatch(flow(child), 0, [started(child, {"a": "b"})]))
        assert sorted(await store.active_flow_ids()) == sorted([parent, child])
        entry = await store.flow_entry(child)
        assert entry is not None and entry.status == "active"
        for query in (
            FlowIndexQuery(),
            FlowIndexQuery(id_prefix=parent),
            FlowIndexQuery(labels={"a": "b"}),
            FlowIndexQuery(statuses=("active",), descending=True),
        ):
            entries, total = await store.query_flows(query)
            assert child not in [e.flow_id for e in entries]
            assert total == len(entries)
        await store.append(AppendBatch(flow(child), 1, [deactivated(child, "completed")]))
        assert await store.active_flow_ids() == [parent]

    run(main())


def ids(entries: list[FlowIndexEntry]) -> list[str]:
    return [e.flow_id for e in entries]


def test_query_order_groups_time_and_id_ties(store: EventStore) -> None:
    async def main() -> None:
        # One transaction per call, so one index time per call (ties inside).
        await store.append_many([AppendBatch(flow(f), 0, [started(f)]) for f in ("b", "a")])
        await store.append_many([AppendBatch(flow(f), 0, [started(f)]) for f in ("d", "c")])
        await store.append(AppendBatch(flow("e"), 0, [started("e")]))
        await store.append(AppendBatch(flow("b"), 1, [deactivated("b", "failed")]))
        await store.append_many(
            [
                AppendBatch(flow("d"), 1, [deactivated("d", "completed")]),
                AppendBatch(flow("c"), 1, [deactivated("c", "failed")]),
            ]
        )
        asc, total = await store.query_flows(FlowIndexQuery())
        assert (ids(asc), total) == (["a", "e", "b", "c", "d"], 5)
        desc, total = await store.query_flows(FlowIndexQuery(descending=True))
        assert (ids(desc), total) == (["e", "a", "c", "d", "b"], 5)
        assert [e.group for e in desc] == [0, 0, 1, 1, 1]

    run(main())


def test_query_filters(store: EventStore) -> None:
    flows = {
        "order-1": ({"env": "prod", "team": "a"}, "completed"),
        "order-2": ({"env": "prod", "team": "b"}, "failed"),
        "order-3": ({"env": "dev", "team": "a"}, None),
        "ordinal": ({"env": "prod"}, None),
        "other": ({}, "completed"),
        "ord%": ({}, None),
        "ord_x": ({}, None),
    }

    async def main() -> None:
        for fid, (labels, _) in flows.items():
            await store.append(AppendBatch(flow(fid), 0, [started(fid, labels)]))
        for fid, (_, status) in flows.items():
            if status:
                await store.append(AppendBatch(flow(fid), 1, [deactivated(fid, status)]))

        async def q(**kwargs: object) -> tuple[set[str], int]:
            entries, total = await store.query_flows(FlowIndexQuery(**kwargs))  # type: ignore[arg-type]
            return set(ids(entries)), total

        assert await q(id_prefix="order-") == ({"order-1", "order-2", "order-3"}, 3)
        assert await q(id_prefix="ord%") == ({"ord%"}, 1)  # no LIKE wildcards
        assert await q(id_prefix="ord_") == ({"ord_x"}, 1)
        assert await q(id_prefix="nope") == (set(), 0)
        assert await q(labels={"env": "prod"}) == ({"order-1", "order-2", "ordinal"}, 3)
        assert await q(labels={"env": "prod", "team": "a"}) == ({"order-1"}, 1)
        assert await q(labels={"env": "prod", "team": "c"}) == (set(), 0)
        assert await q(statuses=("active",)) == ({"order-3", "ordinal", "ord%", "ord_x"}, 4)
        assert await q(statuses=("completed", "failed")) == ({"order-1", "order-2", "other"}, 3)
        assert await q(statuses=("failed", "failed")) == ({"order-2"}, 1)
        assert await q(statuses=("completed",), labels={"env": "prod"}, id_prefix="order") == (
            {"order-1"},
            1,
        )
        assert await q(limit=0) == (set(flows), len(flows))
        page, total = await q(limit=2, statuses=("active",))
        assert (len(page), total) == (2, 4)  # total counts matches before paging

    run(main())


def test_cursor_pages_over_a_thousand_flows(store: EventStore) -> None:
    all_ids = [f"flow-{n:04d}" for n in range(1000)]

    async def main() -> None:
        # Ten flows per transaction: many timestamp ties, broken by ID.
        for chunk in range(0, 1000, 10):
            await store.append_many(
                [AppendBatch(flow(f), 0, [started(f)]) for f in all_ids[chunk : chunk + 10]]
            )
        await store.append_many(
            [
                AppendBatch(flow(f), 1, [deactivated(f, "completed" if n % 2 else "failed")])
                for n, f in enumerate(all_ids)
                if n % 3 == 0
            ]
        )
        for descending in (False, True):
            for statuses in ((), ("active",), ("failed", "completed")):
                base = FlowIndexQuery(statuses=statuses, descending=descending)
                everything, total = await store.query_flows(base)
                assert len(everything) == total
                keys = [
                    (e.group, -e.cursor.recent_ns if descending else e.cursor.recent_ns, e.flow_id)
                    for e in everything
                ]
                assert keys == sorted(keys)
                seen: list[str] = []
                after: IndexCursor | None = None
                while True:
                    page, page_total = await store.query_flows(
                        FlowIndexQuery(
                            statuses=statuses, descending=descending, limit=37, after=after
                        )
                    )
                    assert page_total == total
                    if not page:
                        break
                    seen.extend(ids(page))
                    after = page[-1].cursor
                assert seen == ids(everything)
                assert len(set(seen)) == len(seen)
        everything, total = await store.query_flows(FlowIndexQuery())
        assert sorted(ids(everything)) == all_ids and total == 1000

    run(main())
