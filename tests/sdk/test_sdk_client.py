"""Client, FlowClient and registration against httpx.MockTransport: exact requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from argyll import AttributeType, Client, ExecutionPlan, FlowClient, FlowState, FlowStatus
from argyll.errors import ClientError, FlowError, StepRegistrationError, WaitTimeoutError
from argyll.model.step import Step
from argyll.sdk.registration import register_or_update

Reply = httpx.Response | Exception


class Engine:
    """A scripted engine: records requests and answers from a queue (or a default)."""

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

    def client(self, base_url: str = "http://engine.test") -> Client:
        return Client(base_url, transport=httpx.MockTransport(self))

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": message, "status": status})


def greeting_step() -> Step:
    return (
        Client()
        .new_step()
        .with_name("Greeting")
        .required("name", AttributeType.STRING)
        .output("greeting", AttributeType.STRING)
        .with_endpoint("http://svc/greeting")
        .build()
    )


GREETING_JSON = {
    "id": "greeting",
    "name": "Greeting",
    "type": "sync",
    "attributes": {
        "name": {"role": "required", "type": "string"},
        "greeting": {"role": "output", "type": "string"},
    },
    "http": {"endpoint": "http://svc/greeting", "timeout": 0},
}


# -- base URL -----------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        "http://engine.test",
        "http://engine.test/",
        "http://engine.test/engine",
        "http://engine.test/engine/",
    ],
)
def test_base_url_is_trimmed(given: str) -> None:
    engine = Engine(default=httpx.Response(200, json={"steps": [], "count": 0}))
    client = engine.client(given)
    assert client.base_url == "http://engine.test"
    client.list_steps()
    assert str(engine.last.url) == "http://engine.test/engine/step"


def test_default_base_url() -> None:
    assert Client().base_url == "http://localhost:8080"


# -- steps --------------------------------------------------------------------


def test_register_step_request_and_answer() -> None:
    echoed = {**GREETING_JSON, "id": "greeting"}
    engine = Engine(httpx.Response(201, json={"message": "Step registered", "step": echoed}))
    step = engine.client().register_step(greeting_step())
    request = engine.last
    assert (request.method, request.url.path) == ("POST", "/engine/step")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert body(request) == GREETING_JSON
    assert step == greeting_step()


def test_register_conflict_raises_step_registration_error() -> None:
    engine = Engine(error(409, "step exists: greeting"))
    with pytest.raises(StepRegistrationError) as info:
        engine.client().register_step(greeting_step())
    assert info.value.status_code == 409
    assert info.value.message == "step exists: greeting"
    assert isinstance(info.value, ClientError)


def test_update_step_puts_to_the_step_path() -> None:
    engine = Engine(httpx.Response(200, json={"message": "Step updated", "step": GREETING_JSON}))
    engine.client().update_step(greeting_step())
    assert (engine.last.method, engine.last.url.path) == ("PUT", "/engine/step/greeting")
    assert body(engine.last) == GREETING_JSON


def test_list_get_and_unregister_steps() -> None:
    engine = Engine(
        httpx.Response(200, json={"steps": [GREETING_JSON], "count": 1}),
        httpx.Response(200, json={"steps": None, "count": 0}),
        httpx.Response(200, json=GREETING_JSON),
        httpx.Response(200, json={"message": "Step unregistered"}),
        error(404, "step not found: nope"),
    )
    client = engine.client()
    steps = client.list_steps()
    assert steps == [greeting_step()]
    assert isinstance(steps[0], Step)
    assert client.list_steps() == []
    assert client.get_step("greeting") == greeting_step()
    assert (engine.last.method, engine.last.url.path) == ("GET", "/engine/step/greeting")
    client.unregister_step("greeting")
    assert (engine.last.method, engine.last.url.path) == ("DELETE", "/engine/step/greeting")
    with pytest.raises(ClientError, match="step not found: nope") as info:
        client.get_step("nope")
    assert info.value.status_code == 404


def test_builder_register_names_the_step() -> None:
    engine = Engine(error(400, "invalid step: step endpoint empty"))
    builder = engine.client().new_step().with_name("Greeting").with_endpoint("http://svc/g")
    with pytest.raises(StepRegistrationError) as info:
        builder.register()
    assert info.value.status_code == 400
    assert "greeting" in info.value.message
    assert "invalid step: step endpoint empty" in info.value.message


def test_builder_register_after_update_puts_then_falls_back_to_post() -> None:
    created = httpx.Response(201, json={"message": "Step registered", "step": GREETING_JSON})
    engine = Engine(error(404, "step not found: greeting"), created)
    builder = engine.client().new_step().with_name("Greeting").with_endpoint("http://svc/g")
    builder.update().register()
    assert [(r.method, r.url.path) for r in engine.requests] == [
        ("PUT", "/engine/step/greeting"),
        ("POST", "/engine/step"),
    ]


# -- errors at the seam -------------------------------------------------------


def test_network_error_has_no_status() -> None:
    engine = Engine(httpx.ConnectError("connection refused"))
    with pytest.raises(ClientError) as info:
        engine.client().list_steps()
    assert info.value.status_code is None
    assert "engine.test" in info.value.message
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_non_json_error_body_becomes_the_message() -> None:
    engine = Engine(httpx.Response(502, text="bad gateway from proxy"))
    with pytest.raises(ClientError, match="bad gateway from proxy") as info:
        engine.client().list_steps()
    assert info.value.status_code == 502


def test_unexpected_answer_is_a_client_error() -> None:
    engine = Engine(httpx.Response(200, text="<html>"))
    with pytest.raises(ClientError, match="unexpected answer"):
        engine.client().list_steps()


# -- plans and flows ----------------------------------------------------------


def test_plan_posts_goals_and_init() -> None:
    plan = {"goals": ["greeting"], "required": ["name"], "steps": {}, "attributes": {}}
    engine = Engine(httpx.Response(200, json=plan))
    preview = engine.client().plan(["greeting"], {"name": ["Ada"]})
    assert isinstance(preview, ExecutionPlan)
    assert (preview.goals, preview.required) == (["greeting"], ["name"])
    assert preview["required"] == ["name"]
    assert (engine.last.method, engine.last.url.path) == ("POST", "/engine/plan")
    assert body(engine.last) == {"goals": ["greeting"], "init": {"name": ["Ada"]}}
    engine.replies.append(httpx.Response(200, json=plan))
    engine.client().plan(("greeting",))
    assert body(engine.last) == {"goals": ["greeting"]}


def test_flow_start_request_and_sanitized_id() -> None:
    engine = Engine(httpx.Response(201, json={"message": "", "flow_id": "order-123"}))
    flow = (
        engine.client()
        .new_flow("Order 123")
        .with_goals("greeting")
        .with_initial_state({"name": ["Ada"]})
        .with_labels({"team": "ops"})
        .start()
    )
    assert (engine.last.method, engine.last.url.path) == ("POST", "/engine/flow")
    assert body(engine.last) == {
        "id": "Order 123",
        "goals": ["greeting"],
        "init": {"name": ["Ada"]},
        "labels": {"team": "ops"},
    }
    assert isinstance(flow, FlowClient)
    assert flow.flow_id == "order-123"


def test_flow_start_failure_raises_flow_error() -> None:
    engine = Engine(error(400, "required inputs not provided: [name]"))
    with pytest.raises(FlowError) as info:
        engine.client().new_flow("f").with_goals("greeting").start()
    assert info.value.status_code == 400
    assert info.value.message == "required inputs not provided: [name]"


def test_get_state_reads_the_flow() -> None:
    state = {"id": "f:1", "status": "active"}
    engine = Engine(httpx.Response(200, json=state), error(404, "flow not found: nope"))
    client = engine.client()
    got = client.flow("f:1").get_state()
    assert isinstance(got, FlowState)
    assert (got.id, got.status) == ("f:1", FlowStatus.ACTIVE)
    assert (got["id"], got["status"]) == ("f:1", "active")
    assert engine.last.url.raw_path == b"/engine/flow/f%3A1"
    with pytest.raises(FlowError) as info:
        client.flow("nope").get_state()
    assert info.value.status_code == 404


def test_flow_network_error_is_a_flow_error() -> None:
    engine = Engine(httpx.ReadTimeout("slow"))
    with pytest.raises(FlowError) as info:
        engine.client().flow("f").get_state()
    assert info.value.status_code is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def waiting_flow(engine: Engine, clock: FakeClock) -> FlowClient:
    return FlowClient(engine.client(), "f", sleep=clock.sleep, clock=clock)


def test_wait_polls_until_terminal() -> None:
    done = {"id": "f", "status": "completed", "attributes": {}}
    engine = Engine(
        httpx.Response(200, json={"id": "f", "status": "active"}),
        httpx.Response(200, json={"id": "f", "status": "active"}),
        httpx.Response(200, json=done),
    )
    clock = FakeClock()
    state = waiting_flow(engine, clock).wait(timeout=5, poll_interval=0.25)
    assert (state.id, state.status, state["status"]) == ("f", FlowStatus.COMPLETED, "completed")
    assert clock.sleeps == [0.25, 0.25]
    assert all(r.url.path == "/engine/flow/f" for r in engine.requests)


def test_wait_returns_failed_flows() -> None:
    failed = {"id": "f", "status": "failed", "error": "step a failed: boom"}
    engine = Engine(httpx.Response(200, json=failed))
    state = waiting_flow(engine, FakeClock()).wait()
    assert (state.status, state.error) == (FlowStatus.FAILED, "step a failed: boom")
    assert state.get("error") == "step a failed: boom"


def test_wait_times_out_with_a_timeout_error() -> None:
    engine = Engine(default=httpx.Response(200, json={"id": "f", "status": "active"}))
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError, match="not finished after 1s") as info:
        waiting_flow(engine, clock).wait(timeout=1, poll_interval=0.3)
    assert info.value.status_code is None
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, FlowError)
    assert (info.value.flow_id, info.value.timeout) == ("f", 1)
    assert clock.sleeps == pytest.approx([0.3, 0.3, 0.3, 0.1])


def test_wait_for_deactivation() -> None:
    zero = "0001-01-01T00:00:00Z"
    engine = Engine(
        httpx.Response(200, json={"status": "failed", "deactivated_at": zero}),
        httpx.Response(200, json={"status": "failed", "deactivated_at": "2025-01-01T00:00:00Z"}),
    )
    state = waiting_flow(engine, FakeClock()).wait(deactivated=True)
    assert state["deactivated_at"] == "2025-01-01T00:00:00Z"
    assert state.deactivated
    assert len(engine.requests) == 2


# -- registration with retry ----------------------------------------------------


def created() -> httpx.Response:
    return httpx.Response(201, json={"message": "Step registered", "step": GREETING_JSON})


def test_registration_retries_while_the_engine_starts() -> None:
    engine = Engine(httpx.ConnectError("refused"), error(503, "starting"), created())
    sleeps: list[float] = []
    register_or_update(engine.client(), greeting_step(), sleep=sleeps.append, backoff=0.5)
    assert sleeps == [0.5, 1.0]
    assert [r.method for r in engine.requests] == ["POST", "POST", "POST"]


def test_registration_conflict_updates() -> None:
    updated = httpx.Response(200, json={"message": "Step updated", "step": GREETING_JSON})
    engine = Engine(error(409, "step exists: greeting"), updated)
    register_or_update(engine.client(), greeting_step(), sleep=lambda _: None)
    assert [(r.method, r.url.path) for r in engine.requests] == [
        ("POST", "/engine/step"),
        ("PUT", "/engine/step/greeting"),
    ]


def test_registration_update_first_falls_back_to_register() -> None:
    engine = Engine(error(404, "step not found: greeting"), created())
    register_or_update(engine.client(), greeting_step(), update=True, sleep=lambda _: None)
    assert [r.method for r in engine.requests] == ["PUT", "POST"]


def test_registration_does_not_retry_rejections() -> None:
    engine = Engine(error(400, "invalid step: attribute type conflict: name"))
    with pytest.raises(StepRegistrationError, match="attribute type conflict") as info:
        register_or_update(engine.client(), greeting_step(), sleep=lambda _: None)
    assert info.value.status_code == 400
    assert "greeting" in info.value.message
    assert len(engine.requests) == 1


def test_registration_gives_up_after_attempts() -> None:
    engine = Engine(default=httpx.ConnectError("refused"))
    sleeps: list[float] = []
    with pytest.raises(StepRegistrationError, match="after 3 attempts") as info:
        register_or_update(engine.client(), greeting_step(), attempts=3, sleep=sleeps.append)
    assert info.value.status_code is None
    assert sleeps == [0.5, 1.0]
    assert len(engine.requests) == 3
