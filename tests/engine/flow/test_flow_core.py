"""The pure flow core driven by the simulator: SPEC sections 5-7 and 9."""

from __future__ import annotations

from typing import Any

import pytest
from flow_sim import OUT, Sim, ok, opt, plan, req, step

from argyll.engine.flow.work import Outcome
from argyll.model import events as ev


def chain() -> tuple[Any, ...]:
    a = step("a", {"data": OUT})
    b = step("b", {"data": req(), "result": OUT})
    c = step("c", {"result": req(), "final": OUT})
    return a, b, c


def test_chain_runs_to_completion_with_goal_result() -> None:  # EXEC-4, TERM-1, TERM-2
    a, b, c = chain()
    sim = Sim(
        plan(["c"], [a, b, c]),
        {
            "a": lambda args: ok(data=1),
            "b": lambda args: ok(result=args["data"] + 1),
            "c": lambda args: ok(final=args["result"] * 10, extra=True),
        },
    ).start()
    assert sim.status == "completed"
    done = sim.of(ev.FlowCompleted)[0]
    assert done.result == {"final": 20}  # WORK-11: undeclared outputs dropped
    assert sim.deactivated  # TERM-7
    assert sim.types[0] == "flow_started"
    assert sim.types[-2:] == ["flow_completed", "flow_deactivated"]


def test_empty_plan_with_satisfied_goal_completes_at_start() -> None:  # FLOW-8, EDGE-1
    sim = Sim(plan(["g"], [], satisfied={"g": ["x"]})).start()
    assert sim.types == ["flow_started", "flow_completed", "flow_deactivated"]
    assert sim.of(ev.FlowCompleted)[0].result == {}


def test_blocked_goal_fails_at_start() -> None:  # FLOW-8, TERM-3
    sim = Sim(plan(["g"], [], blocked={"g": ["x"]})).start()
    assert sim.status == "failed"
    assert sim.of(ev.FlowFailed)[0].error == "flow failed"


def test_goal_failure_fails_flow_with_step_text() -> None:  # TERM-3, TERM-4
    a = step("a", {"x": OUT})
    sim = Sim(plan(["a"], [a]), {"a": lambda _: Outcome("permanent", error="boom")}).start()
    assert sim.status == "failed"
    assert sim.of(ev.FlowFailed)[0].error == "step a failed: boom"


def test_non_goal_failure_with_alternative_provider_completes() -> None:  # EDGE-2, TERM-1
    p1 = step("p1", {"data": OUT})
    p2 = step("p2", {"data": OUT})
    c = step("c", {"data": req(collect="some"), "r": OUT})
    sim = Sim(
        plan(["c"], [p1, p2, c]),
        {
            "p1": lambda _: Outcome("permanent", error="down"),
            "p2": lambda _: ok(data="v"),
            "c": lambda args: ok(r=args["data"]),
        },
    ).start()
    assert sim.step_status("p1") == "failed"
    assert sim.status == "completed"
    assert sim.of(ev.FlowCompleted)[0].result == {"r": ["v"]}


def test_first_collect_skips_unneeded_pending_provider() -> None:  # EXEC-12
    x = step("x", {"seed": OUT})
    p1 = step("p1", {"data": OUT})
    p2 = step("p2", {"seed": req(), "data": OUT})
    c = step("c", {"data": req(), "r": OUT})
    sim = Sim(
        plan(["c"], [x, p1, p2, c]),
        {
            "x": lambda _: None,
            "p1": lambda _: ok(data=1),
            "p2": lambda _: ok(data=2),
            "c": lambda a: ok(r=a["data"]),
        },
    ).start()
    skipped = {e.step_id: e.reason for e in sim.of(ev.StepSkipped)}
    assert skipped.get("p2") == "outputs not needed"
    assert sim.status == "active"  # TERM-1: x is still running
    sim.complete("x", ok(seed=1))
    assert sim.status == "completed" and sim.deactivated


def test_all_collect_with_provider_missing_value_is_unreachable() -> None:  # EDGE-12, EXEC-14
    p1 = step("p1", {"data": OUT})
    p2 = step("p2", {"data": OUT})
    c = step("c", {"data": req(collect="all"), "r": OUT})
    sim = Sim(
        plan(["c"], [p1, p2, c]),
        {"p1": lambda _: ok(data=1), "p2": lambda _: ok(), "c": lambda a: ok(r=a["data"])},
    ).start()
    failed = {e.step_id: e.error for e in sim.of(ev.StepFailed)}
    assert failed["c"] == "required input no longer available"
    assert sim.status == "failed"


def test_collect_modes_pass_expected_values() -> None:  # INPUT-3
    p1 = step("p1", {"v": OUT})
    p2 = step("p2", {"v": OUT})
    seen: dict[str, Any] = {}

    def capture(name: str) -> Any:
        def handler(args: dict[str, Any]) -> Outcome:
            seen[name] = args.get("v")
            return ok()

        return handler

    for mode in ("last", "some", "all"):
        c = step("c", {"v": req(collect=mode)})
        Sim(
            plan(["c"], [p1, p2, c]),
            {"p1": lambda _: ok(v=1), "p2": lambda _: ok(v=2), "c": capture(mode)},
            init={"v": [0]},
        ).start()
    assert seen == {"last": 2, "some": [0, 1, 2], "all": [0, 1, 2]}


def test_none_collect_runs_only_without_values() -> None:  # INPUT-3 none
    p = step("p", {"v": OUT})
    c = step("c", {"v": req(collect="none"), "r": OUT})
    sim = Sim(plan(["c"], [p, c]), {"p": lambda _: ok(), "c": lambda a: ok(r="ran")}).start()
    assert sim.status == "completed"
    assert sim.invocations[-1].args == {}


def test_predicate_false_skips_goal_and_flow_completes() -> None:  # PRED-1, EDGE-3
    g = step("g", {"x": req(), "r": OUT}, predicate="big")
    sim = Sim(
        plan(["g"], [g]),
        {"g": lambda _: ok(r=1)},
        scripts={"big": lambda a: a["x"] > 10},
        init={"x": [5]},
    ).start()
    assert sim.of(ev.StepSkipped)[0].reason == "predicate returned false"
    assert sim.status == "completed"


def test_predicate_error_fails_step() -> None:  # PRED-1
    g = step("g", {"x": req()}, predicate="missing-script")
    sim = Sim(plan(["g"], [g]), {}, init={"x": [1]}).start()
    err = sim.of(ev.StepFailed)[0].error
    assert err.startswith("predicate evaluation failed") and "missing-script" in err


def test_match_gate_skips_and_all_goals_pruned_fails() -> None:  # MATCH-5, MATCH-6
    g = step("g", {"kind": req(match="is-postal"), "r": OUT})
    sim = Sim(
        plan(["g"], [g]),
        {},
        scripts={"is-postal": lambda v: v == "postal"},
        init={"kind": ["email"]},
    ).start()
    skip = sim.of(ev.StepSkipped)[0]
    assert skip.reason == "required match did not match" and skip.unsatisfied == ["kind"]
    assert sim.status == "failed"


def test_match_filters_candidates() -> None:  # MATCH-4
    g = step("g", {"kind": req(match="is-postal", collect="some")})
    seen: list[Any] = []
    Sim(
        plan(["g"], [g]),
        {"g": lambda a: seen.append(a["kind"]) or ok()},
        scripts={"is-postal": lambda v: v.startswith("postal")},
        init={"kind": ["email", "postal-1", "postal-2"]},
    ).start()
    assert seen == [["postal-1", "postal-2"]]


def test_match_error_fails_step() -> None:  # MATCH-2 DECISION
    g = step("g", {"kind": req(match="nope")})
    sim = Sim(plan(["g"], [g]), {}, init={"kind": ["x"]}).start()
    assert sim.of(ev.StepFailed)[0].error.startswith("match evaluation failed")
    assert sim.status == "failed"


def test_optional_default_and_const() -> None:  # INPUT-5, DATA-24
    from argyll.model.step import AttributeSpec, ConstConfig

    g = step(
        "g",
        {"name": opt('"guest"'), "k": AttributeSpec(role="const", const=ConstConfig('{"a": 1}'))},
    )
    sim = Sim(plan(["g"], [g]), {"g": lambda a: ok()}).start()
    assert sim.invocations[0].args == {"name": "guest", "k": {"a": 1}}


def test_optional_deadline_waits_then_uses_value() -> None:  # OPT-2, OPT-4, OPT-6
    p = step("p", {"extra": OUT})
    g = step("g", {"extra": opt('"none"', deadline=1000)})
    sim = Sim(plan(["g"], [p, g]), {"p": lambda _: None, "g": lambda a: ok()}).start()
    assert sim.step_status("g") == "pending"
    sim.advance(500)
    sim.complete("p", ok(extra="late-but-in-time"))
    assert sim.invocations[-1].args == {"extra": "late-but-in-time"}


def test_optional_deadline_expiry_falls_back() -> None:  # OPT-2 rule 4, OPT-3
    p = step("p", {"extra": OUT})
    g = step("g", {"extra": opt('"none"', deadline=1000)})
    sim = Sim(plan(["g"], [p, g]), {"p": lambda _: None, "g": lambda a: ok()}).start()
    sim.advance(1000)
    g_calls = [i for i in sim.invocations if i.step_id == "g"]
    assert g_calls and g_calls[0].args == {"extra": "none"}
    assert sim.status == "active"  # OPT-5: p keeps running; TERM-1 waits for it
    sim.complete("p", ok(extra="too late"))
    assert sim.status == "completed" and sim.deactivated


def test_optional_zero_deadline_does_not_wait() -> None:  # OPT-4
    p = step("p", {"extra": OUT})
    g = step("g", {"extra": opt()})
    sim = Sim(plan(["g"], [p, g]), {"p": lambda _: None, "g": lambda a: ok()}).start()
    assert [i.step_id for i in sim.invocations] == ["p", "g"]
    assert sim.invocations[1].args == {}


def test_for_each_product_and_aggregation() -> None:  # WORK-3, WORK-10
    g = step(
        "g",
        {"a": req(for_each=True), "b": req(for_each=True), "r": OUT},
        work=__import__("argyll.model.step", fromlist=["WorkConfig"]).WorkConfig(parallelism=8),
    )
    sim = Sim(
        plan(["g"], [g]),
        {"g": lambda a: ok(r=f"{a['a']}{a['b']}")},
        init={"a": [[1, 2]], "b": [["x", "y"]]},
    ).start()
    overlays = list(sim.of(ev.StepStarted)[0].work_items.values())
    assert overlays == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    result = sim.of(ev.FlowCompleted)[0].result
    assert result["r"][0] == {"a": 1, "b": "x", "r": "1x"}
    assert len(result["r"]) == 4


def test_for_each_singleton_gives_plain_outputs() -> None:  # WORK-9
    g = step("g", {"a": req(for_each=True), "r": OUT})
    sim = Sim(plan(["g"], [g]), {"g": lambda a: ok(r=a["a"])}, init={"a": [[7]]}).start()
    assert sim.of(ev.FlowCompleted)[0].result == {"r": 7}


def test_for_each_empty_array_completes_without_outputs() -> None:  # EDGE-5
    g = step("g", {"a": req(for_each=True), "r": OUT})
    sim = Sim(plan(["g"], [g]), {}, init={"a": [[]]}).start()
    assert sim.status == "completed"
    assert sim.of(ev.StepCompleted)[0].outputs == {}


def test_too_many_work_items_fails_step() -> None:  # WORK-3, FLOW-9 (limit 100 in the sim)
    # At start the overflow aborts the start (FLOW-9); after it, the step fails
    # (EDGE-11, tests/engine/flow/test_flow_dataflow.py).
    from argyll.engine.flow.work import TooManyWorkItems

    g = step("g", {"a": req(for_each=True)})
    with pytest.raises(TooManyWorkItems, match=r"too many work items: 101 \(max 100\)"):
        Sim(plan(["g"], [g]), {}, init={"a": [list(range(101))]}).start()


def test_parallelism_bounds_active_items() -> None:  # WORK-5
    from argyll.model.step import WorkConfig

    g = step("g", {"a": req(for_each=True)}, work=WorkConfig(parallelism=2))
    sim = Sim(plan(["g"], [g]), {"g": lambda _: None}, init={"a": [[1, 2, 3, 4, 5]]}).start()
    assert len(sim.pending) == 2
    sim.complete("g", ok())
    assert len(sim.pending) == 2
    while sim.pending:
        sim.complete("g", ok())
    assert sim.status == "completed"
    assert [i.args["a"] for i in sim.invocations] == [1, 2, 3, 4, 5]  # creation order


def test_transient_failures_retry_with_exponential_backoff() -> None:  # RETRY-3, RETRY-4, RETRY-6
    g = step("g", {"r": OUT})
    sim = Sim(
        plan(["g"], [g]), {"g": lambda _: Outcome("transient", error="work not completed: 503")}
    ).start()
    sim.run_timers()
    retries = sim.of(ev.WorkRetryScheduled)
    assert [r.retry_count for r in retries] == [1, 2, 3]
    from flow_sim import T0

    # RETRY-4 with init 100, max 1000, exponential: due at +100, then +200, then +400.
    offsets = [int((r.next_retry_at - T0).total_seconds() * 1000) for r in retries]
    assert offsets == [100, 300, 700]
    tokens = {i.token for i in sim.invocations}
    assert len(tokens) == 1 and len(sim.invocations) == 4  # same token every time
    assert sim.of(ev.WorkFailed)[0].error == "work not completed: 503"
    assert sim.status == "failed"


def test_backoff_values() -> None:  # RETRY-4
    from argyll.engine.flow.retry import RetrySettings, backoff_ms

    exp = RetrySettings(10, 1000, 10000, "exponential")
    assert [backoff_ms(exp, r) for r in range(6)] == [1000, 2000, 4000, 8000, 10000, 10000]
    assert [backoff_ms(RetrySettings(10, 100, 1000, "linear"), r) for r in range(3)] == [
        100,
        200,
        300,
    ]
    assert [backoff_ms(RetrySettings(10, 100, 1000, "fixed"), r) for r in range(3)] == [
        100,
        100,
        100,
    ]
    assert backoff_ms(RetrySettings(10, 100, 1000, "bogus"), 5) == 100


def test_late_success_completes_item_waiting_for_retry() -> None:  # RETRY-6, WORK-2
    g = step("g", {"r": OUT})
    sim = Sim(plan(["g"], [g]), {"g": lambda _: Outcome("transient", error="x")}).start()
    token = sim.invocations[0].token
    from argyll.engine.flow import decide

    assert sim.state is not None
    sim._take(decide.on_result(sim.state, sim.env(), "g", token, ok(r=1)))
    assert sim.status == "completed"


def test_duplicate_results_are_ignored() -> None:  # WORK-2, ASYNC-5
    g = step("g", {"r": OUT})
    sim = Sim(plan(["g"], [g]), {"g": lambda _: None}).start()
    token = sim.pending[0].token
    sim.complete("g", ok(r=1))
    before = len(sim.events)
    from argyll.engine.flow import decide

    assert sim.state is not None
    tx = decide.on_result(sim.state, sim.env(), "g", token, ok(r=2))
    assert tx.events == [] and len(sim.events) == before


def test_compensation_of_succeeded_items_on_failure() -> None:  # COMP-1, COMP-2, TERM-7
    from argyll.model.step import WorkConfig

    g = step(
        "g", {"a": req(for_each=True)}, compensate="http://svc/undo", work=WorkConfig(parallelism=1)
    )
    calls = iter([ok(), ok(), Outcome("permanent", error="third failed")])
    sim = Sim(plan(["g"], [g]), {"g": lambda _: next(calls)}, init={"a": [[1, 2, 3]]}).start()
    assert sim.status == "failed"
    assert len(sim.compensations) == 2
    assert sim.types.count("comp_started") == 2 and sim.types.count("comp_succeeded") == 2
    assert sim.deactivated
    assert sim.types.index("flow_deactivated") > sim.types.index("comp_succeeded")


def test_compensation_retries_then_fails() -> None:  # COMP-4
    g = step("g", {"a": req(for_each=True)}, compensate="http://svc/undo")
    calls = iter([ok(), Outcome("permanent", error="x")])
    sim = Sim(plan(["g"], [g]), {"g": lambda _: next(calls)}, init={"a": [[1, 2]]})
    sim.comp_handler = lambda c: ("transient", "503")
    sim.start()
    assert not sim.deactivated  # compensating
    sim.run_timers()
    assert sim.types.count("comp_retry_scheduled") == 3
    assert sim.of(ev.CompFailed)[0].error == "503"
    assert sim.deactivated


def test_no_compensation_without_url() -> None:  # COMP-1 DECISION, EDGE-7
    g = step("g", {"a": req(for_each=True)})
    calls = iter([ok(), Outcome("permanent", error="x")])
    sim = Sim(plan(["g"], [g]), {"g": lambda _: next(calls)}, init={"a": [[1, 2]]}).start()
    assert sim.compensations == [] and sim.deactivated


def test_memoized_result_skips_invocation() -> None:  # MEMO-3, MEMO-4
    g = step("g", {"x": req(), "r": OUT}, memoizable=True)
    sim = Sim(plan(["g"], [g]), {"g": lambda a: ok(r=a["x"] * 2)}, init={"x": [4]}).start()
    sim2 = Sim(plan(["g"], [g]), {"g": lambda a: ok(r=-1)}, init={"x": [4]})
    sim2.memo = sim.memo
    sim2.start()
    assert sim2.invocations == []
    hit = sim2.of(ev.WorkSucceeded)[0]
    assert hit.cached and hit.outputs == {"r": 8}
    assert "work_started" not in sim2.types
    assert sim2.of(ev.FlowCompleted)[0].result == {"r": 8}


def test_unhealthy_step_defers_dispatch() -> None:  # HEALTH-6, WORK-6
    healthy = {"g": False}
    g = step("g", {"r": OUT})
    sim = Sim(plan(["g"], [g]), {"g": lambda _: ok(r=1)}, healthy=lambda s: healthy[s]).start()
    assert sim.step_status("g") == "active" and sim.invocations == []
    sim.advance(1000)
    assert "dispatch_deferred" in sim.types
    healthy["g"] = True
    sim.advance(1000)
    assert sim.status == "completed"


def test_late_result_after_terminal_is_recorded() -> None:  # TERM-6, TERM-7
    a = step("a", {"x": OUT})
    b = step("b", {"y": OUT})
    sim = Sim(
        plan(["a", "b"], [a, b]),
        {"a": lambda _: Outcome("permanent", error="no"), "b": lambda _: None},
    ).start()
    assert sim.status == "failed" and not sim.deactivated
    sim.complete("b", ok(y=1))
    assert sim.step_status("b") == "completed"
    assert sim.deactivated


def test_replay_of_recorded_events_rebuilds_state() -> None:  # EVT-1, EVT-12
    from datetime import UTC, datetime

    from argyll.engine.flow.state import fold

    a, b, c = chain()
    sim = Sim(
        plan(["c"], [a, b, c]),
        {"a": lambda _: ok(data=1), "b": lambda a: ok(result=2), "c": lambda a: ok(final=3)},
    ).start()
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    replayed = fold((e, ts) for e in sim.events)
    assert replayed.status == "completed"
    assert {k: [v.value for v in vs] for k, vs in replayed.attributes.items()} == {
        "data": [1],
        "result": [2],
        "final": [3],
    }
