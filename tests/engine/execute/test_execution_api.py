"""Flows run end to end over real HTTP: script, sync and async HTTP steps,
webhooks, retries (SPEC sections 6-8), against each test's own in-process
engine and loopback step servers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support import Api, StepServer, eventually


class Recorder:
    """A step service whose behaviour tests script per path; it records every call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.plans: dict[str, list[Response]] = {}

    def plan(self, path: str, *responses: Response) -> None:
        self.plans[path] = list(responses)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.calls.append(
                {
                    "path": request.url.path,
                    "raw_path": request.scope["raw_path"].decode(),
                    "method": request.method,
                    "headers": dict(request.headers),
                    "body": body,
                }
            )
            queue = self.plans.get(request.url.path, [])
            response = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else None)
        if response is not None:
            return response
        args = httpx.Response(200, content=body).json() if body else {}
        return JSONResponse({"echo": args})

    def calls_to(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["path"] == path]


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = Starlette(
        routes=[Route("/{path:path}", recorder.handle, methods=["GET", "POST", "PUT", "DELETE"])]
    )
    with StepServer(app) as server:
        yield recorder, server.url


def http_step(step_id: str, url: str, attrs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "type": extra.pop("type", "sync"),
        "attributes": attrs,
        "http": {"endpoint": url, **extra.pop("http", {})},
        **extra,
    }


def test_script_steps_chain_lua_and_ale(api: Api, uid: str) -> None:  # SCRIPT-1..3, TERM-2, TYPE-1
    assert (
        api.register(
            {
                "id": f"dbl-{uid}",
                "name": "Double",
                "type": "script",
                "attributes": {
                    f"n{uid}": {"role": "required", "type": "number"},
                    f"twice{uid}": {"role": "output"},
                },
                "script": {"language": "lua", "script": f"return {{twice{uid} = n{uid} * 2}}"},
            }
        ).status_code
        == 201
    )
    assert (
        api.register(
            {
                "id": f"greet-{uid}",
                "name": "Greet",
                "type": "script",
                "attributes": {
                    f"twice{uid}": {"role": "required"},
                    f"msg{uid}": {"role": "output"},
                },
                "script": {"language": "ale", "script": f'{{:msg{uid} (str "got " twice{uid})}}'},
            }
        ).status_code
        == 201
    )
    r = api.start(f"flow-{uid}", [f"greet-{uid}"], {f"n{uid}": [21]})
    assert r.status_code == 201, r.text
    state = api.wait_terminal(f"flow-{uid}")
    assert state["status"] == "completed", state
    assert state["attributes"][f"twice{uid}"][0]["value"] == 42
    assert state["attributes"][f"msg{uid}"][0]["value"] == "got 42"
    assert api.status(f"flow-{uid}") == "completed"  # TERM-8


def test_sync_http_step_placeholders_headers_and_outputs(
    api: Api, uid: str, service: tuple[Recorder, str]
) -> None:  # HTTP-1..3, HTTP-5
    recorder, url = service
    path = f"/orders-{uid}/a b"
    recorder.plan(path, JSONResponse({"total": 12, "extra": 1}))
    api.register(
        http_step(
            f"price-{uid}",
            url + f"/orders-{uid}/{{order}}",
            {"order": {"role": "required"}, "total": {"role": "output"}},
        )
    )
    assert api.start(f"f-{uid}", [f"price-{uid}"], {"order": ["a b"]}).status_code == 201
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "completed"
    assert state["executions"][f"price-{uid}"]["outputs"] == {"total": 12}
    call = recorder.calls_to(path)[0]
    assert call["raw_path"] == f"/orders-{uid}/a%20b"  # HTTP-1 path-segment encoding
    assert call["method"] == "POST"
    assert call["headers"]["argyll-flow-id"] == f"f-{uid}"
    assert call["headers"]["argyll-step-id"] == f"price-{uid}"
    token = call["headers"]["argyll-receipt-token"]
    assert token in state["executions"][f"price-{uid}"]["work_items"]
    assert "argyll-webhook-url" not in call["headers"]
    assert httpx.Response(200, content=call["body"]).json() == {"order": "a b"}


def test_transient_errors_retry_then_succeed(
    api: Api, uid: str, service: tuple[Recorder, str]
) -> None:  # RETRY-1, RETRY-3, RETRY-6
    recorder, url = service
    path = f"/flaky-{uid}"
    recorder.plan(
        path, Response(status_code=503), Response(status_code=502), JSONResponse({"ok": True})
    )
    api.register(
        http_step(
            f"flaky-{uid}",
            url + path,
            {"ok": {"role": "output"}},
            work_config={"init_backoff": 20, "max_backoff": 50, "max_retries": 5},
        )
    )
    api.start(f"f-{uid}", [f"flaky-{uid}"])
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "completed"
    item = next(iter(state["executions"][f"flaky-{uid}"]["work_items"].values()))
    assert item["retry_count"] == 2
    tokens = {c["headers"]["argyll-receipt-token"] for c in recorder.calls_to(path)}
    assert len(tokens) == 1 and len(recorder.calls_to(path)) == 3
    types = [e["type"] for e in api.events(f"f-{uid}")]
    assert types.count("work_not_completed") == 2 and types.count("work_retry_scheduled") == 2


def test_permanent_error_fails_flow_with_problem_detail(
    api: Api, uid: str, service: tuple[Recorder, str]
) -> None:  # HTTP-5, TERM-4
    recorder, url = service
    path = f"/bad-{uid}"
    recorder.plan(
        path,
        JSONResponse(
            {"title": "Bad", "detail": "no such order"},
            status_code=422,
            media_type="application/problem+json",
        ),
    )
    api.register(http_step(f"bad-{uid}", url + path, {"x": {"role": "output"}}))
    api.start(f"f-{uid}", [f"bad-{uid}"])
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "failed"
    assert "status 422" in state["error"] and "no such order" in state["error"]
    assert state["error"].startswith(f"step bad-{uid} failed: ")


def test_async_step_completes_through_webhook(
    api: Api, uid: str, service: tuple[Recorder, str], engine_url: str
) -> None:  # ASYNC-1..5, API-40
    recorder, url = service
    path = f"/async-{uid}"
    recorder.plan(path, Response(status_code=202))
    api.register(http_step(f"slow-{uid}", url + path, {"done": {"role": "output"}}, type="async"))
    api.start(f"f-{uid}", [f"slow-{uid}"])
    call = eventually(lambda: recorder.calls_to(path), message="async call")[0]
    hook = call["headers"]["argyll-webhook-url"]
    token = call["headers"]["argyll-receipt-token"]
    assert hook == f"{engine_url}/webhook/f-{uid}/slow-{uid}/{token}"
    assert api.status(f"f-{uid}") == "active"
    # API-40 checks, in order
    assert (
        httpx.post(f"{engine_url}/webhook/nope-{uid}/x/y", json={}).json()["error"]
        == "Flow not found"
    )
    assert (
        httpx.post(f"{engine_url}/webhook/f-{uid}/x/y", json={}).json()["error"]
        == "Step execution not found"
    )
    assert (
        httpx.post(f"{engine_url}/webhook/f-{uid}/slow-{uid}/y", json={}).json()["error"]
        == "Work item not found for token"
    )
    bad = httpx.post(hook, content=b"[1]", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"] == "Invalid JSON"
    done = httpx.post(hook, json={"done": "yes"})
    assert done.status_code == 200 and done.content == b""
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "completed" and state["executions"][f"slow-{uid}"]["outputs"] == {
        "done": "yes"
    }
    again = httpx.post(hook, json={"done": "again"})  # ASYNC-5
    assert again.status_code == 200
    assert api.flow(f"f-{uid}")["executions"][f"slow-{uid}"]["outputs"] == {"done": "yes"}


def test_async_step_failure_through_problem_json(
    api: Api, uid: str, service: tuple[Recorder, str]
) -> None:  # ASYNC-4
    recorder, url = service
    path = f"/async-fail-{uid}"
    recorder.plan(path, Response(status_code=200))
    api.register(http_step(f"af-{uid}", url + path, {"done": {"role": "output"}}, type="async"))
    api.start(f"f-{uid}", [f"af-{uid}"])
    call = eventually(lambda: recorder.calls_to(path))[0]
    r = httpx.post(
        call["headers"]["argyll-webhook-url"],
        content=b'{"status": 422}',
        headers={"content-type": "Application/Problem+JSON; charset=utf-8"},
    )
    assert r.status_code == 200
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "failed" and "Unprocessable Entity" in state["error"]


def test_get_method_has_no_body_and_meta_inputs(
    api: Api, uid: str, service: tuple[Recorder, str]
) -> None:  # HTTP-3, TYPE-2
    recorder, url = service
    path = f"/get-{uid}"
    api.register(
        http_step(
            f"get-{uid}",
            url + path,
            {"fid": {"role": "meta", "meta": {"key": "flow_id"}}, "echo": {"role": "output"}},
            http={"method": "GET"},
        )
    )
    api.start(f"f-{uid}", [f"get-{uid}"])
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "completed"
    call = recorder.calls_to(path)[0]
    assert call["method"] == "GET" and call["body"] == b""


def test_concurrent_webhooks_are_serialized_per_flow(
    api: Api, uid: str, service: tuple[Recorder, str]
) -> None:  # FLOW-10, EVT-3, EVT-4, ASYNC-5
    recorder, url = service
    path = f"/fan-{uid}"
    recorder.plan(path, Response(status_code=202))
    api.register(
        http_step(
            f"fan-{uid}",
            url + path,
            {
                f"items{uid}": {"role": "required", "required": {"for_each": True}},
                f"r{uid}": {"role": "output"},
            },
            type="async",
            work_config={"parallelism": 20},
        )
    )
    api.start(f"f-{uid}", [f"fan-{uid}"], {f"items{uid}": [list(range(20))]})
    calls = eventually(lambda: len(recorder.calls_to(path)) == 20 and recorder.calls_to(path))
    hooks = [c["headers"]["argyll-webhook-url"] for c in calls]
    results: list[int] = []

    def post(hook: str) -> None:
        for _ in range(2):  # each twice: duplicates must be ignored
            results.append(httpx.post(hook, json={f"r{uid}": 1}, timeout=10).status_code)

    threads = [threading.Thread(target=post, args=(h,)) for h in hooks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [200] * 40
    state = api.wait_terminal(f"f-{uid}")
    assert state["status"] == "completed"
    events = api.events(f"f-{uid}")
    assert [e["sequence"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events].count("work_succeeded") == 20
