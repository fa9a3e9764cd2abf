"""Dataflow rules found while testing over HTTP (issue 5): work-item overflow
at and after start, and optional inputs resolved at their deadline.
"""

from __future__ import annotations

import pytest
from flow_sim import OUT, Sim, ok, opt, plan, req, step

from argyll.engine.flow.work import TooManyWorkItems
from argyll.model import events as ev


def test_overflow_at_start_aborts_the_start() -> None:  # FLOW-9
    g = step("g", {"a": req(for_each=True)})
    with pytest.raises(TooManyWorkItems, match="too many work items: 101"):
        Sim(plan(["g"], [g]), {}, init={"a": [list(range(101))]}).start()


def test_overflow_after_start_fails_only_that_step() -> None:  # EDGE-11, EXEC-5
    gen = step("gen", {"a": OUT})
    g = step("g", {"a": req(for_each=True), "r": OUT})
    sim = Sim(plan(["g"], [gen, g]), {"gen": lambda _: ok(a=list(range(101)))}).start()
    failed = sim.of(ev.StepFailed)
    assert [(f.step_id, f.error) for f in failed] == [("g", "too many work items: 101 (max 100)")]
    assert sim.status == "failed" and sim.deactivated
    assert not [e for e in sim.of(ev.StepStarted) if e.step_id == "g"]


@pytest.mark.parametrize(
    ("collect", "expected"),
    [
        ("first", 1),  # fulfilled in time
        ("last", 2),  # the latest value that arrived by the deadline
        ("some", [1, 2]),  # the values that arrived by the deadline
        ("all", "d"),  # not every provider completed: default
        ("none", "d"),  # never carries an upstream value (OPT-4)
    ],
)
def test_deadline_resolves_per_collect_with_providers_still_running(
    collect: str, expected: object
) -> None:  # OPT-2 rule 4, OPT-3, INPUT-5
    p1 = step("p1", {"o": OUT})
    p2 = step("p2", {"o": OUT})
    p3 = step("p3", {"o": OUT})
    g = step("g", {"o": opt('"d"', collect=collect, deadline=1000)})
    handlers = {
        "p1": lambda _: ok(o=1),
        "p2": lambda _: None,
        "p3": lambda _: None,
        "g": lambda _: ok(),
    }
    sim = Sim(plan(["g"], [p1, p2, p3, g]), handlers).start()
    sim.advance(300)
    sim.complete("p2", ok(o=2))
    if collect != "first":
        assert sim.step_status("g") == "pending"
    sim.advance(700)  # the deadline; p3 is still running
    calls = [i for i in sim.invocations if i.step_id == "g"]
    assert calls and calls[0].args == {"o": expected}
    sim.complete("p3", ok(o=3))
    assert sim.status == "completed"  # OPT-5: the late value is recorded, g is not re-run
    assert len([i for i in sim.invocations if i.step_id == "g"]) == 1


@pytest.mark.parametrize(("collect", "expected"), [("last", 1), ("some", [1]), ("first", 1)])
def test_zero_deadline_uses_values_present_at_the_anchor(
    collect: str, expected: object
) -> None:  # OPT-2 rule 3, OPT-4
    p1 = step("p1", {"o": OUT})
    p2 = step("p2", {"o": OUT})
    r = step("r", {"x": OUT})
    g = step("g", {"x": req(), "o": opt('"d"', collect=collect)})
    handlers = {
        "p1": lambda _: ok(o=1),
        "p2": lambda _: None,
        "r": lambda _: None,
        "g": lambda _: ok(),
    }
    sim = Sim(plan(["g"], [p1, p2, r, g]), handlers).start()
    sim.complete("r", ok(x="go"))  # the anchor: p2 still runs
    calls = [i for i in sim.invocations if i.step_id == "g"]
    assert calls[0].args == {"x": "go", "o": expected}


@pytest.mark.parametrize("required", [True, False])
def test_a_value_for_a_none_input_makes_the_consumer_unreachable(
    required: bool,
) -> None:  # INPUT-3 none, EXEC-13, EXEC-14, TERM-4
    p = step("p", {"v": OUT})
    w = step("w", {"x": OUT})
    spec = req(collect="none") if required else opt(collect="none")
    c = step("c", {"v": spec, "x": req(), "r": OUT})
    sim = Sim(
        plan(["c"], [p, w, c]), {"p": lambda _: None, "w": lambda _: None, "c": lambda _: ok()}
    )
    sim.start()
    sim.complete("p", ok(v="here"))
    if required:
        failed = sim.of(ev.StepFailed)
        assert [(f.step_id, f.error) for f in failed] == [
            ("c", "required input no longer available")
        ]
        assert sim.status == "failed"
    else:  # an optional `none` input never blocks: the default, or omitted (OPT-4)
        sim.complete("w", ok(x=1))
        assert [i.args for i in sim.invocations if i.step_id == "c"] == [{"x": 1}]
        assert sim.status == "completed"


def test_all_input_unreachable_when_its_last_provider_completes() -> None:
    # EDGE-12, EXEC-14: the provider without a value finishes first; the last
    # provider's completion (with a value) is what leaves no path.
    p1 = step("p1", {"v": OUT})
    p2 = step("p2", {"v": OUT})
    c = step("c", {"v": req(collect="all"), "r": OUT})
    sim = Sim(plan(["c"], [p1, p2, c]), {"p1": lambda _: None, "p2": lambda _: None})
    sim.start()
    sim.complete("p2", ok())  # completes without producing v
    assert sim.step_status("c") == "pending"
    sim.complete("p1", ok(v=1))
    failed = sim.of(ev.StepFailed)
    assert [(f.step_id, f.error) for f in failed] == [("c", "required input no longer available")]
    assert sim.state is not None and sim.state.error == (
        "step c failed: required input no longer available"
    )
