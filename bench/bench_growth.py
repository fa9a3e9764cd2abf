"""Does the engine stay flat as work accumulates? Start-up and throughput with a full store.

Scenarios (issue 18, "flat cost as work accumulates"):

- ``empty``: one-step script flows/s on a fresh SQLite store (the baseline
  of this run);
- ``full``: the same on a store already holding ``--finished`` finished
  flows (default 100,000), written directly through the store as the
  engine would have written them (the events of a real one-step flow,
  copied under new IDs);
- start-up: seconds from process start to ``/health`` answering, for the
  full store plus ``--active`` flows (default 1,000) left active (each
  waiting on an async step, so recovery re-invokes one item per flow);
- memory: the engine's RSS before and after the active flows are loaded,
  per active flow.

Run: ``scripts/bench growth`` or ``python bench/bench_growth.py [--finished N]``.
``--quick`` uses 10,000 finished and 200 active flows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from bench_flows import (
    CONCURRENCY,
    ROOT,
    free_port,
    load,
    register,
    script_chain,
    start_floor,
    wait_all_done,
    wait_up,
)

from argyll.engine.store import SQLiteStore
from argyll.engine.store.base import AppendBatch, NewEvent


def start_engine(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "argyll", "serve", "--port", str(port), "--data-dir", data_dir],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "error", "HEALTH_CHECK_INTERVAL": "600000"},
    )
    return proc, f"http://127.0.0.1:{port}"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def one_step_rate(url: str, prefix: str, n: int) -> float:
    bodies = [{"id": f"{prefix}-{i}", "goals": ["one-0"], "init": {"n": [i]}} for i in range(n)]
    begin = time.perf_counter()
    await load(url, bodies, "/engine/flow")
    await wait_all_done(url, prefix, n)
    return n / (time.perf_counter() - begin)


async def template(url: str, goal: str, flow_id: str) -> list[dict[str, Any]]:
    """The events of one real flow, to copy."""
    async with aiohttp.ClientSession() as session:
        body = {"id": flow_id, "goals": [goal], "init": {"n": [1]}}
        async with session.post(url + "/engine/flow", json=body) as r:
            assert r.status < 300, await r.text()
        if goal == "one-0":
            await wait_all_done(url, flow_id, 1)
        else:
            await asyncio.sleep(1.0)
        async with session.get(f"{url}/engine/flow/{flow_id}/events") as r:
            events: list[dict[str, Any]] = (await r.json())["events"]
    return events


async def fill(
    data_dir: str, events: list[dict[str, Any]], old_id: str, prefix: str, n: int
) -> None:
    """Append ``n`` copies of a flow's events under new IDs, in big groups."""
    store = SQLiteStore(Path(data_dir))
    await store.open()
    try:
        from datetime import datetime

        raw = [
            (
                e["type"],
                json.dumps(e["data"]),
                datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")),
            )
            for e in events
        ]
        for start in range(0, n, 500):
            batches = []
            for i in range(start, min(n, start + 500)):
                flow_id = f"{prefix}-{i}"
                batches.append(
                    AppendBatch(
                        ("flow", flow_id),
                        0,
                        [NewEvent(t, d.replace(old_id, flow_id).encode(), ts) for t, d, ts in raw],
                    )
                )
            await store.append_many(batches)
    finally:
        await store.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


async def main(finished: int, active: int, n: int) -> None:
    floor_proc, floor_url = start_floor()
    step_proc, step_url = start_floor()  # accepts async calls and never calls back
    try:
        await wait_up(floor_url + "/")
        await wait_up(step_url + "/")
        await load(floor_url, [{"warm": i} for i in range(300)], "/x")
        floor = n / await load(floor_url, [{"id": f"x-{i}"} for i in range(n)], "/x")
        print(f"floor: bare starlette POST, {CONCURRENCY} clients: {floor:,.0f} req/s")

        data = tempfile.mkdtemp(prefix="argyll-growth-")
        proc, url = start_engine(data)
        try:
            await wait_up(url + "/health")
            await register(url, script_chain(1, "one"))
            await register(
                url,
                [
                    {
                        "id": "park",
                        "name": "park",
                        "type": "async",
                        "attributes": {"n": {"role": "required"}, "parked": {"role": "output"}},
                        "http": {"endpoint": step_url + "/park"},
                    }
                ],
            )
            await one_step_rate(url, "warm", 200)
            empty = await one_step_rate(url, "empty", n)
            print(f"one-step flows, empty store: {empty:,.0f} flows/s ({empty / floor:.2f}x floor)")
            done = await template(url, "one-0", "tmpl-done")
            parked = await template(url, "park", "tmpl-park")
        finally:
            stop(proc)

        begin = time.perf_counter()
        await fill(data, done, "tmpl-done", "old", finished)
        await fill(data, parked, "tmpl-park", "parked", active)
        print(
            f"store filled with {finished:,} finished and {active:,} active flows "
            f"in {time.perf_counter() - begin:.1f} s"
        )

        begin = time.perf_counter()
        proc, url = start_engine(data)
        try:
            await wait_up(url + "/health")
            startup = time.perf_counter() - begin
            print(f"start-up with {finished:,} finished + {active:,} active flows: {startup:.2f} s")
            await asyncio.sleep(1.0)
            rss = rss_kib(proc.pid)
            await one_step_rate(url, "warm", 200)  # as for the empty store: start the workers
            full = await one_step_rate(url, "full", n)
            print(
                f"one-step flows, {finished:,} finished flows in the store: {full:,.0f} flows/s "
                f"({full / floor:.2f}x floor, {full / empty:.2f}x the empty store)"
            )
            after = rss_kib(proc.pid)
            print(
                f"engine RSS after recovery: {rss / 1024:.0f} MiB; "
                f"after {n + 200:,} more flows: {after / 1024:.0f} MiB"
            )
        finally:
            stop(proc)

        # Memory per active flow: a fresh engine, then the active flows loaded.
        empty_dir = tempfile.mkdtemp(prefix="argyll-growth-")
        proc, url = start_engine(empty_dir)
        try:
            await wait_up(url + "/health")
            base = rss_kib(proc.pid)
        finally:
            stop(proc)
        await fill(empty_dir, parked, "tmpl-park", "parked", active)
        proc, url = start_engine(empty_dir)
        try:
            await wait_up(url + "/health")
            await asyncio.sleep(1.0)
            loaded = rss_kib(proc.pid)
            per = (loaded - base) / max(active, 1)
            print(f"memory per active flow (recovered, one parked async item each): {per:.1f} KiB")
        finally:
            stop(proc)
    finally:
        stop(floor_proc)
        stop(step_proc)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--finished", type=int, default=100_000)
    parser.add_argument("--active", type=int, default=1_000)
    parser.add_argument("--flows", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    args: Any = parser.parse_args()
    if args.quick:
        args.finished, args.active, args.flows = 10_000, 200, 500
    asyncio.run(main(args.finished, args.active, args.flows))
