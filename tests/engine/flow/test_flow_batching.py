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
    assert [type(e).TYPE for e in batched.events] == [type(e).TYPE for e in sequential.events]
    assert msgspec.to_builtins(batched.state) == msgspec.to_builtins(sequential.state)


def test_batch_ignores_invalid_transitions() -> None:  # WORK-2
    sim = fan_out()
    token = sim.pending[0].token
    assert sim.state is not None
    tx = decide.on_results(sim.state, sim.env(), [("g", token, ok(r=1)), ("g", token, ok(r=2))])
    assert [type(e).TYPE for e in tx.events].count("work_succeeded") == 1
