"""Several engine processes on one PostgreSQL schema: a cluster with failover.

Real processes (each ``python -m argyll serve --store postgresql://...`` on
its own port), a real PostgreSQL schema per test, real loopback step
services. The lease is 2 s here (10 s by default) so failover tests are quick.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "store"))

from dataflow_helpers import http_step, out, serve  # noqa: E402
from store_helpers import pg_schema  # noqa: E402
from support import EngineProcess, eventually  # noqa: E402

pytestmark = pytest.mark.slow

LEASE_MS = 2000


class Node:
    def __init__(self, proc: EngineProcess, node_id: str) -> None:
        self.proc = proc
        self.node_id = node_id
        self.url = proc.url
        self.http = httpx.Client(base_url=proc.url, timeout=10)

    def get(self, path: str) -> Any:
        r = self.http.get(path)
        return r.json() if r.status_code == 200 else None

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, json=body)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Node]]:
    with pg_schema() as url:
        nodes = []
        try:
            for i in range(1, 4):
                proc = EngineProcess(
                    tmp_path / f"n{i}",
                    env={
                        "STORE_URL": url,
                        "NODE_ID": f"n{i}",
                        "CLUSTER_LEASE": str(LEASE_MS),
                        "HEALTH_CHECK_INTERVAL": "600000",
                        "ARGYLL_SCRIPT_TIMEOUT": "20",  # a loaded 2-core machine
                    },
                )
                proc.start()
                nodes.append(Node(proc, f"n{i}"))
            yield nodes
        finally:
            for node in nodes:
                node.http.close()
                node.proc.stop()


def flow_done(node: Node, flow_id: str) -> dict[str, Any] | None:
    state = node.get(f"/engine/flow/{flow_id}")
    return state if state is not None and state["status"] != "active" else None


def events_of(node: Node, flow_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = node.get(f"/engine/flow/{flow_id}/events")["events"]
    return events


def assert_gap_free(events: list[dict[str, Any]]) -> None:
    assert [e["sequence"] for e in events] == list(range(len(events)))


def lua_step(step_id: str, source: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "type": "script",
        "attributes": attrs,
        "script": {"language": "lua", "script": source},
    }


def test_catalog_is_shared_and_flows_run_once_on_every_node(cluster: list[Node]) -> None:
    a, b, c = cluster
    step = lua_step(
        "double", "return {y = x * 2}", {"x": {"role": "required", "type": "number"}, "y": out()}
    )
    assert a.post("/engine/step", step).status_code == 201
    assert a.get("/engine/step/double") is not None  # the writer sees it at once
    for node in (b, c):  # the others within a second
        eventually(lambda n=node: n.get("/engine/step/double"), timeout=1.5, interval=0.05)
    started = []
    for i, node in enumerate(cluster * 4):
        flow_id = f"f{i}"
        r = node.post("/engine/flow", {"id": flow_id, "goals": ["double"], "init": {"x": [i]}})
        assert r.status_code == 201, r.text
        started.append(flow_id)
    for i, flow_id in enumerate(started):
        reader = cluster[(i + 1) % 3]  # read through another node than the starter
        state = eventually(lambda f=flow_id, n=reader: flow_done(n, f), timeout=20)
        assert state["status"] == "completed", state.get("error")
        assert state["attributes"]["y"][0]["value"] == i * 2
        events = events_of(reader, flow_id)
        assert_gap_free(events)
        assert [e["type"] for e in events].count("work_started") == 1  # dispatched once
    members = a.get("/engine/cluster")["members"]
    assert {m["node_id"] for m in members if m["alive"]} == {"n1", "n2", "n3"}
    roles = [n.http.get("/health").headers["X-Argyll-Raft-State"] for n in cluster]
    assert sorted(roles) == ["follower", "follower", "leader"]


def test_a_webhook_at_another_node_completes_the_flow(cluster: list[Node]) -> None:
    a, b, c = cluster
    with serve() as service:
        service.on("/job", lambda _: {})
        step = http_step("job", f"{service.url}/job", {"y": out()}, type="async")
        assert a.post("/engine/step", step).status_code == 201
        eventually(lambda: c.get("/engine/step/job"), timeout=2)
        assert a.post("/engine/flow", {"id": "w1", "goals": ["job"]}).status_code == 201
        call = eventually(lambda: service.calls_to("/job"), timeout=10)[0]
        hook = call.headers["argyll-webhook-url"]
        assert hook.startswith(a.url)  # driven by the node that started it
        with httpx.Client(timeout=10) as client:
            # The same webhook, delivered to a node that does not drive the flow.
            r = client.post(hook.replace(a.url, b.url), json={"y": 42})
            assert r.status_code == 200, r.text
        state = eventually(lambda: flow_done(c, "w1"), timeout=10)
        assert state["status"] == "completed" and state["attributes"]["y"][0]["value"] == 42
        assert len(service.calls_to("/job")) == 1


def test_a_websocket_on_one_node_streams_a_flow_driven_by_another(cluster: list[Node]) -> None:
    import asyncio

    import websockets

    a, b, _ = cluster
    with serve() as service:
        service.on("/job", lambda _: {})
        step = http_step("job2", f"{service.url}/job", {"y": out()}, type="async")
        assert a.post("/engine/step", step).status_code == 201
        assert a.post("/engine/flow", {"id": "ws1", "goals": ["job2"]}).status_code == 201
        call = eventually(lambda: service.calls_to("/job"), timeout=10)[0]
        hook = call.headers["argyll-webhook-url"]

        async def watch() -> list[dict[str, Any]]:
            ws_url = b.url.replace("http", "ws") + "/engine/ws"
            async with websockets.connect(ws_url) as ws:
                sub = {"sub_id": "s", "aggregate_ids": [["flow", "ws1"]], "include_state": True}
                await ws.send(json.dumps({"type": "subscribe", "data": sub}))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert reply["type"] == "subscribed"
                (item,) = reply["items"]
                assert item["data"]["status"] == "active"
                await asyncio.to_thread(httpx.post, hook, json={"y": 7}, timeout=10)
                seen = []
                while not any(e["type"] == "flow_deactivated" for e in seen):
                    seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
                assert [e["sequence"] for e in seen] == list(
                    range(item["sequence"], item["sequence"] + len(seen))
                )
                return seen

        seen = asyncio.run(watch())
        assert "flow_completed" in [e["type"] for e in seen]


def test_survivors_finish_the_flows_of_a_killed_node(cluster: list[Node]) -> None:
    a, b, c = cluster
    with serve() as service:
        service.on("/async", lambda _: {})
        failures: dict[str, int] = {}

        def flaky(_: dict[str, Any]) -> Any:
            from starlette.responses import JSONResponse

            count = failures["n"] = failures.get("n", 0) + 1
            if count <= 6:
                return JSONResponse({"error": "busy"}, status_code=503)
            return {"z": 1}

        service.on("/flaky", flaky)
        steps = [
            http_step("wait", f"{service.url}/async", {"y": out()}, type="async"),
            http_step(
                "retry",
                f"{service.url}/flaky",
                {"z": out()},
                work_config={
                    "max_retries": 20,
                    "init_backoff": 500,
                    "max_backoff": 500,
                    "backoff_type": "fixed",
                },
            ),
        ]
        for s in steps:
            r = a.post("/engine/step", s)
            assert r.status_code == 201, r.text
        for i in range(3):
            assert (
                a.post("/engine/flow", {"id": f"k-wait-{i}", "goals": ["wait"]}).status_code == 201
            )
            assert (
                a.post("/engine/flow", {"id": f"k-retry-{i}", "goals": ["retry"]}).status_code
                == 201
            )
        eventually(lambda: len(service.calls_to("/async")) >= 3, timeout=10)
        eventually(lambda: len(service.calls_to("/flaky")) >= 3, timeout=10)
        a.proc.kill()  # kill -9 of the node driving every one of these flows
        # Survivors take over within the lease: in-flight async items are
        # invoked again with the same receipt token, on a survivor's webhook URL.
        again = eventually(
            lambda: len(service.calls_to("/async")) >= 6, timeout=LEASE_MS / 1000 + 15
        )
        assert again
        tokens: dict[str, list[str]] = {}
        for call in service.calls_to("/async"):
            tokens.setdefault(call.token, []).append(call.headers["argyll-webhook-url"])
        assert len(tokens) == 3 and all(len(urls) <= 2 for urls in tokens.values())
        with httpx.Client(timeout=10) as client:
            for urls in tokens.values():
                assert not urls[-1].startswith(a.url)
                assert client.post(urls[-1], json={"y": 1}).status_code == 200
        for i in range(3):
            for flow_id in (f"k-wait-{i}", f"k-retry-{i}"):
                state = eventually(lambda f=flow_id: flow_done(b, f), timeout=30)
                assert state["status"] == "completed", (flow_id, state.get("error"))
                assert_gap_free(events_of(c, flow_id))
        per_token: dict[str, int] = {}
        for call in service.calls_to("/async"):
            per_token[call.token] = per_token.get(call.token, 0) + 1
        assert max(per_token.values()) <= 2  # each item's effect at most twice
