"""Step servers on real loopback sockets: handlers, problem details, compensation,
registration against a fake engine, and graceful shutdown of ``start()``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from argyll import AttributeType, Client, StepBuilder, StepContext
from argyll.errors import (
    HTTPError,
    StepRegistrationError,
    StepValidationError,
    WorkNotCompletedError,
)
from argyll.sdk.runner import ServerHandle, bind_socket

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def builder(name: str = "echo") -> StepBuilder:
    return Client("http://127.0.0.1:9").new_step().with_id(unique(name)).with_name("Echo")


# -- a fake engine for registration ---------------------------------------------


class FakeEngine:
    """Records step registrations; answers POST from ``post_replies`` (default 201)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.post_replies: list[tuple[int, dict[str, Any]]] = []

    def app(self) -> Starlette:
        async def register(request: Request) -> Response:
            step = json.loads(await request.body())
            self.calls.append(("POST", request.url.path, step))
            if self.post_replies:
                status, reply = self.post_replies.pop(0)
                return JSONResponse(reply, status_code=status)
            return JSONResponse({"message": "Step registered", "step": step}, status_code=201)

        async def update(request: Request) -> Response:
            step = json.loads(await request.body())
            self.calls.append(("PUT", request.url.path, step))
            return JSONResponse({"message": "Step updated", "step": step})

        return Starlette(
            routes=[
                Route("/engine/step", register, methods=["POST"]),
                Route("/engine/step/{step_id}", update, methods=["PUT"]),
            ]
        )


@pytest.fixture
def fake_engine() -> Iterator[tuple[FakeEngine, str]]:
    engine = FakeEngine()
    handle = ServerHandle(
        engine.app(), bind_socket("127.0.0.1", 0), hostname="127.0.0.1", step_id="engine"
    )
    handle.start()
    try:
        yield engine, handle.url
    finally:
        handle.stop()


# -- handlers ---------------------------------------------------------------------


def test_sync_handler_gets_args_and_context() -> None:
    seen: list[StepContext] = []

    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx)
        return {"greeting": f"Hello, {args['name']}!"}

    step = builder().required("name", AttributeType.STRING).output("greeting")
    with step.serve(handle, register=False) as server:
        headers = {
            "Argyll-Flow-ID": "flow-1",
            "Argyll-Step-ID": step.step_id,
            "Argyll-Receipt-Token": "token-1",
            "Argyll-Webhook-URL": "http://engine/webhook/flow-1/x/token-1",
        }
        response = httpx.post(server.endpoint, json={"name": "Ada"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"greeting": "Hello, Ada!"}
    (ctx,) = seen
    assert ctx.step_id == step.step_id
    assert ctx.metadata == {
        "flow_id": "flow-1",
        "step_id": step.step_id,
        "receipt_token": "token-1",
        "webhook_url": "http://engine/webhook/flow-1/x/token-1",
    }
    assert ctx.client.flow_id == "flow-1"
    assert ctx.client.client.base_url == "http://127.0.0.1:9"
    assert (ctx.flow_id, ctx.receipt_token) == ("flow-1", "token-1")


def test_metadata_holds_only_the_headers_sent() -> None:
    seen: list[StepContext] = []

    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx)
        return {}

    with builder().serve(handle, register=False) as server:
        httpx.post(server.endpoint, json={}, headers={"Argyll-Flow-ID": "f"})
    assert seen[0].metadata == {"flow_id": "f"}
    assert seen[0].webhook_url == ""


def test_async_def_handler_runs_on_the_loop() -> None:
    async def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"double": args["n"] * 2}

    with builder().serve(handle, register=False) as server:
        response = httpx.post(server.endpoint, json={"n": 21})
    assert response.json() == {"double": 42}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_and_empty_bodies(method: str) -> None:
    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        return {"args": args}

    with builder().serve(handle, register=False) as server:
        response = httpx.request(method, server.endpoint)
    assert response.status_code == 200
    assert response.json() == {"args": {}}


def test_none_result_means_no_outputs() -> None:
    with builder().serve(lambda ctx, args: None, register=False) as server:
        response = httpx.post(server.endpoint, json={})
    assert response.status_code == 200
    assert response.json() == {}


@pytest.mark.parametrize("status", [400, 404, 422, 500, 503])
def test_http_error_answers_problem_details(status: int) -> None:
    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        raise HTTPError(status, "card declined")

    with builder().serve(handle, register=False) as server:
        response = httpx.post(server.endpoint, json={})
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["detail"] == "card declined"
    assert problem["title"]
    assert problem["type"] == "about:blank"


def test_other_exceptions_answer_500() -> None:
    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("customer_id")

    with builder().serve(handle, register=False) as server:
        response = httpx.post(server.endpoint, json={})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "KeyError" in response.json()["detail"]
    assert "customer_id" in response.json()["detail"]


def test_async_handler_exceptions_answer_500() -> None:
    async def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("async boom")

    with builder().serve(handle, register=False) as server:
        response = httpx.post(server.endpoint, json={})
    assert response.status_code == 500
    assert "async boom" in response.json()["detail"]


def test_work_not_completed_answers_503() -> None:
    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        raise WorkNotCompletedError("downstream busy")

    with builder().serve(handle, register=False) as server:
        response = httpx.post(server.endpoint, json={})
    assert response.status_code == 503
    assert response.json()["detail"] == "downstream busy"


@pytest.mark.parametrize("result", [[1, 2], "text", {"bad": object()}])
def test_results_that_are_not_json_objects_answer_500(result: Any) -> None:
    with builder().serve(lambda ctx, args: result, register=False) as server:
        response = httpx.post(server.endpoint, json={})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]"])
def test_bodies_that_are_not_json_objects_answer_400(content: bytes) -> None:
    with builder().serve(lambda ctx, args: {}, register=False) as server:
        response = httpx.post(server.endpoint, content=content)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_health_endpoint() -> None:
    step = builder()
    with step.serve(lambda ctx, args: {}, register=False) as server:
        response = httpx.get(f"{server.url}/health")
        missing = httpx.post(f"{server.url}/{step.step_id}/compensate", json={})
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": step.step_id}
    assert missing.status_code == 404


def test_handle_reports_urls_and_stops() -> None:
    step = builder()
    server = step.serve(lambda ctx, args: {}, register=False)
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.endpoint == f"{server.url}/{step.step_id}"
    assert server.step is None
    assert server.running
    server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/health")


# -- compensation -----------------------------------------------------------------


def test_compensation_handler_receives_inputs_and_outputs() -> None:
    calls: list[tuple[StepContext, dict[str, Any], dict[str, Any]]] = []

    def undo(ctx: StepContext, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        calls.append((ctx, inputs, outputs))

    step = builder().with_compensate_handler(undo)
    with step.serve(lambda ctx, args: {}, register=False) as server:
        response = httpx.post(
            f"{server.endpoint}/compensate",
            json={"input": {"seat": "A1"}, "output": {"reservation": "r-1"}},
            headers={"Argyll-Flow-ID": "f", "Argyll-Receipt-Token": "tok"},
        )
    assert response.status_code == 200
    ((ctx, inputs, outputs),) = calls
    assert (inputs, outputs) == ({"seat": "A1"}, {"reservation": "r-1"})
    assert (ctx.flow_id, ctx.receipt_token, ctx.step_id) == ("f", "tok", step.step_id)


def test_async_compensation_handler() -> None:
    calls: list[dict[str, Any]] = []

    async def undo(ctx: StepContext, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        calls.append(outputs)

    with builder().with_compensate_handler(undo).serve(lambda c, a: {}, register=False) as server:
        response = httpx.post(f"{server.endpoint}/compensate", json={"input": {}, "output": None})
    assert response.status_code == 200
    assert calls == [{}]


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (WorkNotCompletedError("ledger locked"), 503),
        (ValueError("no such reservation"), 422),
        (HTTPError(409, "already released"), 409),
    ],
)
def test_compensation_failures(raised: Exception, status: int) -> None:
    def undo(ctx: StepContext, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        raise raised

    with builder().with_compensate_handler(undo).serve(lambda c, a: {}, register=False) as server:
        response = httpx.post(f"{server.endpoint}/compensate", json={"input": {}, "output": {}})
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert str(raised.args[-1]) in response.json()["detail"]


# -- registration through serve() ---------------------------------------------------


def test_serve_registers_the_served_step(fake_engine: tuple[FakeEngine, str]) -> None:
    engine, engine_url = fake_engine

    def undo(ctx: StepContext, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        pass

    step = (
        Client(engine_url)
        .new_step()
        .with_name(unique("Greeting"))
        .required("name", AttributeType.STRING)
        .with_compensate_handler(undo)
    )
    with step.serve(lambda ctx, args: {}) as server:
        ((method, path, registered),) = engine.calls
        assert (method, path) == ("POST", "/engine/step")
        assert registered["http"] == {
            "endpoint": server.endpoint,
            "health_check": f"{server.url}/health",
            "compensate": f"{server.endpoint}/compensate",
            "timeout": 0,
        }
        assert server.step is not None
        assert server.step.id == step.step_id


def test_serve_updates_on_conflict(fake_engine: tuple[FakeEngine, str]) -> None:
    engine, engine_url = fake_engine
    engine.post_replies.append((409, {"error": "step exists: x", "status": 409}))
    step = Client(engine_url).new_step().with_name(unique("Greeting"))
    with step.serve(lambda ctx, args: {}):
        assert [(m, p) for m, p, _ in engine.calls] == [
            ("POST", "/engine/step"),
            ("PUT", f"/engine/step/{step.step_id}"),
        ]


def test_serve_after_update_puts(fake_engine: tuple[FakeEngine, str]) -> None:
    engine, engine_url = fake_engine
    step = Client(engine_url).new_step().with_name(unique("Greeting")).update()
    with step.serve(lambda ctx, args: {}, hostname="steps.internal") as server:
        assert server.url.startswith("http://steps.internal:")
        assert [m for m, _, _ in engine.calls] == ["PUT"]
        assert engine.calls[0][2]["http"]["endpoint"] == server.endpoint


def test_serve_stops_the_server_when_registration_fails(
    fake_engine: tuple[FakeEngine, str],
) -> None:
    engine, engine_url = fake_engine
    engine.post_replies.append((400, {"error": "invalid step: nope", "status": 400}))
    step = Client(engine_url).new_step().with_id(unique("rejected")).with_name("Rejected")
    with pytest.raises(StepRegistrationError, match="invalid step: nope"):
        step.serve(lambda ctx, args: {})
    eventually(
        lambda: not any(t.name == f"argyll-step-{step.step_id}" for t in threading.enumerate()),
        what="the server thread to end",
    )


def test_serve_validates_before_listening() -> None:
    with pytest.raises(StepValidationError, match="step name empty"):
        StepBuilder().with_id("x").serve(lambda ctx, args: {}, register=False)


def test_start_rejects_a_bad_step_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEP_PORT", "eighty")
    with pytest.raises(ValueError, match="STEP_PORT"):
        builder().start(lambda ctx, args: {})


# -- start(): blocking, graceful shutdown on SIGTERM ---------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


STEP_SCRIPT = textwrap.dedent(
    """
    import pathlib, sys, time
    from argyll import Client

    marker = pathlib.Path(sys.argv[2])

    def handle(ctx, args):
        marker.write_text("started")
        time.sleep(1.0)
        return {"slept": True}

    Client(sys.argv[1]).new_step().with_id(sys.argv[3]).with_name("Slow").start(handle)
    print("start() returned", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_start_serves_until_sigterm_and_finishes_in_flight_requests(
    fake_engine: tuple[FakeEngine, str], tmp_path: Path
) -> None:
    engine, engine_url = fake_engine
    port = free_port()
    marker = tmp_path / "started"
    step_id = unique("slow")
    env = {**os.environ, "STEP_PORT": str(port), "STEP_HOSTNAME": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-c", STEP_SCRIPT, engine_url, str(marker), step_id],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        eventually(lambda: bool(engine.calls), what="registration")
        registered = engine.calls[0][2]
        assert registered["http"]["endpoint"] == f"http://127.0.0.1:{port}/{step_id}"
        assert registered["http"]["health_check"] == f"http://127.0.0.1:{port}/health"

        results: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: results.append(
                httpx.post(f"http://127.0.0.1:{port}/{step_id}", json={}, timeout=10)
            )
        )
        caller.start()
        eventually(marker.exists, what="the handler to start")
        process.send_signal(signal.SIGTERM)
        caller.join(10)
        assert [r.status_code for r in results] == [200]
        assert results[0].json() == {"slept": True}
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "start() returned" in stdout
