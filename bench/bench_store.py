"""Benchmark of the event store against raw SQLite floors measured in the same run.

Run: ``.venv/bin/python bench/bench_store.py [--appends 20000] [--reps 3] [--uvloop]``

Prints, as medians over the repetitions (min-max in brackets):

- the floor: raw ``sqlite3``, WAL, ``synchronous=FULL``, one transaction per
  append of one 332-byte event (and of ten events);
- ``SQLiteStore`` appends from 64 concurrent coroutines, with one-event and
  ten-event batches, and the average number of batches per transaction
  (group commit), as a ratio to the floor;
- read and query latencies over 10,000 indexed flows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argyll.engine.store import (
    AppendBatch,
    FlowIndexQuery,
    MemoryStore,
    NewEvent,
    SQLiteStore,
)

PAYLOAD = json.dumps({"flow_id": "wf-0000", "step_id": "step", "x": "y" * 280}).encode()[:332]
CONCURRENCY = 64


def raw_floor(directory: Path, appends: int, per_txn: int) -> float:
    """Events/s of raw sqlite3 WAL+FULL, one transaction per ``per_txn`` events."""
    path = directory / f"raw-{per_txn}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE events (aggregate TEXT NOT NULL, sequence INTEGER NOT NULL,"
        " timestamp INTEGER NOT NULL, type TEXT NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (aggregate, sequence))"
    )
    started = time.perf_counter()
    for n in range(appends):
        conn.execute("BEGIN IMMEDIATE")
        rows = [
            (f"flow\x1fwf-{n % 1000}", n // 1000 * per_txn + i, 0, "t", PAYLOAD)
            for i in range(per_txn)
        ]
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return appends * per_txn / elapsed


async def store_appends(directory: Path, appends: int, per_batch: int) -> tuple[float, float]:
    """Events/s of SQLiteStore appends from 64 coroutines, and batches per transaction."""
    store = SQLiteStore(directory)
    await store.open()
    now = datetime.now(UTC)
    events = [NewEvent("step_started", PAYLOAD, now) for _ in range(per_batch)]
    per_worker = appends // CONCURRENCY

    async def worker(w: int) -> None:
        for n in range(per_worker):
            agg = ("flow", f"wf-{w}-{n % 50}")
            await store.append(AppendBatch(agg, n // 50 * per_batch, events))

    before = store.transactions
    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    transactions = store.transactions - before
    await store.close()
    return per_worker * CONCURRENCY * per_batch / elapsed, per_worker * CONCURRENCY / transactions


async def fill_index(store: SQLiteStore | MemoryStore, flows: int) -> None:
    now = datetime.now(UTC)
    for chunk in range(0, flows, 500):
        batches = []
        for n in range(chunk, chunk + 500):
            labels = {"env": "prod" if n % 2 else "dev", "team": f"t{n % 10}"}
            data = json.dumps({"flow_id": f"wf-{n:05d}", "labels": labels}).encode()
            events = [NewEvent("flow_started", data, now)]
            events += [NewEvent("step_started", PAYLOAD, now) for _ in range(19)]
            if n % 3:
                status = "completed" if n % 3 == 1 else "failed"
                done = json.dumps({"flow_id": f"wf-{n:05d}", "status": status}).encode()
                events.append(NewEvent("flow_deactivated", done, now))
            batches.append(AppendBatch(("flow", f"wf-{n:05d}"), 0, events))
        await store.append_many(batches)


async def latency(call: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    """p50 and p99 latency in ms."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def query_latencies(store: SQLiteStore | MemoryStore) -> dict[str, tuple[float, float]]:
    first, _ = await store.query_flows(FlowIndexQuery(limit=100, descending=True))
    after = first[-1].cursor
    cases: dict[str, Callable[[], Awaitable[object]]] = {
        "read one flow (21 events)": lambda: store.read(("flow", "wf-04242")),
        "next_sequence": lambda: store.next_sequence(("flow", "wf-04242")),
        "flow_entry": lambda: store.flow_entry("wf-04242"),
        "query limit 100 asc": lambda: store.query_flows(FlowIndexQuery(limit=101)),
        "query limit 100 desc, cursor": lambda: store.query_flows(
            FlowIndexQuery(limit=101, descending=True, after=after)
        ),
        "query status=active limit 100": lambda: store.query_flows(
            FlowIndexQuery(limit=101, statuses=("active",))
        ),
        "query 2 labels limit 100": lambda: store.query_flows(
            FlowIndexQuery(limit=101, labels={"env": "prod", "team": "t3"})
        ),
        "query id_prefix limit 100": lambda: store.query_flows(
            FlowIndexQuery(limit=101, id_prefix="wf-042")
        ),
        "list all 10,000 (API-22)": lambda: store.query_flows(FlowIndexQuery(descending=True)),
        "active_flow_ids": store.active_flow_ids,
    }
    return {name: await latency(call, 200) for name, call in cases.items()}


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):>10,.0f}  [{min(values):,.0f}-{max(values):,.0f}]"


async def main(args: argparse.Namespace) -> None:
    floors: dict[int, list[float]] = {1: [], 10: []}
    stores: dict[int, list[float]] = {1: [], 10: []}
    grouping: dict[int, list[float]] = {1: [], 10: []}
    for _ in range(args.reps):
        for per in (1, 10):
            with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
                floors[per].append(raw_floor(Path(tmp), args.appends // per, per))
            with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
                rate, per_txn = await store_appends(Path(tmp), args.appends // per, per)
                stores[per].append(rate)
                grouping[per].append(per_txn)
    print(f"appends: {args.appends} events per figure, {args.reps} reps, median [min-max]")
    for per in (1, 10):
        floor, ours = statistics.median(floors[per]), statistics.median(stores[per])
        print(f"{per:>2}-event batches:")
        print(f"  floor raw sqlite3 FULL, 1 txn/append  events/s {fmt(floors[per])}")
        print(f"  SQLiteStore, {CONCURRENCY} coroutines       events/s {fmt(stores[per])}")
        print(
            f"    = {ours / floor:.1f}x the floor; {ours / per:,.0f} appends/s;"
            f" {statistics.median(grouping[per]):.1f} batches per transaction"
        )
    for kind in ("sqlite", "memory"):
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            store: SQLiteStore | MemoryStore = (
                SQLiteStore(Path(tmp)) if kind == "sqlite" else MemoryStore()
            )
            await store.open()
            started = time.perf_counter()
            await fill_index(store, 10_000)
            fill = time.perf_counter() - started
            print(f"{kind}: 10,000 flows (210,000 events) indexed in {fill:.2f} s")
            print("  latency in ms, p50 / p99")
            for name, (p50, p99) in (await query_latencies(store)).items():
                print(f"  {name:<32} {p50:8.3f} / {p99:8.3f}")
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=20_000, help="events per append figure")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--dir", default=None, help="directory for the databases (default: tmp)")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    arguments = parser.parse_args()
    if arguments.uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(main(arguments))
