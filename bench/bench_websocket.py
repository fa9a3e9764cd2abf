"""One-step flow throughput with 10 WebSocket subscribers vs none, in the same run.

To run things: ``.venv/bin/python bench/bench_websocket.py`` (``--flows N``,
``--rounds R``), or ``scripts/bench websocket``.

The engine runs as a user would (``python -m argyll serve``, fresh SQLite
data dir). The scenario is bench_flows.py's one-step Lua flow, driven by the
same load generator (64 concurrent clients). Each round runs it twice on the
same engine: once with no socket open, once with 10 subscriber processes,
each holding one WebSocket subscribed to ``[["catalog"], ["flow"]]``, so
every flow event is sent 10 times. Subscribers count what they receive and
check it is every event of every flow, exactly once; the bench fails loudly
otherwise (e.g. a subscriber closed as a slow consumer).

Reported per phase: flows/s (best of the rounds) and the engine process's
CPU time per flow (from /proc), which separates the engine's own cost from
the subscribers' (they share this machine's cores).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_flows import (
    CONCURRENCY,
    flows_per_second,
    register,
    script_chain,
    start_engine,
    wait_up,
)

SUBSCRIBERS = 10
EVENTS_PER_FLOW = 8  # flow_started .. flow_deactivated of a one-step script flow


def engine_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def subscriber(
    url: str, prefix: str, flows: int, timeout: float, deflate: bool
) -> dict[str, Any]:
    """Subscribe, say ``ready``, count messages until every flow deactivated (or timeout).

    ``deflate`` offers permessage-deflate as browsers do; the server
    (uvicorn) then compresses every message.
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    ws_url = url.replace("http://", "ws://") + "/engine/ws"
    marker = f'"id":["flow","{prefix}'.encode()
    seen = deactivated = 0
    closed: str | None = None
    compression = "deflate" if deflate else None
    async with connect(ws_url, max_queue=None, compression=compression) as ws:
        sub = {"sub_id": "bench", "aggregate_ids": [["catalog"], ["flow"]]}
        await ws.send(json.dumps({"type": "subscribe", "data": sub}))
        await ws.recv()
        print("ready", flush=True)
        deadline = time.monotonic() + timeout
        try:
            while deactivated < flows and time.monotonic() < deadline:
                raw = await asyncio.wait_for(ws.recv(decode=False), deadline - time.monotonic())
                if marker in raw:
                    seen += 1
                    if b'"type":"flow_deactivated"' in raw:
                        deactivated += 1
        except ConnectionClosed as exc:
            closed = f"{exc.rcvd.code} {exc.rcvd.reason}" if exc.rcvd else "closed"
        except TimeoutError:
            closed = "timeout"
    return {"messages": seen, "deactivated": deactivated, "closed": closed}


def start_subscribers(
    url: str, prefix: str, flows: int, deflate: bool
) -> list[subprocess.Popen[str]]:
    flag = ["--no-deflate"] if not deflate else []
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--subscriber", url, prefix, str(flows), *flag],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(SUBSCRIBERS)
    ]
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("subscriber failed to start")
    return procs


def collect(procs: list[subprocess.Popen[str]], flows: int) -> float:
    """Wait for the subscribers; returns when the last one had everything (monotonic s)."""
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        result = json.loads(out.strip().splitlines()[-1])
        expected = flows * EVENTS_PER_FLOW
        if result["messages"] != expected or result["closed"]:
            raise RuntimeError(f"subscriber got {result}, expected {expected} messages")
    return time.monotonic()


async def phase(url: str, pid: int, prefix: str, n: int) -> tuple[float, float]:
    """flows/s and engine CPU ms per flow for ``n`` one-step flows."""
    cpu = engine_cpu_s(pid)
    rate = await flows_per_second(url, prefix, "one-0", n)
    return rate, (engine_cpu_s(pid) - cpu) * 1000 / n


async def main(n: int, rounds: int, deflate: bool) -> None:
    data = tempfile.mkdtemp(prefix="argyll-bench-ws-")
    engine_proc, url = start_engine(data)
    try:
        await wait_up(url + "/health")
        await register(url, script_chain(1, "one"))
        await flows_per_second(url, "warm", "one-0", 300)
        base: list[tuple[float, float]] = []
        subs: list[tuple[float, float]] = []
        lags: list[float] = []
        for r in range(rounds):
            base.append(await phase(url, engine_proc.pid, f"base{r}-", n))
            procs = start_subscribers(url, f"ws{r}-", n, deflate)
            subs.append(await phase(url, engine_proc.pid, f"ws{r}-", n))
            done = time.monotonic()
            lags.append(collect(procs, n) - done)
        b_rate, b_cpu = max(base)
        s_rate, s_cpu = max(subs)
        mode = "permessage-deflate offered" if deflate else "no compression"
        print(
            f"one-step script flows, {CONCURRENCY} clients, {n} flows x {rounds} rounds, "
            f"best; subscribers: {mode}"
        )
        print(f"  no subscribers:      {b_rate:8,.0f} flows/s   engine CPU {b_cpu:.3f} ms/flow")
        print(
            f"  {SUBSCRIBERS} subscribers:      {s_rate:8,.0f} flows/s   engine CPU "
            f"{s_cpu:.3f} ms/flow  ({s_rate / b_rate:.2f}x throughput, "
            f"+{(s_cpu - b_cpu) * 1000 / (SUBSCRIBERS * EVENTS_PER_FLOW):.1f} us engine CPU "
            "per message sent)"
        )
        print(
            f"  every subscriber received all {n * EVENTS_PER_FLOW:,} events exactly once; "
            f"last delivery {max(lags) * 1000:.0f} ms after the last flow completed"
        )
    finally:
        engine_proc.terminate()
        engine_proc.wait(timeout=15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="subscribers do not offer permessage-deflate (default: offer it, as browsers do)",
    )
    parser.add_argument("--subscriber", nargs=3, metavar=("URL", "PREFIX", "FLOWS"))
    args = parser.parse_args()
    if args.subscriber:
        url, prefix, flows = args.subscriber
        result = subscriber(url, prefix, int(flows), 300.0, not args.no_deflate)
        print(json.dumps(asyncio.run(result)), flush=True)
    else:
        asyncio.run(main(args.flows, args.rounds, not args.no_deflate))
