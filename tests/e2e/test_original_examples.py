"""The original SDK's three examples (examples/original/) against our engine.

Each runs as its own process, as a user would run it, with ``ENGINE_URL``
pointing at a fresh engine and (for the served steps) ``STEP_PORT`` at a
free port. The scripts differ from the originals only in their engine URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import eventually, free_port

from argyll import Client, FlowStatus
from argyll.errors import ClientError

ORIGINAL = Path(__file__).resolve().parents[2] / "examples" / "original"


def env(engine_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "ENGINE_URL": engine_url, "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture
def client(isolated_engine_url: str) -> Iterator[Client]:
    with Client(isolated_engine_url) as sdk_client:
        yield sdk_client


class Served:
    """An example script serving a step in its own process until SIGINT."""

    def __init__(self, script: str, engine_url: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(ORIGINAL / script)],
            env=env(engine_url, STEP_PORT=str(self.port)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def registered(self, client: Client, step_id: str) -> None:
        def ready() -> bool:
            assert self.proc.poll() is None, self.proc.communicate()[0]
            try:
                step = client.get_step(step_id)
            except ClientError:
                return False
            return step.http is not None and f":{self.port}/" in step.http.endpoint

        eventually(ready, timeout=20, message=f"{step_id} registered")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        output, _ = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, output
        return output


def test_script_step(isolated_engine_url: str, client: Client) -> None:
    result = subprocess.run(
        [sys.executable, str(ORIGINAL / "script_step.py")],
        env=env(isolated_engine_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Script step 'Double' registered successfully"
    step = client.get_step("double")
    assert (step.name, step.labels) == ("Double", {"category": "math"})
    state = (
        client.new_flow("original-double")
        .with_goals("double")
        .with_initial_state({"value": [21]})
        .start()
        .wait(timeout=15)
    )
    assert state["status"] == "completed"
    assert state["attributes"]["result"][0]["value"] == 42


def test_simple_step(isolated_engine_url: str, client: Client) -> None:
    served = Served("simple_step.py", isolated_engine_url)
    try:
        served.registered(client, "greeting")
        state = (
            client.new_flow("original-greeting")
            .with_goals("greeting")
            .with_initial_state({"name": ["Ada"]})
            .start()
            .wait(timeout=15)
        )
    finally:
        output = served.stop()
    assert state.status is FlowStatus.COMPLETED, state.error
    assert state.value("greeting") == "Hello, Ada!"
    assert "Greeting: Hello, Ada!" in output


def test_async_step(isolated_engine_url: str, client: Client) -> None:
    served = Served("async_step.py", isolated_engine_url)
    try:
        served.registered(client, "async-task")
        state = (
            client.new_flow("original-async")
            .with_goals("async-task")
            .with_initial_state({"duration": [0.2]})
            .start()
            .wait(timeout=15)
        )
    finally:
        output = served.stop()
    assert state.status is FlowStatus.COMPLETED, state.error
    assert state.value("status") == "completed"
    assert state.value("duration") == 0.2
    assert "Async work completed" in output
