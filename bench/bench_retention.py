"""Store size under steady load with FLOW_RETENTION (issue 13): does the SQLite file stop growing?

Starts the engine as a user would (``python -m argyll serve``, fresh SQLite
data dir, ``FLOW_RETENTION`` short), runs one-step Lua flows in rounds from
64 concurrent clients, and prints the size of ``argyll.db`` plus its WAL
after each checkpoint count, with the number of flows still stored. Run it
once more with ``--retention 0`` for the size without retention.

Run: ``python bench/bench_retention.py [--flows 50000] [--retention 5s]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from bench_flows import ROOT, free_port, load, register, script_chain, wait_up


def start_engine(data_dir: str, retention: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "error", "FLOW_RETENTION": retention}
    proc = subprocess.Popen(
        [sys.executable, "-m", "argyll", "serve", "--port", str(port), "--data-dir", data_dir],
        cwd=ROOT,
        env=env,
    )
    return proc, f"http://127.0.0.1:{port}"


def size_mb(data: Path) -> float:
    return sum(p.stat().st_size for p in data.glob("argyll.db*")) / 1e6


async def stored(url: str, statuses: list[str]) -> int:
    body = {"limit": 1, "statuses": statuses}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/engine/flow/query", json=body) as r,
    ):
        return int((await r.json()).get("total", 0))


async def main(total: int, retention: str, checkpoints: list[int]) -> None:
    data = tempfile.mkdtemp(prefix="argyll-retention-")
    proc, url = start_engine(data, retention)
    try:
        await wait_up(url + "/health")
        await register(url, script_chain(1, "ret"))
        done = 0
        start = time.perf_counter()
        for mark in checkpoints:
            bodies = [
                {"id": f"r-{i}", "goals": ["ret-0"], "init": {"n": [i]}} for i in range(done, mark)
            ]
            await load(url, bodies, "/engine/flow")
            done = mark
            rate = done / (time.perf_counter() - start)
            print(
                f"after {done:>7,} flows: {size_mb(Path(data)):7.1f} MB (db + WAL), "
                f"{await stored(url, ['completed', 'failed']):>7,} terminal and "
                f"{await stored(url, ['active']):>6,} active flows stored, "
                f"{rate:,.0f} flows/s started so far",
                flush=True,
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=50_000)
    parser.add_argument("--retention", default="5s")
    args = parser.parse_args()
    marks = sorted({m for m in (10_000, 20_000, 30_000, 40_000, args.flows) if m <= args.flows})
    asyncio.run(main(args.flows, args.retention, marks))
