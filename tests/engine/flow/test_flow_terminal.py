"""Terminal effects, abandoned work and settle order (TERM-5, EDGE-4, EXEC-1, EXEC-15, EXEC-20,
EVT-5, EVT-7, EDGE-10)."""

from __future__ import annotations

from flow_sim import OUT, Sim, ok, plan, req, step

from argyll.engine.flow.work import Outcome
from argyll.model import events as ev
from argyll.model.step import ScriptConfig, WorkConfig


def test_no_retry_or_preparation_after_terminal() -> None:  # TERM-5, TERM-6
    a = step("a", {"x": OUT})
    b = step("b", {"y": OUT})
    calls = {"b": 0}

    def flaky(_: object) -> Outcome:
        calls["b"] += 1
        return Outcome("transient", error="busy")

    sim = Sim(plan(["a", "b"], [a, b]), {"a": lambda _: None, "b": flaky}).start()
    assert len(sim.timers) == 1  # b's retry is armed
    sim.complete("a", Outcome("permanent", error="no"))
    assert sim.status == "failed"
    sim.run_timers()
    assert calls["b"] == 1  # the retry timer fired but started nothing
    assert "work_started" not in sim.types[sim.types.index("flow_failed") :]


def test_abandoned_pending_items_do_not_block_deactivation() -> None:  # EDGE-4, TERM-7, WORK-12
    g = step("g", {"a": req(for_each=True)}, work=WorkConfig(parallelism=1))
    sim = Sim(
        plan(["g"], [g]), {"g": lambda _: Outcome("permanent", error="x")}, init={"a": [[1, 2, 3]]}
    ).start()
    assert sim.status == "failed" and sim.deactivated
    assert sim.state is not None
    statuses = [w.status for w in sim.state.executions["g"].work_items.values()]
    assert statuses == ["failed", "pending", "pending"]


def test_step_statuses_and_settle_order() -> None:  # EXEC-1, EXEC-15, EXEC-20
    a = step("a", {"x": OUT})
    b = step("b", {"x": req(), "y": OUT})
    c = step("c", {"y": req()})
    sim = Sim(
        plan(["c"], [a, b, c]),
        {"a": lambda _: ok(x=1), "b": lambda _: ok(y=2), "c": lambda _: ok()},
    ).start()
    assert sim.status == "completed"
    order = [(type(e).TYPE, getattr(e, "step_id", "")) for e in sim.events]
    # each completion is followed by the next step starting in the same write
    assert order.index(("step_completed", "a")) < order.index(("step_started", "b"))
    assert order.index(("step_completed", "b")) < order.index(("step_started", "c"))
    assert {sim.step_status(s) for s in "abc"} == {"completed"}


def test_events_after_terminal_are_recorded_and_payloads_present() -> None:  # EVT-5, EVT-7
    a = step("a", {"x": OUT})
    b = step("b", {"y": OUT})
    sim = Sim(
        plan(["a", "b"], [a, b]),
        {"a": lambda _: Outcome("permanent", error="no"), "b": lambda _: None},
    ).start()
    sim.complete("b", ok())
    late = sim.types[sim.types.index("flow_failed") + 1 :]
    assert "work_succeeded" in late and "step_completed" in late
    completed = sim.of(ev.StepCompleted)[0]
    assert completed.outputs == {}  # present even when empty


def test_empty_predicate_script_is_absent() -> None:  # EDGE-10, PRED-1
    g = step("g", {"r": OUT})
    g = type(g)(
        **{**{f: getattr(g, f) for f in g.__struct_fields__}, "predicate": ScriptConfig("ale", "")}
    )
    sim = Sim(plan(["g"], [g]), {"g": lambda _: ok(r=1)}).start()
    assert sim.status == "completed"
