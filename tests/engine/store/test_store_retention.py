"""``delete_flows_before``: old terminal flows go with their children; active ones stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from store_helpers import FakeClock, deactivated, event, run, started

from argyll.engine.store import AppendBatch, EventStore, SQLiteStore
from argyll.engine.store.base import FlowIndexQuery
from argyll.engine.store.index import from_ns


async def _flow(store: EventStore, flow_id: str, status: str | None) -> None:
    events = [started(flow_id), event("step_started", {"flow_id": flow_id, "step_id": "a"})]
    if status is not None:
        events.append(deactivated(flow_id, status))
    await store.append(AppendBatch(("flow", flow_id), 0, events))


def test_deletes_old_terminal_flows_with_children(store: EventStore, clock: FakeClock) -> None:
    async def main() -> None:
        await _flow(store, "old-done", "completed")
        await _flow(store, "old-done:s:t1", "completed")  # its child
        await _flow(store, "old-failed", "failed")
        await _flow(store, "old-active", None)
        await _flow(store, "old-parent", "completed")
        await _flow(store, "old-parent:s:t1", None)  # an active child keeps its family
        await _flow(store, "old-done2", "completed")
        cutoff = from_ns(clock.now_ns + 1000)  # just after the last index time
        await _flow(store, "new-done", "completed")
        last = await store.last_position()
        first = await store.delete_flows_before(cutoff, 2)
        assert first == ["old-done", "old-done:s:t1", "old-failed"]
        assert await store.read(("flow", "old-done")) == []
        assert await store.read(("flow", "old-done:s:t1")) == []
        assert await store.flow_entry("old-done") is None
        assert await store.flow_entry("old-done:s:t1") is None
        second = await store.delete_flows_before(cutoff, 10)
        assert second == ["old-done2"]
        assert await store.delete_flows_before(cutoff, 10) == []
        entries, _ = await store.query_flows(FlowIndexQuery())
        assert sorted(e.flow_id for e in entries) == ["new-done", "old-active", "old-parent"]
        assert len(await store.read(("flow", "old-active"))) == 2
        assert await store.flow_entry("old-parent:s:t1") is not None
        assert sorted(await store.active_flow_ids()) == ["old-active", "old-parent:s:t1"]
        # Positions never go back; a deleted ID can be used again from sequence 0.
        assert await store.last_position() == last
        await _flow(store, "old-done", "completed")
        again = await store.read(("flow", "old-done"))
        assert len(again) == 3 and again[0].position == last + 1

    run(main())


def _size(data: Path) -> int:
    return sum(p.stat().st_size for p in data.iterdir() if p.name.startswith("argyll.db"))


def test_sqlite_file_stays_bounded_under_retention(tmp_path: Path) -> None:
    """Steady load with retention: after a warm-up the file stops growing."""
    clock = FakeClock()
    store = SQLiteStore(tmp_path, clock=clock)
    payload = {"flow_id": "x", "step_id": "a", "outputs": {"blob": "y" * 2000}}

    async def round_of(n: int, base: int) -> None:
        for i in range(0, n, 50):
            batches = [
                AppendBatch(
                    ("flow", f"f{base + j}"),
                    0,
                    [
                        started(f"f{base + j}"),
                        event("step_completed", payload),
                        deactivated(f"f{base + j}", "completed"),
                    ],
                )
                for j in range(i, i + 50)
            ]
            await store.append_many(batches)
        cutoff = from_ns(clock.now_ns) + timedelta(microseconds=1)
        while await store.delete_flows_before(cutoff, 200):
            pass

    async def main() -> list[int]:
        await store.open()
        sizes = []
        try:
            for r in range(6):
                await round_of(500, r * 500)
                sizes.append(_size(tmp_path))
            entries, _ = await store.query_flows(FlowIndexQuery())
            # The newest event's flow stays: the writer numbers positions after it.
            assert [e.flow_id for e in entries] == ["f2999"]
        finally:
            await store.close()
        return sizes

    sizes = run(main())
    assert max(sizes[2:]) <= sizes[1] * 1.1, sizes  # freed pages are reused
