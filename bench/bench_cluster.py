"""One-step script flows on SQLite (one engine) and on PostgreSQL (one and two engines).

Every figure is a ratio against the bare-starlette floor measured in the same
run, with the same load generator (aiohttp, 64 clients, from this process).
With two nodes the load is split evenly between them; each flow is driven by
the node that started it (docs/guides/deployment.md).

Run: ``scripts/bench cluster`` or ``python bench/bench_cluster.py [--flows N]``.
Needs PostgreSQL at ``ARGYLL_BENCH_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``); a schema of its own is
created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

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

PG = os.environ.get("ARGYLL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "argyll", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "error", **env},
    )
    return proc, f"http://127.0.0.1:{port}"


async def split_load(urls: list[str], prefix: str, n: int) -> float:
    """Start ``n`` one-step flows spread over ``urls``; flows/s until all are done."""
    bodies = [{"id": f"{prefix}-{i}", "goals": ["one-0"], "init": {"n": [i]}} for i in range(n)]
    shares = [bodies[i :: len(urls)] for i in range(len(urls))]
    begin = time.perf_counter()
    await asyncio.gather(
        *(load(u, share, "/engine/flow") for u, share in zip(urls, shares, strict=True))
    )
    await wait_all_done(urls[0], prefix, n)
    return n / (time.perf_counter() - begin)


async def run_engines(
    label: str, procs: list[tuple[subprocess.Popen[bytes], str]], n: int, floor: float
) -> None:
    urls = [u for _, u in procs]
    try:
        for u in urls:
            await wait_up(u + "/health")
        await register(urls[0], script_chain(1, "one"))
        await asyncio.sleep(0.5)  # the other nodes see the step within a poll
        await split_load(urls, f"warm{uuid.uuid4().hex[:6]}", 200)
        rate = await split_load(urls, f"run{uuid.uuid4().hex[:6]}", n)
        print(f"{label}: {rate:,.0f} flows/s ({rate / floor:.2f}x floor)")
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=20)


async def drop(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def main(n: int) -> None:
    floor_proc, floor_url = start_floor()
    try:
        await wait_up(floor_url + "/")
        await load(floor_url, [{"warm": i} for i in range(500)], "/x")
        floor = n / await load(floor_url, [{"id": f"x-{i}"} for i in range(n)], "/x")
        print(f"floor: bare starlette POST, {CONCURRENCY} clients: {floor:,.0f} req/s")
    finally:
        floor_proc.terminate()
        floor_proc.wait(timeout=15)
    data = tempfile.mkdtemp(prefix="argyll-bench-")
    await run_engines("SQLite, one node", [start(["--data-dir", data], {})], n, floor)
    for nodes in (1, 2):
        schema = f"argyll_bench_{uuid.uuid4().hex[:8]}"
        url = f"{PG}?schema={schema}"
        procs = [
            start(["--store", url, "--node-id", f"b{i}", "--data-dir", data], {})
            for i in range(nodes)
        ]
        try:
            await run_engines(
                f"PostgreSQL, {nodes} node{'s' if nodes > 1 else ''}", procs, n, floor
            )
        finally:
            await drop(schema)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=2000)
    args: Any = parser.parse_args()
    asyncio.run(main(args.flows))
