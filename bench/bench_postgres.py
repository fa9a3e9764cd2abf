"""Benchmark of the PostgreSQL store against the SQLite store, in the same run.

Run: ``.venv/bin/python bench/bench_postgres.py [--url URL] [--seconds 3] [--drivers]``

Prints appends per second from 64 concurrent coroutines (one 332-byte event
per append, each coroutine on its own aggregates), as medians of the runs:

- ``SQLiteStore`` (one engine, the embedded default): the reference;
- ``PostgresStore`` with one engine, and with two engines (two stores, each
  with its own writer, 32 coroutines each) on one schema, as ratios to SQLite;
- tailing: events/s read back with ``read_committed`` in pages of 500.

``--drivers`` adds the raw driver comparison behind the choice of asyncpg
(the same group-commit transaction written with asyncpg and with psycopg 3,
when installed). Each run uses a fresh schema, dropped afterwards. Exits
quietly when PostgreSQL is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argyll.engine.store import AppendBatch, NewEvent, SQLiteStore
from argyll.engine.store.postgres import PostgresStore

PAYLOAD = json.dumps({"flow_id": "wf-0000", "step_id": "step", "x": "y" * 280}).encode()[:332]
CONCURRENCY = 64
Store = SQLiteStore | PostgresStore


async def appends(stores: list[Store], seconds: float) -> tuple[float, float]:
    """Appends/s from 64 coroutines spread over ``stores``, and appends per transaction."""
    event = [NewEvent("step_started", PAYLOAD, datetime.now(UTC))]
    stop = time.perf_counter() + seconds
    done = 0
    run_id = uuid.uuid4().hex[:8]

    async def worker(w: int) -> None:
        nonlocal done
        store = stores[w % len(stores)]
        n = 0
        while time.perf_counter() < stop:
            agg = ("flow", f"wf-{run_id}-{w}-{n % 50}")
            await store.append(AppendBatch(agg, n // 50, event))
            n += 1
            done += 1

    before = sum(s.transactions for s in stores)
    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    transactions = sum(s.transactions for s in stores) - before
    return done / elapsed, done / max(transactions, 1)


async def tail_rate(store: PostgresStore) -> float:
    started = time.perf_counter()
    after, count = 0, 0
    while page := await store.read_committed(after, 500):
        after = page[-1].position
        count += len(page)
    return count / (time.perf_counter() - started)


async def drop(url: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def postgres_run(url: str, engines: int, seconds: float) -> tuple[float, float, float]:
    schema = f"argyll_bench_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in url else "?"
    stores = [PostgresStore(f"{url}{sep}schema={schema}") for _ in range(engines)]
    try:
        for store in stores:
            await store.open()
        rate, per_txn = await appends(list(stores), seconds)
        tail = await tail_rate(stores[0])
        for store in stores:
            await store.close()
    finally:
        await drop(url, schema)
    return rate, per_txn, tail


async def sqlite_run(seconds: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp))
        await store.open()
        try:
            return await appends([store], seconds)
        finally:
            await store.close()


async def main(args: argparse.Namespace) -> None:
    import asyncpg

    try:
        conn = await asyncpg.connect(args.url, timeout=3)
        await conn.close()
    except Exception as exc:
        print(f"PostgreSQL at {args.url} unreachable ({exc}): skipped")
        return
    sqlite: list[float] = []
    pg: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
    sqlite_grouping: list[float] = []
    for _ in range(args.reps):
        rate, per_txn = await sqlite_run(args.seconds)
        sqlite.append(rate)
        sqlite_grouping.append(per_txn)
        for engines in (1, 2):
            pg[engines].append(await postgres_run(args.url, engines, args.seconds))
    base = statistics.median(sqlite)
    print(f"{CONCURRENCY} coroutines, one 332-byte event per append, {args.reps} runs of")
    print(f"{args.seconds:.0f} s each, median [min-max]")
    print(
        f"  SQLiteStore, 1 engine       appends/s {base:>9,.0f}"
        f"  [{min(sqlite):,.0f}-{max(sqlite):,.0f}]"
        f"  {statistics.median(sqlite_grouping):.0f} appends/txn"
    )
    for engines, runs in pg.items():
        rates = [r for r, _, _ in runs]
        rate = statistics.median(rates)
        grouping = statistics.median(g for _, g, _ in runs)
        tail = statistics.median(t for _, _, t in runs)
        print(
            f"  PostgresStore, {engines} engine{'s' if engines > 1 else ' '}  appends/s"
            f" {rate:>9,.0f}  [{min(rates):,.0f}-{max(rates):,.0f}]  {grouping:.0f} appends/txn"
            f"  = {rate / base:.2f}x SQLite; tail {tail:,.0f} events/s"
        )
    if args.drivers:
        await drivers(args.url, args.seconds)


async def drivers(url: str, seconds: float) -> None:
    """The same group-commit transaction with asyncpg and psycopg 3."""
    from postgres_drivers import compare

    await compare(url, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one run")
    parser.add_argument("--reps", type=int, default=2, help="runs per figure (median reported)")
    parser.add_argument("--drivers", action="store_true", help="also compare the drivers")
    asyncio.run(main(parser.parse_args()))
