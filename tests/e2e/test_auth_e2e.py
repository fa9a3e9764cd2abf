"""Optional authentication over real HTTP and WebSocket (API_TOKENS), and JSON logs.

One engine process runs with ``API_TOKENS="full-tok:full,peek:read"`` and
``LOG_FORMAT=json``. The matrix: no token, wrong token, read token, full
token, on reading and writing routes and on the WebSocket (header, query
parameter and subprotocol); a webhook without any bearer token; open
``/health``.
"""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import EngineProcess, StepServer, eventually

FULL = {"Authorization": "Bearer full-tok"}
READ = {"Authorization": "Bearer peek"}
WRONG = {"Authorization": "Bearer nope"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    env = {"API_TOKENS": "full-tok:full,peek:read", "LOG_FORMAT": "json", "LOG_LEVEL": "info"}
    proc = EngineProcess(tmp_path_factory.mktemp("auth-engine"), env=env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def _status(
    engine: EngineProcess, method: str, path: str, headers: dict[str, str], **kw: Any
) -> int:
    return httpx.request(method, engine.url + path, headers=headers, timeout=10, **kw).status_code


def test_http_matrix(engine: EngineProcess) -> None:
    step = {
        "id": "auth-step",
        "name": "auth-step",
        "type": "script",
        "attributes": {"auth_out": {"role": "output"}},
        "script": {"language": "lua", "script": "return {auth_out = 1}"},
    }
    writes = [("POST", "/engine/step", {"json": step})]
    reads = [
        ("GET", "/engine/step", {}),
        ("GET", "/engine", {}),
        ("GET", "/engine/flow", {}),
        ("POST", "/engine/flow/query", {"json": {}}),
        ("GET", "/metrics", {}),
    ]
    for method, path, kw in reads + writes:
        r = httpx.request(method, engine.url + path, timeout=10, **kw)
        assert r.status_code == 401, (method, path)
        assert r.json() == {"error": "missing bearer token", "status": 401}
        assert r.headers["www-authenticate"].startswith("Bearer")
        wrong = httpx.request(method, engine.url + path, headers=WRONG, timeout=10, **kw)
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid bearer token"
    for method, path, kw in reads:
        assert _status(engine, method, path, READ, **kw) == 200, (method, path)
    r = httpx.post(engine.url + "/engine/step", headers=READ, json=step, timeout=10)
    assert r.status_code == 403 and r.json() == {"error": "this token may only read", "status": 403}
    assert _status(engine, "POST", "/engine/step", FULL, json=step) == 201
    plan = {"goals": ["auth-step"]}
    assert _status(engine, "POST", "/engine/plan", READ, json=plan) == 200
    start = {"id": "auth-flow", "goals": ["auth-step"]}
    assert _status(engine, "POST", "/engine/flow", READ, json=start) == 403
    assert _status(engine, "DELETE", "/engine/step/auth-step", READ) == 403
    assert _status(engine, "POST", "/engine/flow", FULL, json=start) == 201
    assert _status(engine, "GET", "/engine/flow/auth-flow", READ) == 200
    for open_path in ("/health", "/version", "/openapi.json", "/docs"):
        assert _status(engine, "GET", open_path, {}) == 200, open_path
    assert _status(engine, "OPTIONS", "/engine/step", {}) == 200  # preflights carry no token


def _ws_url(engine: EngineProcess, query: str = "") -> str:
    return engine.url.replace("http://", "ws://") + "/engine/ws" + query


async def _subscribed(connection: Any) -> dict[str, Any]:
    message = {
        "type": "subscribe",
        "data": {"sub_id": "s1", "aggregate_ids": [["catalog"]], "include_state": True},
    }
    await connection.send(json.dumps(message))
    reply: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), 10))
    return reply


async def _ws_matrix(engine: EngineProcess) -> None:
    for headers, query in (({}, ""), (WRONG, ""), ({}, "?token=nope")):
        with pytest.raises(websockets.InvalidStatus) as info:
            async with websockets.connect(_ws_url(engine, query), additional_headers=headers):
                pass
        assert info.value.response.status_code == 401
        assert json.loads(info.value.response.body)["status"] == 401
    async with websockets.connect(_ws_url(engine), additional_headers=READ) as ws:
        assert (await _subscribed(ws))["type"]
    async with websockets.connect(_ws_url(engine, "?token=peek")) as ws:
        assert (await _subscribed(ws))["type"]
    async with websockets.connect(_ws_url(engine), subprotocols=["bearer", "peek"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "bearer"
        assert (await _subscribed(ws))["type"]


def test_websocket_matrix(engine: EngineProcess) -> None:
    asyncio.run(_ws_matrix(engine))


def test_webhook_needs_no_bearer_token(engine: EngineProcess) -> None:
    calls: queue.Queue[dict[str, str]] = queue.Queue()

    async def step(request: Request) -> JSONResponse:
        calls.put(dict(request.headers))
        return JSONResponse({})

    app = Starlette(routes=[Route("/async", step, methods=["POST"])])
    with StepServer(app) as server:
        step_def = {
            "id": "auth-async",
            "name": "auth-async",
            "type": "async",
            "attributes": {"auth_async_out": {"role": "output"}},
            "http": {"endpoint": f"{server.url}/async"},
        }
        assert _status(engine, "POST", "/engine/step", FULL, json=step_def) == 201
        start = {"id": "auth-async-flow", "goals": ["auth-async"]}
        assert _status(engine, "POST", "/engine/flow", FULL, json=start) == 201
        headers = calls.get(timeout=10)
    webhook = headers["argyll-webhook-url"]
    assert httpx.post(webhook, json={"auth_async_out": 7}, timeout=10).status_code == 200

    def done() -> bool:
        r = httpx.get(f"{engine.url}/engine/flow/auth-async-flow/status", headers=READ, timeout=5)
        return bool(r.json()["status"] == "completed")

    eventually(done, timeout=10, message="async flow completed by the webhook")


def test_logs_are_json_lines(engine: EngineProcess) -> None:
    httpx.get(engine.url + "/engine/step", headers=READ, timeout=10)

    def access_logged() -> list[dict[str, Any]]:
        entries = [json.loads(line) for line in engine.logs().splitlines() if line.strip()]
        return [e for e in entries if e.get("logger") == "argyll.access"]

    entries = eventually(access_logged, timeout=10, message="access log lines")
    assert any(e["path"] == "/engine/step" and e["status"] == 200 for e in entries)
    assert all({"time", "level", "message", "method", "ms"} <= set(e) for e in entries)
    assert "peek" not in engine.logs() and "full-tok" not in engine.logs()  # no tokens logged


def test_operations_example_with_a_token(engine: EngineProcess) -> None:
    import importlib.util
    import sys

    examples = Path(__file__).resolve().parents[2] / "examples"
    sys.path.insert(0, str(examples))
    spec = importlib.util.spec_from_file_location("example_operations", examples / "operations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(engine.url, "full-tok")
    assert result["status"] == "completed" and result["completed_delta"] >= 1
    assert result["openapi"] == "3.1.0" and result["page_size"] == 1
    text = (examples / "operations.py").read_text()
    assert "To run things:" in text and "def main(engine_url: str" in text
