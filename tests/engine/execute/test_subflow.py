"""Flow steps (SUB-1..5): child IDs, the parent's outcome from a child, and the
start/propagate logic against a recording stand-in for the runner."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from argyll.engine.execute.subflow import PARENT_KEYS, Subflows, child_flow_id, child_outcome
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.tx import InvokeWork
from argyll.errors import ConflictError, InternalError
from argyll.model.flow import AttributeValue, FlowState
from argyll.model.plan import ExecutionPlan
from argyll.model.step import (
    AttributeMapping,
    AttributeSpec,
    FlowConfig,
    OutputConfig,
    Step,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def flow_step(*outputs: tuple[str, str]) -> Step:
    """A flow step whose outputs map child attribute ``inner`` to ``name``."""
    attributes: dict[str, AttributeSpec | None] = {"n": AttributeSpec(role="required")}
    for name, inner in outputs:
        mapping = AttributeMapping(name=inner) if inner else None
        attributes[name] = AttributeSpec(role="output", output=OutputConfig(mapping=mapping))
    return Step(id="sub", name="Sub", type="flow", attributes=attributes, flow=FlowConfig(["g"]))


def child(status: str, attributes: dict[str, list[Any]], error: str = "") -> FlowState:
    return FlowState(
        id="parent:sub:t1",
        status=status,  # type: ignore[arg-type]
        deactivated_at=T0,
        attributes={k: [AttributeValue(v, T0) for v in vs] for k, vs in attributes.items()},
        error=error,
        metadata={
            "parent_flow_id": "parent",
            "parent_step_id": "sub",
            "parent_work_item_token": "t1",
        },
    )


def test_child_flow_id_joins_parent_step_and_token() -> None:  # DATA-5
    assert child_flow_id("order-1", "ship", "tok") == "order-1:ship:tok"


def test_a_completed_child_gives_its_first_values() -> None:  # SUB-5
    outcome = child_outcome(flow_step(("total", "sum")), child("completed", {"sum": [3, 4]}))
    assert outcome == Outcome("success", {"sum": 3})


def test_a_missing_mapped_output_fails_the_item() -> None:  # SUB-5
    outcome = child_outcome(flow_step(("total", "sum")), child("completed", {"other": [1]}))
    assert outcome == Outcome("permanent", error="flow output missing: sum")
    # an unmapped output (no inner name) is not required of the child
    assert child_outcome(flow_step(("total", "")), child("completed", {})).kind == "success"


def test_a_failed_child_fails_the_item_with_its_error() -> None:  # SUB-5
    assert child_outcome(flow_step(), child("failed", {}, "boom")) == Outcome(
        "permanent", error="boom"
    )
    assert child_outcome(flow_step(), child("failed", {})).error == "child flow failed"


class Runner:
    """Records what Subflows asks of the runner; answers from ``states``."""

    def __init__(self, started: bool | Exception = True) -> None:
        self.started = started
        self.starts: list[tuple[str, ExecutionPlan, dict[str, list[Any]], dict[str, Any]]] = []
        self.states: dict[str, FlowState] = {}
        self.records: list[tuple[str, str, str, Outcome]] = []

    async def start(
        self,
        flow_id: str,
        plan: ExecutionPlan,
        init: dict[str, list[Any]],
        *,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        self.starts.append((flow_id, plan, init, dict(metadata or {})))
        if isinstance(self.started, Exception):
            raise self.started
        return self.started

    async def state(self, flow_id: str) -> FlowState | None:
        return self.states.get(flow_id)

    async def record(self, flow_id: str, step_id: str, token: str, outcome: Outcome) -> None:
        self.records.append((flow_id, step_id, token, outcome))


CHILD_PLAN = ExecutionPlan(goals=["g"], required=["n"])


def parent(children: dict[str, ExecutionPlan] | None = None) -> FlowState:
    step = flow_step(("total", "sum"))
    plan = ExecutionPlan(
        goals=["sub"],
        steps={"sub": step},
        children={"sub": CHILD_PLAN} if children is None else children,
    )
    return FlowState(id="parent", plan=plan, metadata={"trace": "x"})


def start_child(runner: Runner, state: FlowState, args: dict[str, Any]) -> Outcome | None:
    subflows = Subflows(runner)  # type: ignore[arg-type]
    effect = InvokeWork(step_id="sub", token="t1", args=args, metadata={})
    return asyncio.run(subflows.start_child(state, state.plan.steps["sub"], effect))


def test_start_child_starts_the_planned_child_with_parent_metadata() -> None:  # SUB-1, SUB-2
    runner = Runner()
    assert start_child(runner, parent(), {"n": 5}) is None  # the child reports later
    [(flow_id, plan, init, metadata)] = runner.starts
    assert flow_id == "parent:sub:t1" and plan == CHILD_PLAN and init == {"n": [5]}
    assert metadata == {
        "trace": "x",
        "parent_flow_id": "parent",
        "parent_step_id": "sub",
        "parent_work_item_token": "t1",
    }
    assert set(PARENT_KEYS) <= set(metadata)


def test_start_child_fails_at_once_without_a_plan_or_required_inputs() -> None:  # SUB-1
    runner = Runner()
    assert start_child(runner, parent(children={}), {"n": 5}) == Outcome(
        "permanent", error="no child plan for step sub"
    )
    assert start_child(runner, parent(), {}) == Outcome(
        "permanent", error="required inputs not provided: [n]"
    )
    assert runner.starts == []


@pytest.mark.parametrize(
    "error", [ConflictError("flow exists: parent:sub:t1"), InternalError("no plan")]
)
def test_a_refused_child_start_fails_the_item(error: Exception) -> None:  # SUB-1
    outcome = start_child(Runner(started=error), parent(), {"n": 5})
    assert outcome is not None and outcome.kind == "permanent"
    assert outcome.error == str(getattr(error, "message", error))


def test_re_invoking_an_item_whose_child_is_over_reports_at_once() -> None:  # REC-4, SUB-5
    runner = Runner(started=False)
    assert start_child(runner, parent(), {"n": 5}) is None  # still running: wait for it
    runner.states["parent:sub:t1"] = child("completed", {"sum": [9]})
    assert start_child(runner, parent(), {"n": 5}) == Outcome("success", {"sum": 9})


def test_propagate_records_the_outcome_on_the_parent_item() -> None:  # SUB-5, TERM-9
    runner = Runner()
    runner.states["parent"] = parent()
    subflows = Subflows(runner)  # type: ignore[arg-type]
    asyncio.run(subflows.propagate(child("completed", {"sum": [2]})))
    assert runner.records == [("parent", "sub", "t1", Outcome("success", {"sum": 2}))]


def test_propagate_ignores_top_level_flows_and_missing_parents() -> None:
    runner = Runner()
    subflows = Subflows(runner)  # type: ignore[arg-type]
    top = FlowState(id="top", status="completed", deactivated_at=T0)
    asyncio.run(subflows.propagate(top))
    asyncio.run(subflows.propagate(child("completed", {"sum": [2]})))  # parent unknown
    assert runner.records == []
