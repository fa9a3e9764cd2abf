"""Collection policies at run time over HTTP: first/last/some/all/none for
required and optional inputs, lazy pruning of providers and unreachable
consumers (SPEC 6.2 INPUT-1..5, EXEC-2, EXEC-3, EXEC-12..14, WORK-13, EDGE-12).

Providers are sync HTTP steps on a loopback service whose query string names
their outputs (``/out?v=$s`` answers ``{"v": <argument s>}``); consumers echo
the arguments they were invoked with, so ``outputs.echo`` is what they got.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dataflow_helpers import (
    Service,
    http_step,
    of_type,
    opt,
    out,
    problem,
    register_all,
    req,
    serve,
    status,
)
from starlette.responses import Response
from support import Api, eventually


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def echo_step(svc: Service, step_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return http_step(step_id, f"{svc.url}/echo-{step_id}", {**attrs, "echo": out()})


def got(state: dict[str, Any], step_id: str) -> Any:
    """The arguments a consumer was invoked with."""
    return state["executions"][step_id]["outputs"]["echo"]


def test_first_starts_on_the_first_value_and_prunes_pending_providers(
    api: Api, uid: str, svc: Service
) -> None:  # INPUT-3 first, EXEC-2, EXEC-12, TERM-1
    v, w = f"v{uid}", f"w{uid}"
    svc.hold(f"/slow-{uid}")
    register_all(
        api,
        http_step(f"fast-{uid}", f"{svc.url}/out?{v}=1", {v: out()}),
        http_step(f"slow-{uid}", f"{svc.url}/slow-{uid}?{w}=1", {w: out()}),
        http_step(f"late-{uid}", f"{svc.url}/late-{uid}?{v}=2", {w: req(), v: out()}),
        echo_step(svc, f"c-{uid}", {v: req()}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"])

    def c_done() -> Any:
        s = api.flow(f"wf-{uid}")
        return s if status(s["executions"][f"c-{uid}"]) == "completed" else None

    state = c_done() or eventually(c_done)
    assert got(state, f"c-{uid}") == {v: 1}
    late = state["executions"][f"late-{uid}"]
    # EXEC-12: nobody needs another v any more, so the waiting provider is skipped
    assert late["status"] == "skipped" and late["error"] == "outputs not needed"
    # TERM-1: the running provider keeps the flow active until it finishes
    assert state["status"] == "active"
    assert status(state["executions"][f"slow-{uid}"]) == "active"
    svc.release(f"/slow-{uid}")
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert svc.calls_to(f"/late-{uid}") == []


@pytest.mark.parametrize(
    ("collect", "expected"),
    [("last", "two"), ("some", ["seed", "one", "two"]), ("all", ["seed", "one", "two"])],
)
def test_last_some_all_wait_for_every_provider_and_include_init(
    api: Api, uid: str, svc: Service, collect: str, expected: Any
) -> None:  # INPUT-1, INPUT-3, INPUT-5, INPUT-6, WORK-13, MAP-1
    v, seq = f"v{uid}", f"seq{uid}"
    svc.hold(f"/p2-{uid}")
    register_all(
        api,
        http_step(f"p1-{uid}", f'{svc.url}/p1-{uid}?{v}="one"&{seq}=1', {v: out(), seq: out()}),
        http_step(f"p2-{uid}", f'{svc.url}/p2-{uid}?{v}="two"', {seq: req(), v: out()}),
        # inputs are sent under their inner name (INPUT-5, MAP-1)
        echo_step(svc, f"c-{uid}", {v: req(collect=collect, name="inner")}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"], {v: ["seed"]})
    # p1 has produced a value, p2 is running: the consumer keeps waiting
    eventually(lambda: svc.running(f"/p2-{uid}") == 1)
    state = api.flow(f"wf-{uid}")
    assert [a["value"] for a in state["attributes"][v]] == ["seed", "one"]
    assert status(state["executions"][f"c-{uid}"]) == "pending"
    svc.release(f"/p2-{uid}")
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed", state
    assert got(state, f"c-{uid}") == {"inner": expected}
    # INPUT-6: step_started records exactly the inputs the step was invoked with
    events = api.events(f"wf-{uid}")
    assert of_type(events, "step_started", f"c-{uid}")[0]["inputs"] == {"inner": expected}
    # WORK-13: every producer appended its value, with provenance; init values come first
    records = state["attributes"][v]
    assert [(r["value"], r.get("step")) for r in records] == [
        ("seed", None),
        ("one", f"p1-{uid}"),
        ("two", f"p2-{uid}"),
    ]


def test_some_tolerates_a_failed_provider_but_all_does_not(
    api: Api, uid: str, svc: Service
) -> None:  # INPUT-3 some/all, EXEC-2, EXEC-12, EXEC-14, EDGE-12
    v, w = f"v{uid}", f"w{uid}"
    svc.on(f"/bad-{uid}", lambda _: problem(422, "no value"))
    svc.hold(f"/slow-{uid}")
    register_all(
        api,
        http_step(f"ok-{uid}", f"{svc.url}/out?{v}=1", {v: out()}),
        http_step(f"bad-{uid}", f"{svc.url}/bad-{uid}", {v: out()}),
        echo_step(svc, f"some-{uid}", {v: req(collect="some")}),
    )
    api.start(f"some-{uid}", [f"some-{uid}"])
    state = api.wait_terminal(f"some-{uid}")
    # a failed non-goal provider does not stop the flow (EDGE-2)
    assert state["status"] == "completed"
    assert got(state, f"some-{uid}") == {v: [1]}

    # `all` cannot be satisfied once a provider failed: the consumer is unreachable, and
    # a provider still waiting for its own input is no longer needed (lazy pruning)
    register_all(
        api,
        http_step(f"slow-{uid}", f"{svc.url}/slow-{uid}?{w}=1", {w: out()}),
        http_step(f"later-{uid}", f"{svc.url}/later-{uid}?{v}=3", {w: req(), v: out()}),
        echo_step(svc, f"all-{uid}", {v: req(collect="all")}),
    )
    api.start(f"all-{uid}", [f"all-{uid}"])
    state = eventually(lambda: (s := api.flow(f"all-{uid}"))["status"] != "active" and s)
    assert state["status"] == "failed"
    ex = state["executions"][f"all-{uid}"]
    assert ex["status"] == "failed" and ex["error"] == "required input no longer available"
    assert state["error"] == f"step all-{uid} failed: required input no longer available"
    later = state["executions"][f"later-{uid}"]
    assert later["status"] == "skipped" and later["error"] == "outputs not needed"
    svc.release(f"/slow-{uid}")
    api.wait_terminal(f"all-{uid}")
    assert svc.calls_to(f"/later-{uid}") == []
    assert svc.calls_to(f"/echo-all-{uid}") == []


def test_all_with_a_provider_that_produced_nothing_is_unreachable(
    api: Api, uid: str, svc: Service
) -> None:  # EDGE-12, EXEC-13, EXEC-14
    v = f"v{uid}"
    register_all(
        api,
        http_step(f"one-{uid}", f"{svc.url}/out?{v}=1", {v: out()}),
        http_step(f"mute-{uid}", f"{svc.url}/mute-{uid}", {v: out()}),  # answers {"echo": ...}
        echo_step(svc, f"c-{uid}", {v: req(collect="all")}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"])
    state = api.wait_terminal(f"wf-{uid}")
    assert state["executions"][f"mute-{uid}"]["status"] == "completed"
    assert state["status"] == "failed"
    ex = state["executions"][f"c-{uid}"]
    assert ex["error"] == "required input no longer available"
    failed = of_type(api.events(f"wf-{uid}"), "step_failed", f"c-{uid}")[0]
    assert failed["inputs"] == {}  # the inputs collected so far


@pytest.mark.parametrize("produces", [False, True])
def test_none_runs_only_when_every_provider_finished_without_a_value(
    api: Api, uid: str, svc: Service, produces: bool
) -> None:  # INPUT-3 none, EXEC-13, EXEC-14
    v, x = f"v{uid}", f"x{uid}"
    svc.on(f"/maybe-{uid}", lambda _: {v: "here"} if produces else Response(status_code=204))
    register_all(
        api,
        http_step(f"maybe-{uid}", f"{svc.url}/maybe-{uid}", {v: out()}),
        echo_step(svc, f"c-{uid}", {v: req(collect="none"), x: req()}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"], {x: ["go"]})
    state = api.wait_terminal(f"wf-{uid}")
    if produces:
        assert state["status"] == "failed"
        assert state["executions"][f"c-{uid}"]["error"] == "required input no longer available"
    else:
        assert state["status"] == "completed"
        assert got(state, f"c-{uid}") == {x: "go"}  # a `none` input is omitted


@pytest.mark.parametrize(
    ("collect", "expected"),
    [
        ("first", 1),
        ("last", 2),
        ("some", [1, 2]),
        ("all", [1, 2]),
        ("none", "dflt"),  # an optional `none` never carries an upstream value
    ],
)
def test_optional_inputs_collect_like_required_ones(
    api: Api, uid: str, svc: Service, collect: str, expected: Any
) -> None:  # INPUT-3, INPUT-5, OPT-2 rules 1 and 3, OPT-4
    v, seq = f"v{uid}", f"seq{uid}"
    register_all(
        api,
        http_step(f"p1-{uid}", f"{svc.url}/out?{v}=1&{seq}=1", {v: out(), seq: out()}),
        http_step(f"p2-{uid}", f"{svc.url}/out?{v}=2", {seq: req(), v: out()}),
        # the deadline is long; the providers finish well before it
        echo_step(svc, f"c-{uid}", {v: opt(collect=collect, default='"dflt"', deadline=60_000)}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"])
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert got(state, f"c-{uid}") == {v: expected}


def test_optional_all_falls_back_to_default_when_a_provider_failed(
    api: Api, uid: str, svc: Service
) -> None:  # OPT-2 rule 3, OPT-3, INPUT-5 default
    v = f"v{uid}"
    svc.on(f"/bad-{uid}", lambda _: problem(422, "nope"))
    register_all(
        api,
        http_step(f"ok-{uid}", f"{svc.url}/out?{v}=1", {v: out()}),
        http_step(f"bad-{uid}", f"{svc.url}/bad-{uid}", {v: out()}),
        echo_step(svc, f"c-{uid}", {v: opt(collect="all", default="[0]", deadline=60_000)}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"])
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert got(state, f"c-{uid}") == {v: [0]}
