"""Throughput of HTTPInvoker.invoke() against raw aiohttp, same endpoint, same run.

To run things: ``.venv/bin/python bench/bench_http.py`` (``--help`` for options).

A bare uvicorn endpoint (raw ASGI, httptools, uvloop when installed) runs in
a child process and answers every POST with ``{"ok": true}``. For each
concurrency level the bench drives it with ``c`` concurrent loops, first with
plain ``aiohttp`` requests (POST the same JSON body with the same headers, read
the response), then with ``HTTPInvoker.invoke()`` for a sync step, alternating
for ``--rounds`` rounds and keeping each side's best. The ratio invoke/raw is
the invoker's own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BODY = b'{"ok":true}'


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The endpoint: drain the request body, answer a small JSON object."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def serve(port: int) -> None:
    """Run the bare endpoint (child process)."""
    import uvicorn

    uvicorn.run(
        "bench_http:bare_app",
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="httptools",
        loop="auto",
        app_dir=str(Path(__file__).parent),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"bench endpoint did not start on port {port}")


async def drive(call: Callable[[], Awaitable[None]], concurrency: int, seconds: float) -> float:
    """Requests per second achieved by ``concurrency`` loops over ``seconds``."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


async def bench(
    url: str, levels: list[int], seconds: float, rounds: int
) -> list[tuple[int, float, float]]:
    import aiohttp

    from argyll.engine.execute.http import HTTPInvoker
    from argyll.model.step import HTTPConfig, Step

    step = Step(id="bench", name="Bench", type="sync", http=HTTPConfig(method="POST", endpoint=url))
    args = {"customer_id": "c-1", "amount": 12.5}
    meta = {
        "flow_id": f"flow-{uuid.uuid4()}",
        "step_id": "bench",
        "receipt_token": str(uuid.uuid4()),
    }
    # The same bytes on the wire as invoke() sends (HTTP-2, HTTP-3), so the
    # ratio measures the invoker's own work, not a bigger request.
    raw_body = b'{"customer_id":"c-1","amount":12.5}'
    raw_headers = {
        "Accept": "application/json",
        "User-Agent": "Argyll-Engine/0.1.0",
        "Content-Type": "application/json",
        "Argyll-Flow-ID": meta["flow_id"],
        "Argyll-Step-ID": meta["step_id"],
        "Argyll-Receipt-Token": meta["receipt_token"],
    }

    invoker = HTTPInvoker()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1024))

    async def raw_call() -> None:
        async with session.post(url, data=raw_body, headers=raw_headers) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"raw request got {resp.status}")

    async def invoke_call() -> None:
        outcome = await invoker.invoke(step, args, meta)
        if outcome.kind != "success":
            raise RuntimeError(f"invoke failed: {outcome}")

    results = []
    try:
        # Warm both pools.
        await drive(raw_call, max(levels), 0.5)
        await drive(invoke_call, max(levels), 0.5)
        for concurrency in levels:
            raw = inv = 0.0
            for _ in range(rounds):
                raw = max(raw, await drive(raw_call, concurrency, seconds))
                inv = max(inv, await drive(invoke_call, concurrency, seconds))
            results.append((concurrency, raw, inv))
    finally:
        await session.close()
        await invoker.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,16,64", help="concurrency levels (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per level")
    parser.add_argument("--no-uvloop", action="store_true", help="client on the asyncio loop")
    parser.add_argument("--url", help="bench this endpoint instead of starting one")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve:
        serve(opts.serve)
        return

    levels = [int(x) for x in opts.levels.split(",")]
    child = None
    url = opts.url
    if url is None:
        port = free_port()
        child = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
        url = f"http://127.0.0.1:{port}/step"
    try:
        if child is not None:
            wait_listening(int(url.rsplit(":", 1)[1].split("/")[0]))
        coro = bench(url, levels, opts.seconds, opts.rounds)
        loop_name = "asyncio"
        if not opts.no_uvloop:
            try:
                import uvloop

                loop_name = "uvloop"
                results = uvloop.run(coro)
            except ImportError:
                results = asyncio.run(coro)
        else:
            results = asyncio.run(coro)
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=10)

    print(
        f"endpoint {url}; client loop {loop_name}; {opts.seconds:g} s x {opts.rounds} rounds, best"
    )
    print(f"{'concurrency':>11}  {'raw aiohttp req/s':>17}  {'invoke req/s':>12}  {'ratio':>5}")
    for concurrency, raw, inv in results:
        print(f"{concurrency:>11}  {raw:>17,.0f}  {inv:>12,.0f}  {inv / raw:>5.2f}")


if __name__ == "__main__":
    main()
