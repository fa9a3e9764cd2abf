"""Plumbing shared by the examples: a loopback step server, upserting steps,
waiting for a flow. Not an example itself; the examples import it (Python puts
the script's own folder on ``sys.path``, so ``scripts/python examples/<name>.py`` works).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

__all__ = ["serve", "upsert", "wait_done"]


def serve(app: Starlette) -> tuple[Callable[[], None], str]:
    """Serve ``app`` on a free loopback port in a thread; returns (stop, base URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)  # let it shut down before the interpreter does

    return stop, f"http://127.0.0.1:{port}"


def upsert(http: httpx.Client, step: dict[str, Any]) -> None:
    """Register a step, or update it when a different version is registered (409)."""
    response = http.post("/engine/step", json=step)
    if response.status_code == 409:
        response = http.put(f"/engine/step/{step['id']}", json=step)
    response.raise_for_status()


def wait_done(http: httpx.Client, flow_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state: dict[str, Any] = http.get(f"/engine/flow/{flow_id}").json()
        if state["deactivated_at"] != "0001-01-01T00:00:00Z":
            return state
        time.sleep(0.05)
    raise TimeoutError(flow_id)
