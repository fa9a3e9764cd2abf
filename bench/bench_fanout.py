"""Fan-out throughput (issue 5): one flow whose for_each step expands to N work
items against a local step server, at a given parallelism, against a floor
measured in the same run: the same N calls made directly with aiohttp at the
same concurrency.

Starts the engine as a user would (``python -m argyll serve`` with a fresh
SQLite data dir) and the step server as a separate process (the bare
starlette echo app of bench_flows.py), using bench_flows.py's helpers.

Reported per round, best of ``--rounds``:

- items/s: N / (flow start request .. flow completed, seen through the
  status endpoint);
- per-item latency at the given concurrency (Little's law: elapsed x
  concurrency / N), for the engine and for the direct calls; their
  difference is the engine's added latency per item;
- the mean work_started -> work_succeeded interval from the flow's events
  (the step call as the engine saw it).

Run: ``scripts/bench fanout`` or
``python bench/bench_fanout.py [--items 1000] [--parallelism 64] [--rounds 3]``;
``--quick`` (200 items, one round) finishes in well under 30 s for a smoke
check, at the price of noisier ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_flows import register, start_engine, start_floor, wait_up


def fanout_step(step_url: str, parallelism: int) -> dict[str, Any]:
    return {
        "id": "fanout",
        "name": "Fan out",
        "type": "sync",
        "attributes": {
            "fan_items": {
                "role": "required",
                "required": {"for_each": True, "mapping": {"name": "n"}},
            },
            "n": {"role": "output"},  # the echo server answers {"n": <item>}
        },
        "http": {"endpoint": step_url + "/item"},
        "work_config": {"parallelism": parallelism},
    }


async def direct(step_url: str, items: int, concurrency: int) -> tuple[float, float]:
    """POST ``{"n": i}`` for every item with ``concurrency`` workers.

    Returns:
        (elapsed seconds, mean call latency in ms).
    """
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(items):
        queue.put_nowait(i)
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                t0 = time.perf_counter()
                async with session.post(step_url + "/item", json={"n": n}) as r:
                    await r.read()
                    if r.status != 200:
                        raise RuntimeError(f"step server answered {r.status}")
                latencies.append((time.perf_counter() - t0) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return elapsed, statistics.fmean(latencies)


async def run_flow(
    session: aiohttp.ClientSession, url: str, flow_id: str, items: int
) -> tuple[float, float]:
    """Start one fan-out flow and wait for it to complete.

    Returns:
        (elapsed seconds, mean work_started -> work_succeeded ms from its events).
    """
    body = {"id": flow_id, "goals": ["fanout"], "init": {"fan_items": [list(range(items))]}}
    start = time.perf_counter()
    async with session.post(url + "/engine/flow", json=body) as r:
        if r.status != 201:
            raise RuntimeError(f"{r.status}: {await r.text()}")
    while True:
        async with session.get(f"{url}/engine/flow/{flow_id}/status") as r:
            status = (await r.json())["status"]
        if status != "active":
            break
        await asyncio.sleep(0.01)  # light polling: the engine shares the CPU
    elapsed = time.perf_counter() - start
    if status != "completed":
        raise RuntimeError(f"flow {flow_id} ended {status}")
    async with session.get(f"{url}/engine/flow/{flow_id}/events") as r:
        events = (await r.json())["events"]
    started: dict[str, datetime] = {}
    spans: list[float] = []
    for e in events:
        if e["type"] == "work_started":
            started[e["data"]["token"]] = datetime.fromisoformat(e["timestamp"])
        elif e["type"] == "work_succeeded":
            t0 = started[e["data"]["token"]]
            spans.append((datetime.fromisoformat(e["timestamp"]) - t0).total_seconds() * 1000)
    if len(spans) != items:
        raise RuntimeError(f"{len(spans)} of {items} items succeeded")
    return elapsed, statistics.fmean(spans)


async def main(items: int, parallelism: int, rounds: int) -> None:
    step_proc, step_url = start_floor()
    engine_proc, url = start_engine(tempfile.mkdtemp(prefix="argyll-bench-fanout-"))
    try:
        await wait_up(step_url + "/")
        await wait_up(url + "/health")
        await register(url, [fanout_step(step_url, parallelism)])
        await direct(step_url, items, parallelism)  # warm-up
        async with aiohttp.ClientSession() as session:
            await run_flow(session, url, "warm", min(items, 200))
            direct_runs = []
            flow_runs = []
            for r in range(rounds):
                direct_runs.append(await direct(step_url, items, parallelism))
                flow_runs.append(await run_flow(session, url, f"fan-{r}", items))
        d_elapsed, d_latency = min(direct_runs)
        f_elapsed, f_span = min(flow_runs)
        d_little = d_elapsed * parallelism / items * 1000
        f_little = f_elapsed * parallelism / items * 1000
        print(
            f"direct aiohttp, {items} calls at {parallelism} concurrent: "
            f"{items / d_elapsed:,.0f} calls/s, {d_little:.2f} ms per call "
            f"(measured mean {d_latency:.2f} ms)"
        )
        print(
            f"engine, one flow with {items} for_each items at parallelism {parallelism}: "
            f"{items / f_elapsed:,.0f} items/s ({f_elapsed * 1000:.0f} ms for the flow, "
            f"{d_elapsed / f_elapsed:.2f}x the direct rate)"
        )
        print(
            f"engine added latency per item: {f_little - d_little:.2f} ms "
            f"({f_little:.2f} ms per item in flight vs {d_little:.2f} ms direct); "
            f"added wall time per item: {(f_elapsed - d_elapsed) / items * 1000:.3f} ms; "
            f"work_started->work_succeeded mean {f_span:.2f} ms"
        )
    finally:
        for proc in (engine_proc, step_proc):
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--parallelism", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke check")
    args = parser.parse_args()
    items = args.items or (200 if args.quick else 1000)
    rounds = args.rounds or (1 if args.quick else 3)
    asyncio.run(main(items, args.parallelism, rounds))
