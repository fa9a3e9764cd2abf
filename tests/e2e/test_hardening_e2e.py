"""Hardening over real HTTP against a real engine (issue 17 items 1, 2, 5, 6).

- Results, error texts and response bodies are bounded; the engine's memory
  stays bounded while oversized results arrive (item 2).
- A receipt token read from flow state cannot post a result: the webhook
  needs the credential only the called step was given (item 5, ASYNC-1).
- WebSocket upgrades from foreign origins, and malformed upgrades, get JSON
  errors (items 1 and 6, API-41).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from support import Api, EngineProcess, StepServer, eventually

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path_factory.mktemp("hardening"))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def api(engine: EngineProcess) -> Iterator[Api]:
    client = Api(engine.url)
    try:
        yield client
    finally:
        client.close()


class Service:
    """Step endpoints: a 50 MB streamed answer and an async step that records its calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()

    async def huge(self, _: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"big": "'
            for _ in range(50):
                yield b"x" * MIB
            yield b'"}'

        return StreamingResponse(chunks(), media_type="application/json")

    async def accept(self, request: Request) -> Response:
        with self.lock:
            self.calls.append(dict(request.headers))
        return Response(status_code=202)


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[Service, str]]:
    svc = Service()
    app = Starlette(
        routes=[
            Route("/huge", svc.huge, methods=["POST"]),
            Route("/accept", svc.accept, methods=["POST"]),
        ]
    )
    with StepServer(app) as server:
        yield svc, server.url


def lua_step(step_id: str, source: str) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "type": "script",
        "attributes": {"out": {"role": "output"}},
        "script": {"language": "lua", "script": source},
    }


def peak_rss(engine: EngineProcess) -> int:
    assert engine.proc is not None
    with open(f"/proc/{engine.proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_oversized_results_fail_the_item_and_memory_stays_bounded(
    api: Api, engine: EngineProcess, service: tuple[Service, str]
) -> None:
    _, url = service
    steps = [
        lua_step("big-out", "return {out = string.rep('o', 3e7)}"),
        lua_step("big-err", "error(string.rep('e', 3e7))"),
        {
            "id": "big-http",
            "name": "big-http",
            "type": "sync",
            "attributes": {"big": {"role": "output"}},
            "http": {"endpoint": url + "/huge"},
        },
    ]
    for step in steps:
        assert api.register(step).status_code == 201, step["id"]
    before = peak_rss(engine)
    flows = [(f"big-{step['id']}-{i}", step["id"]) for step in steps for i in range(8)]
    for flow_id, goal in flows:
        assert api.start(flow_id, [goal]).status_code == 201
    errors = {}
    for flow_id, goal in flows:
        state = api.wait_terminal(flow_id, timeout=60)
        assert state["status"] == "failed", flow_id
        errors[goal] = state["executions"][goal]["error"]
        size = len(api.http.get(f"/engine/flow/{flow_id}").content)
        assert size < 64 * 1024, (flow_id, size)
    assert errors["big-out"].startswith("script result too large")
    assert errors["big-err"].startswith("lua execution error: script:1: eeee")
    assert "error text truncated" in errors["big-err"]
    assert len(errors["big-err"].encode()) < 9 * 1024
    assert "response body exceeds the limit of 1048576 bytes" in errors["big-http"]
    grown = peak_rss(engine) - before
    print(f"peak RSS growth {grown / MIB:.1f} MiB")
    assert grown < 200 * MIB, f"engine peak RSS grew by {grown / MIB:.0f} MiB"


def test_token_from_flow_state_cannot_post_a_result(
    api: Api, engine: EngineProcess, service: tuple[Service, str]
) -> None:
    svc, url = service
    step = {
        "id": "hooked",
        "name": "hooked",
        "type": "async",
        "attributes": {"done": {"role": "output"}},
        "http": {"endpoint": url + "/accept"},
    }
    assert api.register(step).status_code == 201
    assert api.start("hook-1", ["hooked"]).status_code == 201
    call = eventually(lambda: [c for c in svc.calls if c["argyll-flow-id"] == "hook-1"])[0]
    hook = call["argyll-webhook-url"]
    state = api.flow("hook-1")
    (token,) = state["executions"]["hooked"]["work_items"]
    bare = f"{engine.url}/webhook/hook-1/hooked/{token}"
    assert hook.startswith(bare + "?sig=")
    sig = hook.split("?sig=", 1)[1]
    # the credential is nowhere a reader can see it
    for path in ("/engine/flow/hook-1", "/engine/flow/hook-1/events", "/engine"):
        assert sig not in api.http.get(path).text
    events = len(api.events("hook-1"))
    forged = [
        httpx.post(bare, json={"done": "forged"}),
        httpx.post(bare + "?sig=", json={"done": "forged"}),
        httpx.post(bare + "?sig=" + sig[:-2] + "AA", json={"done": "forged"}),
        httpx.post(
            bare,
            content=b'{"title": "forged"}',
            headers={"content-type": "application/problem+json"},
        ),
    ]
    for response in forged:
        assert response.status_code == 401
        assert response.json() == {"error": "invalid webhook credential", "status": 401}
    assert len(api.events("hook-1")) == events  # recorded nowhere
    assert api.status("hook-1") == "active"
    # the step service uses the URL verbatim, as before
    assert httpx.post(hook, json={"done": "yes"}).status_code == 200
    final = api.wait_terminal("hook-1")
    assert final["status"] == "completed"
    assert final["executions"]["hooked"]["outputs"] == {"done": "yes"}


def test_foreign_websocket_upgrade_gets_403(engine: EngineProcess) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(engine.url.replace("http", "ws") + "/engine/ws", origin="http://evil.example")
    assert refused.value.response.status_code == 403
    assert b"origin not allowed" in refused.value.response.body
    with connect(engine.url.replace("http", "ws") + "/engine/ws", origin=engine.url) as ws:
        ws.send('{"type": "unsubscribe", "data": {"sub_id": "x"}}')
        assert "unsubscribed" in str(ws.recv(timeout=5))


@pytest.mark.parametrize(
    "headers",
    [
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n",
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: abc\r\n",
    ],
)
def test_bad_websocket_upgrade_gets_a_json_error(engine: EngineProcess, headers: bytes) -> None:
    request = b"GET /engine/ws HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    with socket.create_connection(("127.0.0.1", engine.port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    assert httpx.Response(400, content=body).json()["status"] == 400
