"""Batched results (decide.on_results) decide exactly what sequential results do."""

from __future__ import annotations

import msgspec
from flow_sim import OUT, Sim, ok, plan, req, step

from argyll.engine.flow import decide
from argyll.engine.flow.work import Outcome
from argyll.model.step import WorkConfig


def fan_out() -> Sim:
    g = step("g", {"a": req(for_each=True), "r": OUT}, work=WorkConfig(parallelism=3))
    return Sim(plan(["g"], [g]), {"g": lambda _: None}, init={"a": [[1, 2, 3, 4]]}).start()


def test_batch_equals_sequential_results() -> None:  # WORK-7, WORK-8, EVT-4
    outcomes = [ok(r=1), Outcome("transient", error="busy"), ok(r=3)]
    sequential = fan_out()
    tokens = [p.token for p in sequential.pending]
    assert sequential.state is not None
    for token, outcome in zip(tokens, outcomes, strict=True):
        sequential._take(decide.on_result(sequential.state, sequential.env(), "g", token, outcome))
    batched = fan_out()
    assert batched.state is not None
    tx = decide.on_results(
        batched.state, batched.env(), [("g", t, o) for t, o in zip(tokens, outcomes, strict=True)]
    )
    batched._take(tx)
    # Same events (only their interleaving inside the write may differ) and state.
    assert sorted(type(e).TYPE for e in batched.events) == sorted(
        type(e).TYPE for e in sequential.events
    )
    assert msgspec.to_builtins(batched.state) == msgspec.to_builtins(sequential.state)


def test_batch_ignores_invalid_transitions() -> None:  # WORK-2
    sim = fan_out()
    token = sim.pending[0].token
    assert sim.state is not None
    tx = decide.on_results(sim.state, sim.env(), [("g", token, ok(r=1)), ("g", token, ok(r=2))])
    assert [type(e).TYPE for e in tx.events].count("work_succeeded") == 1


def test_batch_with_a_failure_fails_the_step_once_and_compensates() -> None:  # WORK-8, COMP-2
    g = step(
        "g", {"a": req(for_each=True)}, compensate="http://svc/undo", work=WorkConfig(parallelism=3)
    )
    sim = Sim(plan(["g"], [g]), {"g": lambda _: None}, init={"a": [[1, 2, 3]]}).start()
    tokens = [p.token for p in sim.pending]
    assert sim.state is not None
    tx = decide.on_results(
        sim.state,
        sim.env(),
        [
            ("g", tokens[0], ok()),
            ("g", tokens[1], Outcome("permanent", error="boom")),
            ("g", tokens[2], ok()),
        ],
    )
    types = [type(e).TYPE for e in tx.events]
    assert types.count("step_failed") == 1 and types.count("comp_started") == 2
    assert tx.state.executions["g"].error == "boom"
    assert tx.state.status == "failed"
