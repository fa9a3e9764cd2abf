"""``python -m argyll`` as a real process against a real engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from cli_support import failing_step, price_steps, write_yaml

from argyll import Client, StepContext
from argyll.errors import HTTPError

ROOT = Path(__file__).resolve().parents[2]


def argyll(engine_url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENGINE_URL": engine_url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "argyll", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_register_start_and_watch_to_completion(engine_url: str, uid: str, tmp_path: Path) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps({"steps": price_steps(uid)}))
    registered = argyll(engine_url, "step", "register", "-f", str(steps), "--json")
    assert registered.returncode == 0, registered.stderr
    assert [s["id"] for s in json.loads(registered.stdout)] == [f"sub-{uid}", f"tax-{uid}"]

    flow_id = f"proc-{uid}"
    started = argyll(
        engine_url, "flow", "start", flow_id, "--goal", f"tax-{uid}",
        "--init", f"price_{uid}=5", "--init", f"qty_{uid}=3", "--json",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout) == {"flow_id": flow_id}

    watched = argyll(engine_url, "flow", "watch", flow_id, "--timeout", "30")
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert f"flow {flow_id} completed" in watched.stdout
    assert f"total_{uid}" in watched.stdout
    assert "30" in watched.stdout  # 5 * 3 * 2

    as_json = argyll(engine_url, "flow", "watch", flow_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert lines[0]["type"] == "state"
    assert lines[0]["data"]["status"] == "completed"


def test_watch_a_failing_flow_exits_1(engine_url: str, uid: str, tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "boom.yaml", [failing_step(uid)])
    assert argyll(engine_url, "step", "register", "-f", str(path)).returncode == 0
    flow_id = f"proc-boom-{uid}"
    started = argyll(
        engine_url, "flow", "start", flow_id, "--goal", f"boom-{uid}",
        "--init", f"in_{uid}=1", "--wait",
    )  # fmt: skip
    assert started.returncode == 1, started.stdout + started.stderr
    assert "boom on purpose" in started.stdout
    watched = argyll(engine_url, "flow", "watch", flow_id, "--json")
    assert watched.returncode == 1
    assert json.loads(watched.stdout.splitlines()[0])["data"]["status"] == "failed"


def test_errors_and_usage_from_a_process(engine_url: str, uid: str) -> None:
    missing = argyll(engine_url, "flow", "watch", f"nope-{uid}")
    assert missing.returncode == 1
    assert missing.stderr == f"Error: flow not found: nope-{uid}\n"
    usage = argyll(engine_url, "flow", "start", "x")
    assert usage.returncode == 2
    assert "Missing option '--goal'" in usage.stderr
    listed = argyll(engine_url, "flow", "list", "--limit", "1", "--json")
    assert listed.returncode == 0
    assert isinstance(json.loads(listed.stdout)["flows"], list)
    version = argyll(engine_url, "--version")
    assert version.returncode == 0
    assert version.stdout.startswith("argyll, version ")


def test_serve_keeps_the_engine_flags(tmp_path: Path) -> None:
    """``argyll serve`` is the engine CLI: its options and its usage errors are unchanged."""
    helped = argyll("http://unused", "serve", "--help")
    assert helped.returncode == 0
    for flag in ("--host", "--port", "--data-dir", "--store", "--node-id", "--memory"):
        assert flag in helped.stdout
    bad = argyll("http://unused", "serve", "--port", "notanumber")
    assert bad.returncode == 2
    top = argyll("http://unused", "--help")
    assert top.returncode == 0
    for command in ("serve", "step", "plan", "flow", "health", "cluster", "mcp"):
        assert command in top.stdout


def test_watch_streams_live_retries_and_progress(engine_url: str, uid: str) -> None:
    """A real HTTP step fails once per item; the watcher sees the retries as they happen."""
    subscribed = threading.Event()
    failed_once: set[str] = set()

    def ship(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        subscribed.wait(timeout=20)  # hold the work until the watcher has the state
        if ctx.receipt_token not in failed_once:
            failed_once.add(ctx.receipt_token)
            raise HTTPError(503, "carrier busy")
        return {f"tracking_{uid}": f"TRK-{args[f'parcel_{uid}']}"}

    flow_id = f"ship-{uid}"
    with Client(engine_url) as client:
        builder = (
            client.new_step()
            .with_id(f"ship-{uid}")
            .with_name("Ship")
            .required(f"parcel_{uid}", "array", for_each=True)
            .output(f"tracking_{uid}", "string")
            .with_work_config(parallelism=2, init_backoff=200, backoff_type="fixed")
        )
        with builder.serve(ship):
            client.start_flow(flow_id, [f"ship-{uid}"], {f"parcel_{uid}": [[1, 2, 3]]})
            env = {**os.environ, "ENGINE_URL": engine_url}
            watcher = subprocess.Popen(
                [sys.executable, "-m", "argyll", "flow", "watch", flow_id, "--json"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                assert watcher.stdout is not None
                first = json.loads(watcher.stdout.readline())
                assert first["type"] == "state"
                assert first["data"]["status"] == "active"
                subscribed.set()
                out, err = watcher.communicate(timeout=30)
            finally:
                if watcher.poll() is None:
                    watcher.kill()
                    watcher.wait()
    assert watcher.returncode == 0, err
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types.count("work_retry_scheduled") == 3
    assert types.count("work_succeeded") == 3
    assert "flow_completed" in types
    assert types[-1] == "flow_deactivated"
