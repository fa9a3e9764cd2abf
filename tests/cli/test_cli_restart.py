"""``argyll flow watch`` rides out an engine restart: it reconnects and resubscribes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from support import EngineProcess, eventually

from argyll import Client, StepContext

ROOT = Path(__file__).resolve().parents[2]


def test_watch_reconnects_after_an_engine_crash(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "engine")
    engine.start()
    invocations: list[str] = []
    release = threading.Event()

    def slow(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        invocations.append(ctx.receipt_token)
        release.wait(timeout=30)
        return {"done": args["job"] * 2}

    watcher: subprocess.Popen[str] | None = None
    try:
        with Client(engine.url) as client:
            builder = (
                client.new_step()
                .with_id("slow")
                .with_name("Slow")
                .required("job", "number")
                .output("done", "number")
            )
            with builder.serve(slow):
                client.start_flow("survivor", ["slow"], {"job": [21]})
                eventually(lambda: invocations, timeout=20, message="first invocation")
                watcher = subprocess.Popen(
                    [sys.executable, "-m", "argyll", "flow", "watch", "survivor", "--json"],
                    cwd=ROOT,
                    env={**os.environ, "ENGINE_URL": engine.url},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                assert watcher.stdout is not None
                assert json.loads(watcher.stdout.readline())["type"] == "state"

                engine.kill()  # a crash: the watcher's connection drops
                engine.start()  # recovery invokes the in-flight item again, same token
                eventually(lambda: len(invocations) >= 2, timeout=20, message="re-invocation")
                assert invocations[1] == invocations[0]
                release.set()
                out, err = watcher.communicate(timeout=60)
    finally:
        release.set()
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        engine.stop()
    assert watcher.returncode == 0, err
    messages = [json.loads(line) for line in out.splitlines()]
    states = [m for m in messages if m["type"] == "state"]
    assert len(states) == 1  # the first state was read above; this is the resubscription
    # the reconnect may land before or after the flow completed: either way it ends completed
    completed = [m for m in messages if m["type"] == "flow_completed"]
    assert completed or states[0]["data"]["status"] == "completed"
