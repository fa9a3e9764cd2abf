"""Test support: a real engine process, loopback step servers, and a poller.

Everything here is real: the engine runs as ``python -m argyll serve`` in a
subprocess on a free loopback port with a temporary SQLite data dir; step
servers are starlette apps served by uvicorn in a background thread. Most
tests need no process of their own: see ``local_engine.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(
    check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02, message: str = ""
) -> Any:
    """Poll ``check`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s: {message or check} (last: {last!r})")


class EngineProcess:
    """``python -m argyll serve`` on a free port; start, kill -9, restart."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "LOG_LEVEL": "warn", **(env or {})}
        self.env["WEBHOOK_BASE_URL"] = self.url
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "engine.log"

    def start(self, timeout: float = 20.0) -> None:
        """Start the engine and wait until ``/health`` answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "argyll",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"engine exited: {self.logs()}")
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(up, timeout=timeout, interval=0.05, message="engine /health")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the engine (a crash) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        """SIGTERM and wait (graceful), falling back to SIGKILL."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
            self._log = None


class StepServer:
    """A starlette app served by uvicorn on a free loopback port in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> StepServer:
        self.thread.start()
        eventually(lambda: self.server.started, timeout=10, message="step server start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class _ReadRetryTransport(httpx.HTTPTransport):
    """Retries a GET once when a kept-alive connection was reset under it.

    A server closes idle keep-alive connections (uvicorn after 5 s); on a
    loaded machine a poll can reuse one at the moment it is closed.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if request.method != "GET":
                raise
            return super().handle_request(request)


class Api:
    """A thin JSON client for the engine's REST API used by tests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10, transport=_ReadRetryTransport())

    def close(self) -> None:
        self.http.close()

    def register(self, step: dict[str, Any]) -> httpx.Response:
        return self.http.post("/engine/step", json=step)

    def start(
        self,
        flow_id: str,
        goals: list[str],
        init: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"id": flow_id, "goals": goals}
        if init is not None:
            body["init"] = init
        if labels is not None:
            body["labels"] = labels
        return self.http.post("/engine/flow", json=body)

    def flow(self, flow_id: str) -> dict[str, Any]:
        r = self.http.get(f"/engine/flow/{flow_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def status(self, flow_id: str) -> str:
        return str(self.http.get(f"/engine/flow/{flow_id}/status").json().get("status"))

    def events(self, flow_id: str) -> list[dict[str, Any]]:
        return list(self.http.get(f"/engine/flow/{flow_id}/events").json()["events"])

    def wait_terminal(self, flow_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """Poll until the flow is deactivated; returns its state."""

        def done() -> dict[str, Any] | None:
            state = self.flow(flow_id)
            return state if state["deactivated_at"] != "0001-01-01T00:00:00Z" else None

        result: dict[str, Any] = eventually(done, timeout=timeout, message=f"flow {flow_id}")
        return result
