"""Overload is refused, not queued (issue 17 item 4).

A real engine with small bounds (``MAX_WORK_IN_FLIGHT=3``,
``MAX_REQUESTS_IN_FLIGHT=4``) over real HTTP: beyond them a new flow, or any
request, answers 503 with ``Retry-After`` at once and records nothing; the
SDK retries such refusals with backoff and succeeds once work drains.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import EngineProcess, StepServer, eventually

from argyll import Client


class Gate:
    """A step endpoint that holds every call until released."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.calls = 0

    async def handle(self, _: Request) -> JSONResponse:
        self.calls += 1
        while not self.open.is_set():
            await asyncio.sleep(0.01)
        return JSONResponse({"done": True})


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    env = {"MAX_WORK_IN_FLIGHT": "3", "MAX_REQUESTS_IN_FLIGHT": "4"}
    proc = EngineProcess(tmp_path_factory.mktemp("backpressure"), env=env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_new_flows_beyond_the_work_bound_get_503_and_the_sdk_retries(
    engine: EngineProcess,
) -> None:
    gate = Gate()
    app = Starlette(routes=[Route("/hold", gate.handle, methods=["POST"])])
    with StepServer(app) as server, httpx.Client(base_url=engine.url, timeout=10) as http:
        step = {
            "id": "held",
            "name": "held",
            "type": "sync",
            "attributes": {"done": {"role": "output"}},
            "http": {"endpoint": server.url + "/hold"},
        }
        assert http.post("/engine/step", json=step).status_code == 201
        for i in range(3):
            assert http.post("/engine/flow", json={"id": f"bp-{i}", "goals": ["held"]}).status_code
        eventually(lambda: gate.calls == 3, message="three calls held")
        started = time.monotonic()
        refused = http.post("/engine/flow", json={"id": "bp-over", "goals": ["held"]})
        elapsed = time.monotonic() - started
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"].startswith("engine overloaded: 3 work items in flight")
        assert elapsed < 0.5
        assert http.get("/engine/flow/bp-over").status_code == 404  # nothing recorded
        assert http.get("/engine/flow").status_code == 200  # reads are not refused
        # the SDK retries the refusal with backoff until work drains
        result: list[str] = []
        with Client(engine.url) as client:
            worker = threading.Thread(
                target=lambda: result.append(client.start_flow("bp-sdk", ["held"]))
            )
            worker.start()
            time.sleep(0.8)
            assert not result  # still refused, still retrying
            gate.open.set()
            worker.join(timeout=30)
        assert result == ["bp-sdk"]
        for flow_id in ("bp-0", "bp-1", "bp-2", "bp-sdk"):
            eventually(
                lambda f=flow_id: (
                    http.get(f"/engine/flow/{f}/status").json()["status"] == "completed"
                ),
                message=flow_id,
            )


def test_requests_beyond_the_request_bound_get_503(engine: EngineProcess) -> None:
    held = []
    try:
        for _ in range(4):  # four requests whose bodies never finish arriving
            sock = socket.create_connection(("127.0.0.1", engine.port), timeout=5)
            sock.sendall(
                b"POST /engine/step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
            held.append(sock)

        def refused() -> httpx.Response | None:
            response = httpx.get(f"{engine.url}/engine/flow", timeout=5)
            return response if response.status_code == 503 else None

        response = eventually(refused, message="a refusal")
        assert response.headers["retry-after"] == "1"
        assert "requests in flight" in response.json()["error"]
        assert httpx.get(f"{engine.url}/health").status_code == 200  # never refused
    finally:
        for sock in held:
            sock.close()
    eventually(
        lambda: httpx.get(f"{engine.url}/engine/flow", timeout=5).status_code == 200,
        message="requests accepted again",
    )
