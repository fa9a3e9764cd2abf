"""Crash recovery with real processes: kill -9 the engine and restart it on the
same data dir (SPEC section 15, REC-1..6).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support import Api, EngineProcess, StepServer, eventually

pytestmark = pytest.mark.slow


class Service:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.fail_first = 0

    async def handle(self, request: Request) -> Response:
        with self.lock:
            self.calls.append((request.url.path, dict(request.headers)))
            n = len([c for c in self.calls if c[0] == request.url.path])
        if request.url.path.startswith("/async"):
            return Response(status_code=202)
        if request.url.path.startswith("/flaky") and n <= self.fail_first:
            return Response(status_code=503)
        return JSONResponse({"out": n})


@pytest.fixture
def service() -> Iterator[tuple[Service, str]]:
    svc = Service()
    app = Starlette(routes=[Route("/{p:path}", svc.handle, methods=["POST"])])
    with StepServer(app) as server:
        yield svc, server.url


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path / "data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def restart(engine: EngineProcess) -> None:
    engine.kill()
    engine.start()


def test_acknowledged_flows_survive_kill_9(engine: EngineProcess) -> None:  # REC-6, CFG-4
    api = Api(engine.url)
    api.register(
        {
            "id": "noop",
            "name": "Noop",
            "type": "script",
            "attributes": {"x": {"role": "required"}, "y": {"role": "output"}},
            "script": {"language": "lua", "script": "return {y = x}"},
        }
    )
    acknowledged: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=engine.url, timeout=5) as http:
            for i in range(100_000):
                if stop.is_set():
                    return
                try:
                    r = http.post(
                        "/engine/flow",
                        json={"id": f"ack-{i}", "goals": ["noop"], "init": {"x": [i]}},
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 201:
                    acknowledged.append(f"ack-{i}")

    thread = threading.Thread(target=client)
    thread.start()
    eventually(lambda: len(acknowledged) >= 30, timeout=20, message="30 flows acknowledged")
    engine.kill()
    stop.set()
    thread.join(timeout=10)
    engine.start()
    api = Api(engine.url)
    for flow_id in acknowledged:
        state = api.wait_terminal(flow_id)
        assert state["status"] == "completed", state


def test_in_flight_async_item_is_reinvoked_with_same_token(
    engine: EngineProcess, service: tuple[Service, str]
) -> None:  # REC-3, REC-4, ASYNC-3
    svc, url = service
    api = Api(engine.url)
    api.register(
        {
            "id": "wait",
            "name": "Wait",
            "type": "async",
            "attributes": {"done": {"role": "output"}},
            "http": {"endpoint": url + "/async"},
        }
    )
    assert api.start("rec-async", ["wait"]).status_code == 201
    first = eventually(lambda: [c for c in svc.calls if c[0] == "/async"])[0][1]
    restart(engine)
    calls = eventually(lambda: [c for c in svc.calls if c[0] == "/async"][1:], timeout=15)
    again = calls[0][1]
    assert again["argyll-receipt-token"] == first["argyll-receipt-token"]
    hook = again["argyll-webhook-url"]
    assert httpx.post(hook, json={"done": 1}).status_code == 200
    state = Api(engine.url).wait_terminal("rec-async")
    assert state["status"] == "completed"


def test_pending_retry_fires_after_restart(
    engine: EngineProcess, service: tuple[Service, str]
) -> None:  # REC-3 step 5, RETRY-5
    svc, url = service
    svc.fail_first = 1
    api = Api(engine.url)
    api.register(
        {
            "id": "flaky",
            "name": "Flaky",
            "type": "sync",
            "attributes": {"out": {"role": "output"}},
            "http": {"endpoint": url + "/flaky"},
            "work_config": {"init_backoff": 1500, "max_backoff": 1500},
        }
    )
    api.start("rec-retry", ["flaky"])

    def scheduled() -> Any:
        types = [e["type"] for e in Api(engine.url).events("rec-retry")]
        return "work_retry_scheduled" in types

    eventually(scheduled, timeout=10)
    restart(engine)
    state = Api(engine.url).wait_terminal("rec-retry", timeout=20)
    assert state["status"] == "completed"
    assert state["executions"]["flaky"]["outputs"] == {"out": 2}


def test_catalog_and_terminal_flows_restored(engine: EngineProcess) -> None:  # REC-1
    api = Api(engine.url)
    api.register(
        {
            "id": "s1",
            "name": "S1",
            "type": "script",
            "attributes": {"o": {"role": "output"}},
            "script": {"language": "ale", "script": "{:o 1}"},
        }
    )
    api.start("done-1", ["s1"])
    before = api.wait_terminal("done-1")
    restart(engine)
    api = Api(engine.url)
    assert api.http.get("/engine/step/s1").status_code == 200
    assert api.flow("done-1") == before
    assert api.status("done-1") == "completed"
