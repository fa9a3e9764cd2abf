"""SQLite-only behavior: files, reopening, group commit, closing, several writers."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from store_helpers import FakeClock, deactivated, event, run, started

from argyll.engine.store import (
    AppendBatch,
    ConcurrencyError,
    FlowIndexQuery,
    MemoryStore,
    SQLiteStore,
    open_store,
    sqlite,
    sqlite_query,
)
from argyll.engine.store.sqlite_query import prefix_end
from argyll.errors import StoreError


def test_creates_the_database_in_wal_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b"
    store = SQLiteStore(data_dir)

    async def main() -> None:
        await store.open()
        await store.open()  # no-op
        status = store.status()
        assert status["type"] == "sqlite" and status["wal"] is True
        assert status["path"] == str(data_dir / "argyll.db")
        await store.close()

    run(main())
    with sqlite3.connect(data_dir / "argyll.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            "2",
        )
    conn.close()


def test_reopening_restores_events_sequences_and_index(tmp_path: Path) -> None:
    async def write() -> None:
        store = SQLiteStore(tmp_path)
        await store.open()
        await store.append(AppendBatch(("catalog",), 0, [event("step_registered")]))
        await store.append(AppendBatch(("flow", "a"), 0, [started("a", {"k": "v"}), event()]))
        await store.append(AppendBatch(("flow", "b"), 0, [started("b")]))
        await store.append(AppendBatch(("flow", "b"), 1, [deactivated("b", "failed")]))
        await store.close()

    async def check() -> None:
        store = SQLiteStore(tmp_path)
        await store.open()
        assert [e.type for e in await store.read(("flow", "a"))] == [
            "flow_started",
            "step_started",
        ]
        assert await store.next_sequence(("catalog",)) == 1
        assert await store.active_flow_ids() == ["a"]
        entry = await store.flow_entry("a")
        assert entry is not None and entry.labels == {"k": "v"}
        entries, total = await store.query_flows(FlowIndexQuery(statuses=("failed",)))
        assert [e.flow_id for e in entries] == ["b"] and total == 1
        with pytest.raises(ConcurrencyError):
            await store.append(AppendBatch(("flow", "a"), 1, [event()]))
        await store.append(AppendBatch(("flow", "a"), 2, [event()]))
        await store.close()

    run(write())
    run(check())


def test_concurrent_appends_share_transactions(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    appends = 400

    async def main() -> None:
        await store.open()
        before = store.transactions
        results = await asyncio.gather(
            *(store.append(AppendBatch(("flow", f"f{n}"), 0, [event()])) for n in range(appends))
        )
        assert all(len(r) == 1 for r in results)
        committed = store.transactions - before
        assert 1 <= committed < appends // 2, committed  # group commit happened
        await store.close()

    run(main())


def test_close_commits_queued_appends_then_refuses(tmp_path: Path) -> None:
    async def main() -> None:
        store = SQLiteStore(tmp_path)
        await store.open()
        pending = [
            asyncio.ensure_future(store.append(AppendBatch(("flow", f"f{n}"), 0, [event()])))
            for n in range(100)
        ]
        await asyncio.sleep(0)  # let every append reach the writer's queue
        await store.close()
        await store.close()  # idempotent
        assert [len(r) for r in await asyncio.gather(*pending)] == [1] * 100
        with pytest.raises(StoreError, match="closed"):
            await store.append(AppendBatch(("flow", "late"), 0, [event()]))
        with pytest.raises(StoreError, match="closed"):
            await store.read(("flow", "f1"))
        with pytest.raises(StoreError, match="closed"):
            await store.query_flows(FlowIndexQuery())
        reopened = SQLiteStore(tmp_path)
        await reopened.open()
        assert all([await reopened.next_sequence(("flow", f"f{n}")) for n in range(100)])
        await reopened.close()

    run(main())


def test_appends_from_several_event_loops(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    run(store.open())
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        async def main() -> None:
            agg = ("flow", f"loop-{n}")
            for seq in range(50):
                await store.append(AppendBatch(agg, seq, [event()]))

        try:
            asyncio.run(main())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert [run(store.next_sequence(("flow", f"loop-{n}"))) for n in range(4)] == [50] * 4
    run(store.close())


def test_two_stores_on_one_file_stay_consistent(tmp_path: Path) -> None:
    """The sequence cache of one writer goes stale when another writes the file."""
    agg = ("flow", "shared")

    async def main() -> None:
        first, second = SQLiteStore(tmp_path), SQLiteStore(tmp_path)
        await first.open()
        await second.open()
        await first.append(AppendBatch(agg, 0, [event(), event()]))
        await second.append(AppendBatch(agg, 2, [event()]))
        with pytest.raises(ConcurrencyError) as info:
            await first.append(AppendBatch(agg, 2, [event()]))  # its cache says 2
        assert info.value.actual == 3
        await first.append(AppendBatch(agg, 3, [event()]))
        assert [e.sequence for e in await second.read(agg)] == [0, 1, 2, 3]
        await first.close()
        await second.close()

    run(main())


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    run(store.open())
    run(store.close())
    with sqlite3.connect(tmp_path / "argyll.db") as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        run(SQLiteStore(tmp_path).open())


def test_index_time_never_runs_backwards(tmp_path: Path) -> None:
    clock = FakeClock(step_ns=-1_000_000)  # a wall clock going backwards

    async def main() -> None:
        store = SQLiteStore(tmp_path, clock=clock)
        await store.open()
        await store.append(AppendBatch(("flow", "a"), 0, [started("a")]))
        await store.append(AppendBatch(("flow", "b"), 0, [started("b")]))
        a, b = await store.flow_entry("a"), await store.flow_entry("b")
        assert a is not None and b is not None and b.timestamp >= a.timestamp
        await store.close()

    run(main())


def test_open_store_picks_the_implementation(tmp_path: Path) -> None:
    assert isinstance(open_store(None), MemoryStore)
    store = open_store(tmp_path)
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / "argyll.db"


def test_prefix_end_bounds_every_string_with_the_prefix() -> None:
    assert prefix_end("ab") == "ac"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff") is None
    assert prefix_end("a\ud7ff") == "a\ue000"
    for s in ["ab", "ab\x00", "ab\U0010ffff\U0010ffff", "abzzz"]:
        assert "ab" <= s < "ac"


@pytest.mark.parametrize("sort_by_id_max", [0, 10_000])
def test_prefix_queries_by_range_or_by_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort_by_id_max: int
) -> None:
    """Both plans of an ID-prefix query (few matches: by ID; many: in index order)."""
    monkeypatch.setattr(sqlite_query, "_SORT_BY_ID_MAX", sort_by_id_max)
    flows = [f"p-{n:03d}" for n in range(120)] + ["p", "q-1", "o-9", "p-x:child:1"]

    async def main() -> None:
        store = SQLiteStore(tmp_path, clock=FakeClock())
        await store.open()
        for chunk in range(0, len(flows), 7):
            batch = flows[chunk : chunk + 7]
            await store.append_many([AppendBatch(("flow", f), 0, [started(f)]) for f in batch])
        for descending in (False, True):
            seen: list[str] = []
            after = None
            while True:
                query = FlowIndexQuery(id_prefix="p-", descending=descending, limit=9, after=after)
                page, total = await store.query_flows(query)
                assert total == 120
                if not page:
                    break
                seen += [e.flow_id for e in page]
                after = page[-1].cursor
            assert sorted(seen) == flows[:120] and len(set(seen)) == 120
        await store.close()

    run(main())


def test_a_failed_transaction_writes_nothing_and_the_store_goes_on(tmp_path: Path) -> None:
    fail = True

    def clock() -> int:  # read inside the transaction when the index changes
        if fail:
            raise OSError("clock unavailable")
        return 1_790_000_000_000_000_000

    async def main() -> None:
        nonlocal fail
        store = SQLiteStore(tmp_path, clock=clock)
        await store.open()
        with pytest.raises(StoreError, match="clock unavailable") as info:
            await store.append_many(
                [
                    AppendBatch(("flow", "x"), 0, [event()]),
                    AppendBatch(("flow", "a"), 0, [started("a")]),
                ]
            )
        assert isinstance(info.value.__cause__, OSError)
        assert await store.next_sequence(("flow", "x")) == 0
        assert await store.flow_entry("a") is None
        fail = False
        await store.append(AppendBatch(("flow", "a"), 0, [started("a")]))
        assert await store.active_flow_ids() == ["a"]
        await store.close()

    run(main())


def test_the_same_instance_reopens_after_close(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)

    async def main() -> None:
        await store.open()
        await store.append(AppendBatch(("catalog",), 0, [event()]))
        await store.close()
        await store.open()
        assert await store.next_sequence(("catalog",)) == 1
        await store.append(AppendBatch(("catalog",), 1, [event()]))
        assert store.status()["open"] is True
        await store.close()
        assert store.status()["open"] is False

    run(main())


def test_a_version_1_file_gets_positions_in_insertion_order(tmp_path: Path) -> None:
    """Files written before positions existed are migrated on open."""
    with sqlite3.connect(tmp_path / "argyll.db") as conn:
        conn.executescript(sqlite._META + ";" + sqlite._SCHEMA_V1)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        rows = [("flow\x1fb", 0), ("catalog", 0), ("flow\x1fb", 1), ("flow\x1fa", 0)]
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, 0, 't', x'7b7d')", [(a, s) for a, s in rows]
        )
    conn.close()

    async def main() -> None:
        store = SQLiteStore(tmp_path)
        await store.open()
        old = await store.read_committed(0, 10)
        assert [(e.aggregate_id, e.sequence, e.position) for e in old] == [
            (("flow", "b"), 0, 1),
            (("catalog",), 0, 2),
            (("flow", "b"), 1, 3),
            (("flow", "a"), 0, 4),
        ]
        (new,) = await store.append(AppendBatch(("flow", "a"), 1, [event()]))
        assert new.position == 5 and await store.last_position() == 5
        await store.close()

    run(main())
    with sqlite3.connect(tmp_path / "argyll.db") as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == ("2",)
    conn.close()
