"""Client and AsyncClient against httpx.MockTransport: the same requests, the same errors.

Most tests run once per client: ``Api`` wraps either so a test awaits the
async methods and calls the blocking ones through one interface.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from argyll import (
    AsyncClient,
    AsyncFlowClient,
    AttributeType,
    Client,
    ExecutionPlan,
    FlowEvent,
    FlowState,
    FlowStatus,
    FlowSummary,
    Step,
    StepStatus,
    WorkStatus,
)
from argyll.errors import ClientError, FlowError, StepRegistrationError, WaitTimeoutError

Reply = httpx.Response | Exception


class Engine:
    """A scripted engine: records requests, answers from a queue (or a default)."""

    def __init__(self, *replies: Reply, default: Reply | None = None) -> None:
        self.replies = list(replies)
        self.default = default
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else self.default
        if reply is None:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        if isinstance(reply, Exception):
            raise reply
        return reply

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": message, "status": status})


class Api:
    """One interface over both clients: ``api.call("plan", ...)`` returns the result."""

    def __init__(self, kind: str, engine: Engine, **kwargs: Any) -> None:
        self.kind = kind
        transport = httpx.MockTransport(engine)
        base = kwargs.pop("base_url", "http://engine.test")
        self.client: Client | AsyncClient = (
            Client(base, transport=transport, **kwargs)
            if kind == "sync"
            else AsyncClient(base, transport=transport, **kwargs)
        )

    def run(self, value: Any) -> Any:
        if asyncio.iscoroutine(value):
            return asyncio.run(value)
        return value

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self.client, method)(*args, **kwargs))

    def flows(self, **kwargs: Any) -> list[FlowSummary]:
        if isinstance(self.client, Client):
            return list(self.client.flows(**kwargs))
        client = self.client

        async def collect() -> list[FlowSummary]:
            return [summary async for summary in client.flows(**kwargs)]

        return asyncio.run(collect())


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


STATE = {
    "id": "wf-1",
    "status": "completed",
    "created_at": "2026-01-02T03:04:05Z",
    "completed_at": "2026-01-02T03:04:06Z",
    "deactivated_at": "0001-01-01T00:00:00Z",
    "last_updated": "2026-01-02T03:04:06Z",
    "plan": {
        "goals": ["double"],
        "required": ["value"],
        "steps": {},
        "attributes": {},
        "excluded": {},
    },
    "attributes": {"value": [{"value": 21, "set_at": "2026-01-02T03:04:05Z"}]},
    "executions": {
        "double": {
            "status": "completed",
            "started_at": "2026-01-02T03:04:05Z",
            "completed_at": "2026-01-02T03:04:06Z",
            "inputs": {"value": 21},
            "outputs": {"result": 42},
            "work_items": {
                "t1": {
                    "status": "succeeded",
                    "started_at": "2026-01-02T03:04:05Z",
                    "completed_at": "2026-01-02T03:04:06Z",
                    "next_retry_at": "0001-01-01T00:00:00Z",
                    "inputs": {},
                    "outputs": {"result": 42},
                }
            },
        }
    },
}


# -- settings -------------------------------------------------------------------


def test_base_url_defaults_to_engine_url(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGINE_URL", "http://from-env:9000/engine/")
    engine = Engine(httpx.Response(200, json={"steps": [], "count": 0}))
    api = Api(kind, engine, base_url=None)
    assert api.client.base_url == "http://from-env:9000"
    assert api.call("list_steps") == []
    assert str(engine.last.url) == "http://from-env:9000/engine/step"


def test_base_url_without_engine_url(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENGINE_URL", raising=False)
    assert Api(kind, Engine(), base_url=None).client.base_url == "http://localhost:8080"
    assert Api(kind, Engine(), base_url="http://x:1/").client.base_url == "http://x:1"


def test_bearer_token_from_argument_or_environment(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGYLL_TOKEN", "env-secret")
    engine = Engine(default=httpx.Response(200, json={"steps": None}))
    Api(kind, engine).call("list_steps")
    assert engine.last.headers["authorization"] == "Bearer env-secret"
    Api(kind, engine, token="arg-secret").call("list_steps")
    assert engine.last.headers["authorization"] == "Bearer arg-secret"
    monkeypatch.delenv("ARGYLL_TOKEN")
    Api(kind, engine).call("list_steps")
    assert "authorization" not in engine.last.headers
    assert engine.last.headers["accept"] == "application/json"


def test_context_managers_close_the_pool() -> None:
    with Client("http://engine.test") as client:
        assert repr(client) == "Client('http://engine.test')"
    assert client._http.is_closed

    async def use() -> AsyncClient:
        async with AsyncClient("http://engine.test") as client:
            assert repr(client) == "AsyncClient('http://engine.test')"
        return client

    assert asyncio.run(use())._http.is_closed


# -- typed results ----------------------------------------------------------------


def test_flow_state_is_typed_and_reads_like_the_json(kind: str) -> None:
    engine = Engine(httpx.Response(200, json=STATE))
    state = Api(kind, engine).call("get_flow_state", "wf-1")
    assert isinstance(state, FlowState)
    assert state.status is FlowStatus.COMPLETED and state.terminal and not state.deactivated
    execution = state.executions["double"]
    assert execution.status is StepStatus.COMPLETED
    assert execution.work_items["t1"].status is WorkStatus.SUCCEEDED
    assert state.value("value") == 21 and state.values() == {"value": 21}
    # The original SDK's dict access, value for value.
    assert state["status"] == "completed"
    assert state["attributes"]["value"][0]["value"] == 21
    assert state["executions"]["double"]["work_items"]["t1"]["status"] == "succeeded"
    assert state["created_at"] == "2026-01-02T03:04:05Z"
    assert state.get("error") == "" and state.get("nope") is None
    assert state.to_dict() == STATE  # the engine's JSON, field for field
    assert engine.last.url.path == "/engine/flow/wf-1"


def test_plan_is_an_execution_plan(kind: str) -> None:
    plan = {"goals": ["g"], "required": ["x"], "steps": {}, "attributes": {}}
    engine = Engine(httpx.Response(200, json=plan))
    preview = Api(kind, engine).call("plan", ["g"], {"x": [1]})
    assert isinstance(preview, ExecutionPlan)
    assert preview.required == ["x"] and preview["required"] == ["x"]
    assert body(engine.last) == {"goals": ["g"], "init": {"x": [1]}}


def test_events_are_typed(kind: str) -> None:
    events = [
        {
            "sequence": 0,
            "timestamp": "2026-01-02T03:04:05Z",
            "type": "flow_started",
            "aggregate_id": ["flow", "wf-1"],
            "data": {"flow_id": "wf-1"},
        }
    ]
    engine = Engine(httpx.Response(200, json={"events": events, "count": 1}))
    got = Api(kind, engine).call("flow_events", "wf-1")
    assert got == [
        FlowEvent(
            type="flow_started",
            sequence=0,
            timestamp=got[0].timestamp,
            aggregate_id=["flow", "wf-1"],
            data={"flow_id": "wf-1"},
        )
    ]
    assert got[0].flow_id == "wf-1" and got[0]["type"] == "flow_started"
    assert engine.last.url.path == "/engine/flow/wf-1/events"


# -- errors -----------------------------------------------------------------------


def test_errors_are_translated_the_same_way(kind: str) -> None:
    engine = Engine(
        error(404, "flow not found: nope"),
        httpx.ConnectError("refused"),
        error(409, "step exists: greeting"),
        httpx.Response(500, text="boom"),
    )
    api = Api(kind, engine)
    with pytest.raises(FlowError) as info:
        api.call("get_flow_state", "nope")
    assert (info.value.message, info.value.status_code) == ("flow not found: nope", 404)
    with pytest.raises(FlowError, match=r"cannot reach the engine at http://engine\.test") as info:
        api.call("get_flow_state", "nope")
    assert info.value.status_code is None
    step = Step(id="greeting", name="G", type="sync")
    with pytest.raises(StepRegistrationError) as reg:
        api.call("register_step", step)
    assert reg.value.status_code == 409
    with pytest.raises(ClientError) as other:
        api.call("list_steps")
    assert (other.value.message, other.value.status_code) == ("boom", 500)


# -- flows() paging ----------------------------------------------------------------


def page(ids: list[str], cursor: str = "") -> httpx.Response:
    flows = [{"id": i, "status": "active", "timestamp": "2026-01-02T03:04:05Z"} for i in ids]
    answer: dict[str, Any] = {"flows": flows, "count": len(flows)}
    if cursor:
        answer |= {"has_more": True, "next_cursor": cursor}
    return httpx.Response(200, json=answer)


def test_flows_iterates_across_cursor_pages(kind: str) -> None:
    engine = Engine(page(["a", "b"], "c1"), page(["c", "d"], "c2"), page(["e"]))
    flows = Api(kind, engine).flows(status="active", labels={"team": "x"}, prefix="wf", page_size=2)
    assert [f.id for f in flows] == ["a", "b", "c", "d", "e"]
    assert all(f.status is FlowStatus.ACTIVE for f in flows)
    queries = [body(r) for r in engine.requests]
    assert queries[0] == {
        "id_prefix": "wf",
        "labels": {"team": "x"},
        "statuses": ["active"],
        "limit": 2,
    }
    assert [q.get("cursor") for q in queries] == [None, "c1", "c2"]
    assert all(r.url.path == "/engine/flow/query" for r in engine.requests)


def test_flows_limit_stops_early_and_asks_only_for_what_is_left(kind: str) -> None:
    engine = Engine(page(["a", "b"], "c1"), page(["c"], "c2"))
    flows = Api(kind, engine).flows(status=["completed", FlowStatus.FAILED], limit=3, page_size=2)
    assert [f.id for f in flows] == ["a", "b", "c"]
    assert [body(r)["limit"] for r in engine.requests] == [2, 1]
    assert body(engine.requests[0])["statuses"] == ["completed", "failed"]


def test_flows_rejects_bad_arguments_before_any_request(kind: str) -> None:
    api = Api(kind, Engine())
    with pytest.raises(ValueError, match="'done' is not a valid FlowStatus"):
        api.client.flows(status="done")
    with pytest.raises(ValueError, match="page_size must be between 1 and 1000"):
        api.client.flows(page_size=0)


# -- waiting ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_async_wait_polls_without_blocking_and_times_out() -> None:
    active = httpx.Response(200, json={"id": "f", "status": "active"})
    engine = Engine(active, active, httpx.Response(200, json=STATE))
    client = AsyncClient("http://engine.test", transport=httpx.MockTransport(engine))
    clock = FakeClock()
    flow = AsyncFlowClient(client, "f", sleep=clock.sleep, clock=clock)
    state = asyncio.run(flow.wait(timeout=5, poll_interval=0.25))
    assert state.status is FlowStatus.COMPLETED and clock.sleeps == [0.25, 0.25]

    engine.default = active
    clock = FakeClock()
    flow = AsyncFlowClient(client, "f", sleep=clock.sleep, clock=clock)
    with pytest.raises(TimeoutError, match="not finished after 1s") as info:
        asyncio.run(flow.wait(timeout=1, poll_interval=0.4))
    assert isinstance(info.value, WaitTimeoutError) and info.value.status_code is None
    assert clock.sleeps == pytest.approx([0.4, 0.4, 0.2])


# -- builders ------------------------------------------------------------------------


def test_async_builders_register_and_start() -> None:
    step_json = {"id": "async-task", "name": "AsyncTask", "type": "script"}
    engine = Engine(
        error(404, "step not found: async-task"),
        httpx.Response(201, json={"message": "", "step": step_json}),
        httpx.Response(201, json={"message": "", "flow_id": "order-1"}),
        httpx.Response(200, json={"id": "order-1", "status": "active"}),
    )
    client = AsyncClient("http://engine.test", transport=httpx.MockTransport(engine))

    async def scenario() -> tuple[Step, FlowState]:
        builder = (
            client.new_step("AsyncTask")
            .required("value", AttributeType.NUMBER)
            .with_script("value")
            .update()
        )
        step = await builder.register()
        flow = (
            await client.new_flow("Order 1")
            .with_goals("async-task")
            .with_initial_state({"value": [1]})
            .start()
        )
        assert flow.flow_id == "order-1"
        return step, await flow.get_state()

    step, state = asyncio.run(scenario())
    assert step.id == "async-task"
    assert [(r.method, r.url.path) for r in engine.requests] == [
        ("PUT", "/engine/step/async-task"),
        ("POST", "/engine/step"),
        ("POST", "/engine/flow"),
        ("GET", "/engine/flow/order-1"),
    ]
    assert body(engine.requests[2]) == {
        "id": "Order 1",
        "goals": ["async-task"],
        "init": {"value": [1]},
    }
    assert state.status is FlowStatus.ACTIVE


def test_async_register_failure_names_the_step() -> None:
    engine = Engine(error(400, "invalid step: script does not compile"))
    client = AsyncClient("http://engine.test", transport=httpx.MockTransport(engine))
    builder = client.new_step("Broken").with_script("(")
    with pytest.raises(StepRegistrationError, match="registering step broken failed") as info:
        asyncio.run(builder.register())
    assert info.value.status_code == 400


def test_new_step_takes_a_name_and_derives_the_id_as_the_original(kind: str) -> None:
    api = Api(kind, Engine())
    assert api.client.new_step("AsyncTask").step_id == "async-task"
    assert api.client.new_step("Price Calculator").step_id == "price-calculator"
    assert api.client.new_step().step.name == ""
    assert api.client.new_step("Price Calculator").with_id("pc").step_id == "pc"
