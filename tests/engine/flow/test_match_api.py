"""Required match gates at run time, for every collect mode, in Ale, Lua and
JPath (SPEC 6.4 MATCH-1..6, JPATH-3, SCRIPT-4, PLAN-9, TERM-3).

Two providers produce one value each for the gated attribute ``v`` (p1 then
p2, because p2 waits for p1's ``seq``); the values come from the flow's init
through the providers, so each scenario is just a different init.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dataflow_helpers import (
    Service,
    http_step,
    of_type,
    out,
    register_all,
    req,
    serve,
    status,
)
from support import Api, eventually

GATES = {
    "ale": '(eq (:kind value) "b")',
    "lua": 'return value.kind == "b"',
    "jpath": '$.kind == "b"',
}

B1, B2 = {"kind": "b", "n": 1}, {"kind": "b", "n": 2}
A1, A2 = {"kind": "a", "n": 1}, {"kind": "a", "n": 2}
SKIP = "skip"

# (first value, second value) -> collect -> what the consumer receives, or SKIP
SCENARIOS: list[tuple[str, Any, Any, dict[str, Any]]] = [
    (
        "second-matches",
        A1,
        B2,
        {"first": B2, "last": B2, "some": [B2], "all": SKIP, "none": SKIP},
    ),
    (
        "first-matches",
        B1,
        A2,
        {"first": B1, "last": B1, "some": [B1], "all": SKIP, "none": SKIP},
    ),
    (
        "both-match",
        B1,
        B2,
        {"first": B1, "last": B2, "some": [B1, B2], "all": [B1, B2], "none": SKIP},
    ),
    (
        "none-match",
        A1,
        A2,
        {"first": SKIP, "last": SKIP, "some": SKIP, "all": SKIP, "none": None},
    ),
]


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def providers(svc: Service, uid: str) -> list[dict[str, Any]]:
    v, seq = f"v{uid}", f"seq{uid}"
    return [
        http_step(
            f"p1-{uid}",
            f"{svc.url}/p1-{uid}?{v}=$s1&{seq}=1",
            {f"s1{uid}": req(name="s1"), v: out(), seq: out()},
        ),
        http_step(
            f"p2-{uid}",
            f"{svc.url}/p2-{uid}?{v}=$s2",
            {f"s2{uid}": req(name="s2"), seq: req(), v: out()},
        ),
    ]


def consumer(svc: Service, step_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return http_step(step_id, f"{svc.url}/echo-{step_id}", {**attrs, "echo": out()})


@pytest.mark.parametrize("language", ["ale", "lua", "jpath"])
def test_match_gates_per_collect_mode(
    api: Api, uid: str, svc: Service, language: str
) -> None:  # MATCH-1..6, INPUT-2, JPATH-3, SCRIPT-4, TERM-3
    v = f"v{uid}"
    gate = (language, GATES[language])
    collects = ["first", "last", "some", "all", "none"]
    register_all(
        api,
        *providers(svc, uid),
        *(consumer(svc, f"{c}-{uid}", {v: req(collect=c, match=gate)}) for c in collects),
    )
    flows: dict[str, tuple[str, Any]] = {}
    for name, first, second, expect in SCENARIOS:
        for collect in collects:
            flow_id = f"{name}-{collect}-{uid}"
            init = {f"s1{uid}": [first], f"s2{uid}": [second]}
            r = api.start(flow_id, [f"{collect}-{uid}"], init)
            assert r.status_code == 201, r.text
            flows[flow_id] = (collect, expect[collect])
    for flow_id, (collect, expected) in flows.items():
        state = api.wait_terminal(flow_id)
        ex = state["executions"][f"{collect}-{uid}"]
        if expected == SKIP:
            # MATCH-5: skipped with the unsatisfied names; MATCH-6: the only goal was
            # match-pruned, so the flow fails
            assert ex["status"] == "skipped", (flow_id, ex)
            assert ex["error"] == "required match did not match"
            assert ex["unsatisfied"] == [v]
            assert state["status"] == "failed", flow_id
            skipped = of_type(api.events(flow_id), "step_skipped", f"{collect}-{uid}")[0]
            assert skipped["unsatisfied"] == [v]
        else:
            assert state["status"] == "completed", (flow_id, state)
            received = ex["outputs"]["echo"]
            # MATCH-1, MATCH-4: each candidate is matched before collection, so only
            # matching ones are collected; `none` passes nothing
            assert received == ({} if expected is None else {v: expected}), flow_id


def test_unmatched_gate_skips_without_demanding_other_inputs(
    api: Api, uid: str, svc: Service
) -> None:  # MATCH-5, EXEC-12, EXEC-13
    v, o, w = f"v{uid}", f"o{uid}", f"w{uid}"
    svc.hold(f"/p2-{uid}")
    svc.hold(f"/slow-{uid}")
    register_all(
        api,
        *providers(svc, uid),
        http_step(f"slow-{uid}", f"{svc.url}/slow-{uid}?{w}=1", {w: out()}),
        http_step(f"other-{uid}", f"{svc.url}/out?{o}=1", {w: req(), o: out()}),
        consumer(svc, f"c-{uid}", {v: req(match=("lua", GATES["lua"])), o: req()}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"], {f"s1{uid}": [A1], f"s2{uid}": [A2]})
    # p1's value does not match; p2 is still running, so the gate is unknown: c waits
    eventually(lambda: svc.running(f"/p2-{uid}") == 1)
    state = api.flow(f"wf-{uid}")
    assert [a["value"] for a in state["attributes"][v]] == [A1]
    assert status(state["executions"][f"c-{uid}"]) == "pending"
    svc.release(f"/p2-{uid}")
    # once every provider finished without a match the step is skipped at once, without
    # waiting for its other required input, whose waiting provider is then not needed
    state = eventually(
        lambda: (
            (s := api.flow(f"wf-{uid}"))["executions"][f"c-{uid}"].get("status") == "skipped" and s
        )
    )
    assert state["executions"][f"other-{uid}"]["error"] == "outputs not needed"
    assert status(state["executions"][f"slow-{uid}"]) == "active"
    svc.release(f"/slow-{uid}")
    assert api.wait_terminal(f"wf-{uid}")["status"] == "failed"  # MATCH-6
    assert svc.calls_to(f"/echo-c-{uid}") == []


def test_a_pruned_goal_is_ignored_when_another_goal_completes(
    api: Api, uid: str, svc: Service
) -> None:  # MATCH-6, TERM-1
    v = f"v{uid}"
    register_all(
        api,
        *providers(svc, uid),
        consumer(svc, f"postal-{uid}", {v: req(match=("ale", GATES["ale"]))}),
        consumer(svc, f"email-{uid}", {v: req(match=("ale", '(eq (:kind value) "a")'))}),
    )
    api.start(f"wf-{uid}", [f"postal-{uid}", f"email-{uid}"], {f"s1{uid}": [A1], f"s2{uid}": [A2]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert state["executions"][f"postal-{uid}"]["status"] == "skipped"
    assert state["executions"][f"email-{uid}"]["outputs"]["echo"] == {v: A1}


@pytest.mark.parametrize(
    ("language", "source", "error"),
    [
        ("lua", 'error("boom")', "lua execution error"),
        ("ale", "(first 5)", "error calling procedure"),
    ],
)
def test_match_evaluation_error_fails_the_step(
    api: Api, uid: str, svc: Service, language: str, source: str, error: str
) -> None:  # MATCH-2 [DECISION], EDGE-14
    v = f"v{uid}"
    register_all(
        api,
        *providers(svc, uid),
        consumer(svc, f"c-{uid}", {v: req(match=(language, source))}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"], {f"s1{uid}": [B1], f"s2{uid}": [B2]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "failed"
    ex = state["executions"][f"c-{uid}"]
    assert ex["status"] == "failed"
    assert ex["error"].startswith("match evaluation failed: ") and error in ex["error"]


@pytest.mark.parametrize("language", ["ale", "lua", "jpath"])
def test_init_only_gate_decides_at_start(
    api: Api, uid: str, svc: Service, language: str
) -> None:  # PLAN-9, MATCH-3, MATCH-5, FLOW-8
    u = f"u{uid}"
    register_all(api, consumer(svc, f"c-{uid}", {u: req(match=(language, GATES[language]))}))
    api.start(f"yes-{uid}", [f"c-{uid}"], {u: [A1, B2]})
    api.start(f"no-{uid}", [f"c-{uid}"], {u: [A1, A2]})
    yes = api.wait_terminal(f"yes-{uid}")
    assert yes["status"] == "completed"
    assert yes["executions"][f"c-{uid}"]["outputs"]["echo"] == {u: B2}
    no = api.wait_terminal(f"no-{uid}")
    assert no["status"] == "failed"
    assert no["executions"][f"c-{uid}"]["unsatisfied"] == [u]
