"""The SDK against a real engine: the ``examples/sdk_*.py`` scripts and the
client, builders, step servers and contexts they rely on.

Examples share one engine per module (``isolated_engine_url``); the other
tests get a fresh in-process engine each (``engine_url`` from
tests/conftest.py, its ``WEBHOOK_BASE_URL`` pointing at itself). Step servers
are the SDK's own (``StepBuilder.serve``) on loopback ports.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from argyll import AsyncContext, AttributeType, Client, StepContext
from argyll.errors import FlowError, HTTPError, StepRegistrationError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(engine_url: str) -> Iterator[Client]:
    with Client(engine_url) as sdk_client:
        yield sdk_client


def value(state: dict[str, Any], name: str) -> Any:
    """The first value of a flow attribute (DATA-32)."""
    return state["attributes"][name][0]["value"]


# -- the examples ---------------------------------------------------------------


def test_price_calculator_example(isolated_engine_url: str) -> None:
    total = load_example("sdk_price_calculator").main(
        isolated_engine_url, unit_price=12.5, quantity=4
    )
    assert total == 50


def test_greeting_server_example(isolated_engine_url: str) -> None:
    assert load_example("sdk_greeting_server").main(isolated_engine_url, "Ada") == "Hello, Ada!"


def test_greeting_server_example_runs_twice(isolated_engine_url: str) -> None:
    """The second run re-registers the step at a new port: 409, then an update."""
    example = load_example("sdk_greeting_server")
    assert example.main(isolated_engine_url, "Grace") == "Hello, Grace!"
    assert example.main(isolated_engine_url, "Linus") == "Hello, Linus!"


def test_async_step_example(isolated_engine_url: str) -> None:
    url = load_example("sdk_async_step").main(isolated_engine_url, "q4-ops")
    assert url == "https://reports.example/q4-ops.pdf"


def test_compensation_example(isolated_engine_url: str) -> None:
    outcome = load_example("sdk_compensation").main(isolated_engine_url)
    assert outcome["status"] == "failed"
    assert "seat Z9 is taken" in outcome["error"]
    assert outcome["released"] == ["A1", "A2"]
    assert outcome["still_reserved"] == []


# -- steps ------------------------------------------------------------------------


def test_registered_steps_are_listed_with_work_defaults(client: Client, uid: str) -> None:
    step = (
        client.new_step()
        .with_id(f"double-{uid}")
        .with_name("Double")
        .required(f"n_{uid}", AttributeType.NUMBER)
        .output(f"twice_{uid}", AttributeType.NUMBER)
        .with_script(f"{{:twice_{uid} (* n_{uid} 2)}}")
        .register()
    )
    assert step.id == f"double-{uid}"
    assert step.work_config is None  # the echo is the submitted step (DATA-15)
    listed = {s.id: s for s in client.list_steps()}
    assert listed[step.id].script == step.script
    stored = client.get_step(step.id)
    assert stored.work_config is not None
    assert stored.work_config.max_retries != 0


def test_engine_side_validation_raises_step_registration_error(client: Client, uid: str) -> None:
    builder = (
        client.new_step()
        .with_id(f"broken-{uid}")
        .with_name("Broken")
        .output(f"x_{uid}")
        .with_script_language("lua", "return {")  # compiles only in the engine
    )
    builder.build()
    with pytest.raises(StepRegistrationError) as info:
        builder.register()
    assert info.value.status_code == 400
    assert "invalid step" in info.value.message
    assert f"broken-{uid}" in info.value.message


# -- flows --------------------------------------------------------------------------


def test_plan_preview_and_flow_errors(client: Client, uid: str) -> None:
    step = (
        client.new_step()
        .with_id(f"inc-{uid}")
        .with_name("Inc")
        .required(f"a_{uid}", AttributeType.NUMBER)
        .output(f"b_{uid}", AttributeType.NUMBER)
        .with_script(f"{{:b_{uid} (+ a_{uid} 1)}}")
        .register()
    )
    plan = client.plan([step.id])
    assert plan["goals"] == [step.id]
    assert plan["required"] == [f"a_{uid}"]

    with pytest.raises(FlowError) as missing:
        client.new_flow(f"f-{uid}").with_goals(step.id).start()
    assert missing.value.status_code == 400
    assert f"a_{uid}" in missing.value.message

    with pytest.raises(FlowError) as unknown:
        client.new_flow(f"g-{uid}").with_goals(f"nope-{uid}").start()
    assert unknown.value.status_code == 404

    with pytest.raises(FlowError) as absent:
        client.flow(f"never-{uid}").get_state()
    assert absent.value.status_code == 404

    flow = (
        client.new_flow(f"Flow {uid}")
        .with_goals(step.id)
        .with_initial_state({f"a_{uid}": [41]})
        .with_labels({"suite": "sdk"})
        .start()
    )
    assert flow.flow_id == f"flow-{uid}"
    state = flow.wait(timeout=30)
    assert state["status"] == "completed"
    assert value(state, f"b_{uid}") == 42
    assert state["labels"] == {"suite": "sdk"}


# -- step servers -------------------------------------------------------------------


def test_handler_context_meta_inputs_and_flow_client(client: Client, uid: str) -> None:
    seen: list[dict[str, Any]] = []

    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        seen.append({"metadata": ctx.metadata, "args": args, "state": ctx.client.get_state()})
        return {f"out_{uid}": args[f"in_{uid}"].upper()}

    builder = (
        client.new_step()
        .with_id(f"ctx-{uid}")
        .with_name("Context")
        .required(f"in_{uid}", AttributeType.STRING)
        .meta("flow", "flow_id")
        .output(f"out_{uid}", AttributeType.STRING)
    )
    with builder.serve(handle):
        flow = (
            client.new_flow(f"ctx-flow-{uid}")
            .with_goals(builder.step_id)
            .with_initial_state({f"in_{uid}": ["abc"]})
            .start()
        )
        state = flow.wait(timeout=30)
    assert state["status"] == "completed"
    assert value(state, f"out_{uid}") == "ABC"
    (call,) = seen
    assert call["args"] == {f"in_{uid}": "abc", "flow": flow.flow_id}
    assert call["metadata"]["flow_id"] == flow.flow_id
    assert call["metadata"]["step_id"] == builder.step_id
    assert call["metadata"]["receipt_token"]
    assert "webhook_url" not in call["metadata"]
    assert call["state"]["id"] == flow.flow_id
    assert call["state"]["status"] == "active"


def test_permanent_http_error_fails_the_flow(client: Client, uid: str) -> None:
    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        raise HTTPError(422, f"card {uid} declined")

    builder = client.new_step().with_id(f"pay-{uid}").with_name("Pay").output(f"paid_{uid}")
    with builder.serve(handle):
        state = client.new_flow(f"pay-flow-{uid}").with_goals(builder.step_id).start().wait()
    assert state["status"] == "failed"
    assert f"card {uid} declined" in state["error"]
    assert "422" in state["error"]


def test_transient_failure_is_retried_with_the_same_token(client: Client, uid: str) -> None:
    tokens: list[str] = []

    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        tokens.append(ctx.receipt_token)
        if len(tokens) == 1:
            raise HTTPError(503, "warming up")
        return {f"ok_{uid}": True}

    builder = (
        client.new_step()
        .with_id(f"flaky-{uid}")
        .with_name("Flaky")
        .output(f"ok_{uid}", AttributeType.BOOLEAN)
        .with_work_config(max_retries=3, init_backoff=50, max_backoff=100)
    )
    with builder.serve(handle):
        state = client.new_flow(f"flaky-flow-{uid}").with_goals(builder.step_id).start().wait()
    assert state["status"] == "completed"
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]


def test_async_failure_through_the_webhook(client: Client, uid: str) -> None:
    def handle(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        async_ctx = AsyncContext(context=ctx)
        threading.Thread(target=async_ctx.fail, args=(f"job {uid} crashed",)).start()
        return {}

    builder = (
        client.new_step()
        .with_id(f"job-{uid}")
        .with_name("Job")
        .with_async_execution()
        .output(f"job_{uid}")
    )
    with builder.serve(handle):
        state = client.new_flow(f"job-flow-{uid}").with_goals(builder.step_id).start().wait()
    assert state["status"] == "failed"
    assert f"job {uid} crashed" in state["error"]


def test_wait_times_out_while_an_async_step_is_pending(client: Client, uid: str) -> None:
    builder = (
        client.new_step()
        .with_id(f"never-{uid}")
        .with_name("Never")
        .with_async_execution()
        .output(f"never_{uid}")
    )
    with builder.serve(lambda ctx, args: {}):
        flow = client.new_flow(f"never-flow-{uid}").with_goals(builder.step_id).start()
        with pytest.raises(FlowError, match="not finished") as info:
            flow.wait(timeout=0.5, poll_interval=0.05)
    assert info.value.status_code is None
