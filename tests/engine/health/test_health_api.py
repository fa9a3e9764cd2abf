"""Step health through the API with a fast checker (SPEC 14.1).

Each test's engine (in-process; a real process for the kill -9 test) runs
with ``HEALTH_CHECK_INTERVAL=200`` (ms) so probes come every 200 ms. Step
services are real uvicorn servers that go down and come back on the same port.
Covers HEALTH-2..6, REC-2, EVT-11, API-2, API-5, API-6, API-15, API-16 and the
``["cluster"]`` WebSocket stream (WS-3).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from local_engine import LocalEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import Api, EngineProcess, eventually, free_port
from websockets.asyncio.client import connect

INTERVAL_MS = 200


class Service:
    """A step service that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.health_hits = 0
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def _app(self) -> Starlette:
        async def health(_: Request) -> JSONResponse:
            self.health_hits += 1
            return JSONResponse({"status": "healthy"})

        async def step(request: Request) -> JSONResponse:
            return JSONResponse({"echoed": (await request.json())["n"]})

        return Starlette(routes=[Route("/health", health), Route("/step", step, methods=["POST"])])

    def up(self) -> None:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = server = uvicorn.Server(config)
        self.thread = threading.Thread(target=server.run, daemon=True)
        self.thread.start()
        eventually(lambda: server.started, message="service up")

    def down(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)
            self.server = None

    def step(self, step_id: str) -> dict[str, Any]:
        return {
            "id": step_id,
            "name": step_id,
            "type": "sync",
            "attributes": {"n": {"role": "required"}, "echoed": {"role": "output"}},
            "http": {"endpoint": f"{self.url}/step", "health_check": f"{self.url}/health"},
        }


class ClusterWatcher:
    """A WebSocket client in a thread collecting the ``["cluster"]`` stream (WS-3, WS-4)."""

    def __init__(self, engine_url: str) -> None:
        self.url = engine_url.replace("http://", "ws://") + "/engine/ws"
        self.messages: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        async with connect(self.url) as conn:
            await conn.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "data": {
                            "sub_id": "health",
                            "aggregate_ids": [["cluster"]],
                            "event_types": ["step_health_changed"],
                            "include_state": True,
                        },
                    }
                )
            )
            while not self._stop.is_set():
                try:
                    raw = await asyncio.wait_for(conn.recv(), 0.1)
                except TimeoutError:
                    continue
                self.messages.append(json.loads(raw))

    def __enter__(self) -> ClusterWatcher:
        self._thread.start()
        eventually(lambda: self.messages, message="subscribed reply")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


ENV = {"HEALTH_CHECK_INTERVAL": str(INTERVAL_MS)}


@pytest.fixture
def health_engine(local_engine: Callable[..., LocalEngine]) -> LocalEngine:
    """This test's in-process engine with the fast checker."""
    return local_engine(env=ENV)


@pytest.fixture
def hapi(health_engine: LocalEngine) -> Iterator[Api]:
    client = Api(health_engine.url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def health_process(tmp_path: Path) -> Iterator[EngineProcess]:
    """A real engine process with the fast checker, for the kill -9 test."""
    proc = EngineProcess(tmp_path / "data", env=ENV)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def health_of(api: Api, step_id: str) -> dict[str, Any]:
    r = api.http.get(f"/engine/health/{step_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def cluster_events(api: Api) -> list[dict[str, Any]]:
    return list(api.http.get("/engine/cluster/events").json()["events"])


def types(api: Api, flow_id: str) -> list[str]:
    return [e["type"] for e in api.events(flow_id)]


def at(rfc3339: str) -> datetime:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))


def healthy_again_at(api: Api, step_id: str) -> datetime:
    """Time of the step's last ``healthy`` record."""
    stamps = [
        at(e["timestamp"])
        for e in cluster_events(api)
        if e["data"]["step_id"] == step_id and e["data"]["status"] == "healthy"
    ]
    return stamps[-1]


def test_down_and_back_up_gates_work_until_healthy(
    hapi: Api, health_engine: LocalEngine, uid: str
) -> None:
    """HEALTH-4/5/6, API-15/16, WS-3: unhealthy holds work; healthy releases it."""
    service = Service()
    service.up()
    svc, flow_step, flow_id = f"svc-{uid}", f"fl-{uid}", f"gate-{uid}"
    try:
        with ClusterWatcher(health_engine.url) as watcher:
            assert hapi.register(service.step(svc)).status_code == 201
            flow_def = {"id": flow_step, "name": "f", "type": "flow", "flow": {"goals": [svc]}}
            assert hapi.register(flow_def).status_code == 201
            eventually(lambda: health_of(hapi, svc) == {"status": "healthy"}, message="probed")
            eventually(lambda: health_of(hapi, flow_step) == {"status": "healthy"})

            service.down()
            down = eventually(
                lambda: (h := health_of(hapi, svc))["status"] == "unhealthy" and h,
                message="probe sees the service down",
            )
            assert down["error"].startswith("node argyll-1: ")  # API-16 names the node
            derived = eventually(
                lambda: (h := health_of(hapi, flow_step))["status"] != "healthy" and h
            )
            assert derived["status"] == "unhealthy"
            assert derived["error"].startswith(f"step {svc}: ")  # HEALTH-5

            assert hapi.start(flow_id, [svc], {"n": [5]}).status_code == 201
            # HEALTH-6: started, held pending, dispatch retried every second
            eventually(lambda: "dispatch_deferred" in types(hapi, flow_id), timeout=5)
            assert "work_started" not in types(hapi, flow_id)
            items = hapi.flow(flow_id)["executions"][svc]["work_items"]
            assert [i.get("status", "pending") for i in items.values()] == ["pending"]

            service.up()
            state = hapi.wait_terminal(flow_id, timeout=15)
            assert state["status"] == "completed"
            assert state["attributes"]["echoed"][0]["value"] == 5
            first_work = next(e for e in hapi.events(flow_id) if e["type"] == "work_started")
            assert at(first_work["timestamp"]) >= healthy_again_at(hapi, svc)

            log = cluster_events(hapi)
            eventually(lambda: len(watcher.messages) - 1 >= len(log), message="WS caught up")
        reply, *stream = watcher.messages
        (item,) = reply["items"]
        assert [m["sequence"] for m in stream[: len(log) - item["sequence"]]] == list(
            range(item["sequence"], len(log))
        )
        assert [e["sequence"] for e in log] == list(range(len(log)))  # EVT-3
        mine = [
            (e["data"]["status"], e["data"].get("error"))
            for e in log
            if e["data"]["step_id"] == svc
        ]
        assert all(a != b for a, b in itertools.pairwise(mine))  # HEALTH-2: changes only
        statuses = [
            status for i, (status, _) in enumerate(mine) if i == 0 or mine[i - 1][0] != status
        ]
        assert statuses == ["unknown", "healthy", "unhealthy", "healthy"]  # HEALTH-3 first

        whole = hapi.http.get("/engine/health").json()  # API-15
        assert {svc, flow_step} <= set(whole["nodes"]["argyll-1"]["health"])
        assert hapi.http.get("/engine/cluster").json()["nodes"]["argyll-1"]["health"][svc] == {
            "status": "healthy"
        }
        engine_state = hapi.http.get("/engine").json()  # API-2
        assert engine_state["health"]["argyll-1"]["health"][svc] == {"status": "healthy"}
        missing = hapi.http.get(f"/engine/health/nope-{uid}")
        assert missing.status_code == 404
        assert missing.json()["error"] == f"Health not found for step: nope-{uid}"
    finally:
        service.down()


@pytest.mark.slow
def test_restart_keeps_unhealthy_records_and_gating(
    health_process: EngineProcess, uid: str
) -> None:
    """REC-2, HEALTH-2, HEALTH-6: records are loaded before recovery and not re-raised."""
    hapi = Api(health_process.url)
    marker, service = Service(), Service()  # service stays down until the end
    marker.up()
    svc, mark, flow_id = f"rsvc-{uid}", f"mark-{uid}", f"restart-{uid}"
    try:
        assert hapi.register(marker.step(mark)).status_code == 201
        assert hapi.register(service.step(svc)).status_code == 201
        eventually(lambda: health_of(hapi, svc)["status"] == "unhealthy")
        assert hapi.start(flow_id, [svc], {"n": [7]}).status_code == 201
        eventually(lambda: "dispatch_deferred" in types(hapi, flow_id), timeout=5)
        before = len(cluster_events(hapi))

        health_process.kill()
        health_process.start()
        hits = marker.health_hits
        # two probes of the marker after the restart: a whole round probed svc too
        eventually(lambda: marker.health_hits >= hits + 2, message="a round after restart")
        assert len(cluster_events(hapi)) == before  # loaded, unchanged: no new event
        assert "work_started" not in types(hapi, flow_id)  # recovery did not dispatch

        service.up()
        state = hapi.wait_terminal(flow_id, timeout=15)
        assert state["status"] == "completed"
        first_work = next(e for e in hapi.events(flow_id) if e["type"] == "work_started")
        assert at(first_work["timestamp"]) >= healthy_again_at(hapi, svc)
    finally:
        hapi.close()
        marker.down()
        service.down()
