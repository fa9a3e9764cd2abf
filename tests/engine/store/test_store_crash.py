"""REC-6: a kill -9 at any moment loses no acknowledged event (real subprocess)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from store_helpers import run

import argyll
from argyll.engine.store import SQLiteStore

WORKERS = 8

# Each worker appends 1-3 events per batch to its own flow and prints
# "<worker> <last acknowledged sequence>" once the append has returned.
CHILD = f"""
import asyncio, json, random, sys
from datetime import UTC, datetime
from pathlib import Path
from argyll.engine.store import AppendBatch, NewEvent, SQLiteStore

async def worker(store, n):
    agg = ("flow", f"crash-{{n}}")
    seq = await store.next_sequence(agg)
    while True:
        now = datetime.now(UTC)
        if seq == 0:
            data = json.dumps({{"flow_id": agg[1], "labels": {{"w": str(n)}}}}).encode()
            events = [NewEvent("flow_started", data, now)]
        else:
            events = [NewEvent("tick", json.dumps({{"seq": seq + i}}).encode(), now)
                      for i in range(random.randint(1, 3))]
        stored = await store.append(AppendBatch(agg, seq, events))
        seq = stored[-1].sequence + 1
        print(n, stored[-1].sequence, flush=True)

async def main():
    store = SQLiteStore(Path(sys.argv[1]))
    await store.open()
    print("ready", flush=True)
    await asyncio.gather(*(worker(store, n) for n in range({WORKERS})))

asyncio.run(main())
"""


def _run_and_kill(data_dir: Path, acks_before_kill: int) -> dict[int, int]:
    """Start the child, SIGKILL it after some acknowledgements; return the last ack per worker."""
    env = {**os.environ, "PYTHONPATH": str(Path(argyll.__file__).parents[1])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        bufsize=0,  # unbuffered, so select() sees every line the child printed
    )
    assert child.stdout is not None
    acked: dict[int, int] = {}
    lines = 0
    deadline = time.monotonic() + 60
    try:
        while lines < acks_before_kill:
            ready, _, _ = select.select(
                [child.stdout], [], [], max(0.0, deadline - time.monotonic())
            )
            assert ready, "child produced no acknowledgements in time"
            line = child.stdout.readline().decode()
            assert line, (
                f"child exited early: {child.stderr.read().decode() if child.stderr else ''}"
            )
            if line.startswith("ready"):
                continue
            worker, seq = map(int, line.split())
            acked[worker] = seq
            lines += 1
    finally:
        child.send_signal(signal.SIGKILL)
        # Lines already printed were acknowledged before the kill: they count too.
        rest, _ = child.communicate(timeout=30)
    text = rest.decode()
    # SIGKILL can cut the last line mid-write; only whole lines were reported.
    for line in text[: text.rfind("\n") + 1].splitlines():
        if line and not line.startswith("ready"):
            worker, seq = map(int, line.split())
            acked[worker] = max(acked.get(worker, -1), seq)
    assert child.returncode == -signal.SIGKILL
    return acked


@pytest.mark.slow
def test_kill_minus_nine_loses_no_acknowledged_event(tmp_path: Path) -> None:
    acked: dict[int, int] = {}
    for round_ in range(3):  # kill, recover and resume three times
        for worker, seq in _run_and_kill(tmp_path, acks_before_kill=150 + 50 * round_).items():
            acked[worker] = max(acked.get(worker, -1), seq)

        async def check() -> None:
            store = SQLiteStore(tmp_path)
            await store.open()
            for worker, last in acked.items():
                agg = ("flow", f"crash-{worker}")
                events = await store.read(agg)
                assert [e.sequence for e in events] == list(range(len(events)))  # gap-free
                assert len(events) > last, f"worker {worker}: acknowledged {last}, lost"
                assert await store.next_sequence(agg) == len(events)
                entry = await store.flow_entry(agg[1])
                assert entry is not None and entry.labels == {"w": str(worker)}
            active = set(await store.active_flow_ids())
            assert {f"crash-{w}" for w in acked} <= active
            assert active <= {f"crash-{w}" for w in range(WORKERS)}
            await store.close()

        run(check())
    assert len(acked) == WORKERS
