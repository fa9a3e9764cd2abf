"""Flow throughput scenarios (issue 4), each reported against a floor measured in this run.

Starts the engine as a user would (``python -m argyll serve`` with a fresh
SQLite data dir) and, as the floor, a bare starlette JSON endpoint served by
the same uvicorn settings; both take the same load generator (aiohttp, 64
concurrent clients) from this process. Next to each rate it prints the
engine process's CPU time per flow (script workers excluded), which a loaded
machine disturbs far less than the rates.

Run: ``scripts/bench flows`` or ``python bench/bench_flows.py [--flows N]``;
``--quick`` (300 flows, small warm-up) finishes in well under 30 s for a
smoke check, at the price of noisier ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 64

FLOOR_APP = """
import sys
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
import uvicorn

async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(body or b"{}", media_type="application/json")

app = Starlette(routes=[Route("/{p:path}", echo, methods=["GET", "POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False, loop="uvloop", http="httptools")
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; 0 elsewhere).

    On a shared, loaded machine the engine's CPU per flow moves far less than
    its throughput, so the scenarios report both.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            try:
                async with session.get(url) as r:
                    if r.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def start_floor() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port)])
    return proc, f"http://127.0.0.1:{port}"


def start_engine(data_dir: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "error"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "argyll", "serve", "--port", str(port), "--data-dir", data_dir],
        cwd=ROOT,
        env=env,
    )
    return proc, f"http://127.0.0.1:{port}"


async def load(url: str, bodies: list[dict[str, Any]], path: str) -> float:
    """POST every body with CONCURRENCY clients; returns elapsed seconds."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with session.post(url + path, json=body) as r:
                    await r.read()
                    if r.status >= 300:
                        raise RuntimeError(f"{r.status}: {await r.text()}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start


async def wait_all_done(url: str, prefix: str, total: int) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            body = {"id_prefix": prefix, "statuses": ["completed", "failed"], "limit": 1}
            async with session.post(url + "/engine/flow/query", json=body) as r:
                data = await r.json()
            if data.get("total", 0) >= total:
                return
            await asyncio.sleep(0.05)  # polls cost the engine CPU: keep them rare


async def flows_per_second(url: str, prefix: str, goal: str, n: int) -> float:
    bodies = [{"id": f"{prefix}-{i}", "goals": [goal], "init": {"n": [i]}} for i in range(n)]
    start = time.perf_counter()
    await load(url, bodies, "/engine/flow")
    await wait_all_done(url, prefix, n)
    return n / (time.perf_counter() - start)


async def register(url: str, steps: list[dict[str, Any]]) -> None:
    async with aiohttp.ClientSession() as session:
        for step in steps:
            async with session.post(url + "/engine/step", json=step) as r:
                if r.status >= 300:
                    raise RuntimeError(await r.text())


def script_chain(length: int, tag: str) -> list[dict[str, Any]]:
    steps = []
    for i in range(length):
        src = "n" if i == 0 else f"{tag}{i - 1}"
        steps.append(
            {
                "id": f"{tag}-{i}",
                "name": f"{tag} {i}",
                "type": "script",
                "attributes": {src: {"role": "required"}, f"{tag}{i}": {"role": "output"}},
                "script": {"language": "lua", "script": f"return {{{tag}{i} = {src} + 1}}"},
            }
        )
    return steps


async def main(n: int, warm: int = 200) -> None:
    floor_proc, floor_url = start_floor()
    step_proc, step_url = start_floor()
    data = tempfile.mkdtemp(prefix="argyll-bench-")
    engine_proc, url = start_engine(data)
    try:
        await wait_up(floor_url + "/")
        await wait_up(step_url + "/")
        await wait_up(url + "/health")
        await load(floor_url, [{"warm": i} for i in range(warm * 2)], "/x")
        floor_s = await load(floor_url, [{"id": f"x-{i}", "goals": ["a"]} for i in range(n)], "/x")
        floor_rps = n / floor_s
        print(f"floor: bare starlette POST, {CONCURRENCY} clients: {floor_rps:,.0f} req/s")

        await register(url, script_chain(1, "one") + script_chain(10, "ten"))
        await register(
            url,
            [
                {
                    "id": "http-one",
                    "name": "HTTP one",
                    "type": "sync",
                    "attributes": {"n": {"role": "required"}, "echoed": {"role": "output"}},
                    "http": {"endpoint": step_url + "/step"},
                }
            ],
        )
        await flows_per_second(url, "warm", "one-0", warm)
        pid = engine_proc.pid
        cpu0 = cpu_seconds(pid)
        one = await flows_per_second(url, "one", "one-0", n)
        one_cpu = (cpu_seconds(pid) - cpu0) / n * 1000
        print(
            f"one-step script flows, {CONCURRENCY} clients, durable SQLite: {one:,.0f} flows/s "
            f"({one / floor_rps:.2f}x floor); engine CPU {one_cpu:.2f} ms per flow"
        )
        ten_n = max(n // 4, min(n, 100))
        cpu0 = cpu_seconds(pid)
        ten = await flows_per_second(url, "ten", "ten-9", ten_n)
        ten_cpu = (cpu_seconds(pid) - cpu0) / ten_n * 1000
        per_step_ms = (1 / ten - 1 / one) / 9 * 1000
        print(
            f"ten-step script flows: {ten:,.0f} flows/s; engine cost per extra step: "
            f"{per_step_ms:.3f} ms (from 1-step vs 10-step throughput), "
            f"{(ten_cpu - one_cpu) / 9:.3f} ms of engine CPU"
        )
        cpu0 = cpu_seconds(pid)
        http = await flows_per_second(url, "http", "http-one", n)
        http_cpu = (cpu_seconds(pid) - cpu0) / n * 1000
        print(
            f"one-step sync HTTP flows (local step server): {http:,.0f} flows/s "
            f"({http / floor_rps:.2f}x floor); engine CPU {http_cpu:.2f} ms per flow"
        )
    finally:
        for proc in (engine_proc, floor_proc, step_proc):
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke check")
    args = parser.parse_args()
    if args.quick:
        asyncio.run(main(args.flows or 300, warm=50))
    else:
        asyncio.run(main(args.flows or 3000))
