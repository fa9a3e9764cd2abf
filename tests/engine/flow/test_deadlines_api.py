"""Optional inputs with collection deadlines over HTTP: the anchor, each
collect mode at the deadline, deadline 0, early resolution, lazy pruning after
the decision, and deadline timers re-armed after a crash (SPEC 6.3 OPT-1..6,
INPUT-4, REC-3).

Deadlines run on an engine clock the test advances (``ManualTime``): a
deadline passes when the test moves time past it, never because the machine
was slow. Time is asserted as lower bounds read from event timestamps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
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
    timestamps,
)
from local_engine import LocalEngine, ManualTime
from support import Api, EngineProcess, eventually


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ms(later: str, earlier: str) -> float:
    return (at(later) - at(earlier)).total_seconds() * 1000


def consumer(svc: Service, step_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return http_step(step_id, f"{svc.url}/echo-{step_id}", {**attrs, "echo": out()})


def started(api: Api, flow_id: str, step_id: str) -> dict[str, Any] | None:
    state = api.flow(flow_id)
    return state if status(state["executions"][step_id]) != "pending" else None


@pytest.fixture
def timed(local_engine: Callable[..., LocalEngine]) -> Iterator[tuple[Api, ManualTime]]:
    """An engine whose clock and timers move only when the test advances them.

    Held step calls must outlive every jump of the clock: STEP_TIMEOUT is an hour.
    """
    engine = local_engine(manual_time=True, env={"STEP_TIMEOUT": "3600000"})
    assert engine.time is not None
    client = Api(engine.url)
    try:
        yield client, engine.time
    finally:
        client.close()


def test_deadline_counts_from_the_required_inputs(
    timed: tuple[Api, ManualTime], uid: str, svc: Service
) -> None:  # INPUT-4, OPT-1, OPT-2 rule 4, OPT-6
    api, clock = timed
    r, o = f"r{uid}", f"o{uid}"
    svc.hold(f"/r-{uid}")
    svc.hold(f"/o-{uid}")
    register_all(
        api,
        http_step(f"pr-{uid}", f"{svc.url}/r-{uid}?{r}=1", {r: out()}),
        http_step(f"po-{uid}", f"{svc.url}/o-{uid}?{o}=1", {o: out()}),
        consumer(svc, f"c-{uid}", {r: req(), o: opt(default='"d"', deadline=30_000)}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"])
    eventually(lambda: svc.running(f"/r-{uid}") == 1, message="r requested")
    clock.advance(50)  # the required input arrives after more than the deadline's length
    svc.release(f"/r-{uid}")
    eventually(
        lambda: timestamps(api.events(f"wf-{uid}"), "attribute_set", f"pr-{uid}"),
        message="r arrived",
    )
    clock.advance(30)  # the deadline, counted from r
    eventually(lambda: started(api, f"wf-{uid}", f"c-{uid}"), message="c started")
    events = api.events(f"wf-{uid}")
    created = events[0]["timestamp"]
    r_set = timestamps(events, "attribute_set", f"pr-{uid}")[0]
    c_started = timestamps(events, "step_started", f"c-{uid}")[0]
    # the window opens when r arrives (the anchor), not when the flow started: a
    # window from the start would have closed before r arrived and started c at once
    assert ms(r_set, created) >= 50_000
    assert ms(c_started, r_set) >= 30_000
    assert of_type(events, "step_started", f"c-{uid}")[0]["inputs"] == {r: 1, o: "d"}
    svc.release(f"/o-{uid}")
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert [v["value"] for v in state["attributes"][o]] == [1]  # recorded, but too late for c


COLLECTS = {
    "first": 1,  # fulfilled before the deadline: starts at once
    "last": 2,  # the latest value that arrived by the deadline
    "some": [1, 2],  # the values that arrived by the deadline
    "all": "d",  # not every provider completed: the default
    "none": "d",  # never carries an upstream value
}


def test_each_collect_mode_at_the_deadline(
    timed: tuple[Api, ManualTime], uid: str, svc: Service
) -> None:  # OPT-2 rules 1 and 4, OPT-3, OPT-4, OPT-5, TERM-1
    api, clock = timed
    o, seq = f"o{uid}", f"seq{uid}"
    svc.hold(f"/p3-{uid}")
    register_all(
        api,
        http_step(f"p1-{uid}", f"{svc.url}/out?{o}=1&{seq}=1", {o: out(), seq: out()}),
        http_step(f"p2-{uid}", f"{svc.url}/out?{o}=2", {seq: req(), o: out()}),
        http_step(f"p3-{uid}", f"{svc.url}/p3-{uid}?{o}=3", {o: out()}),
        *(
            consumer(svc, f"{c}-{uid}", {o: opt(collect=c, default='"d"', deadline=60_000)})
            for c in COLLECTS
        ),
    )
    for c in COLLECTS:
        assert api.start(f"{c}-{uid}", [f"{c}-{uid}"]).status_code == 201

    def ready(c: str) -> bool:
        executions = api.flow(f"{c}-{uid}")["executions"]
        if c == "first":  # starts on the first value (and prunes p2)
            return status(executions[f"{c}-{uid}"]) != "pending"
        return all(status(executions[f"{p}-{uid}"]) == "completed" for p in ("p1", "p2"))

    for c in COLLECTS:  # p1 and p2 answered; the clock has not reached any deadline
        eventually(lambda c=c: ready(c), message=f"{c}: providers done")
    for c in COLLECTS:
        if c != "first":
            assert status(api.flow(f"{c}-{uid}")["executions"][f"{c}-{uid}"]) == "pending", c
    clock.advance(60)
    for c, expected in COLLECTS.items():
        state = eventually(lambda c=c: started(api, f"{c}-{uid}", f"{c}-{uid}"), message=c)
        events = api.events(f"{c}-{uid}")
        step_started = of_type(events, "step_started", f"{c}-{uid}")[0]
        assert step_started["inputs"] == {o: expected}, c
        assert status(state["executions"][f"p3-{uid}"]) == "active"  # still running
        if c != "first":
            wait = ms(timestamps(events, "step_started", f"{c}-{uid}")[0], events[0]["timestamp"])
            assert wait >= 60_000, (c, wait)
    svc.release(f"/p3-{uid}")
    for c in COLLECTS:
        state = api.wait_terminal(f"{c}-{uid}")
        # OPT-5: the late value enters the flow; the consumer is not re-run
        assert state["status"] == "completed"
        assert 3 in [v["value"] for v in state["attributes"][o]]
        assert len(svc.calls_to(f"/echo-{c}-{uid}")) == 1


def test_zero_deadline_never_waits_and_prunes_waiting_providers(
    api: Api, uid: str, svc: Service
) -> None:  # OPT-4, OPT-5, EXEC-12, TERM-1
    o, w = f"o{uid}", f"w{uid}"
    svc.hold(f"/running-{uid}")
    svc.hold(f"/h-{uid}")
    register_all(
        api,
        http_step(f"running-{uid}", f"{svc.url}/running-{uid}?{o}=1", {o: out()}),
        http_step(f"h-{uid}", f"{svc.url}/h-{uid}?{w}=1", {w: out()}),
        http_step(f"waiting-{uid}", f"{svc.url}/out?{o}=2", {w: req(), o: out()}),
        consumer(svc, f"c-{uid}", {f"x{uid}": req(), o: opt(default='"d"')}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"], {f"x{uid}": ["go"]})
    state = eventually(
        lambda: (
            (s := api.flow(f"wf-{uid}"))["executions"][f"c-{uid}"].get("status") == "completed"
            and s
        )
    )
    assert state["executions"][f"c-{uid}"]["outputs"]["echo"] == {f"x{uid}": "go", o: "d"}
    # the decision is made: the provider that had not started is no longer needed...
    waiting = state["executions"][f"waiting-{uid}"]
    assert waiting["status"] == "skipped" and waiting["error"] == "outputs not needed"
    # ...while the running one keeps running, and the flow waits for it
    assert status(state["executions"][f"running-{uid}"]) == "active"
    assert state["status"] == "active"
    svc.release(f"/running-{uid}")
    svc.release(f"/h-{uid}")
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert len(svc.calls_to(f"/echo-c-{uid}")) == 1


def test_terminal_providers_resolve_before_the_deadline(
    api: Api, uid: str, svc: Service
) -> None:  # OPT-2 rule 3, OPT-4
    o = f"o{uid}"
    svc.on(f"/bad-{uid}", lambda _: problem(422, "no"))
    register_all(
        api,
        http_step(f"bad-{uid}", f"{svc.url}/bad-{uid}", {o: out()}),
        consumer(svc, f"c-{uid}", {o: opt(collect="last", default='"d"', deadline=600_000)}),
    )
    api.start(f"wf-{uid}", [f"c-{uid}"])
    # nothing is left to wait for: a ten-minute deadline does not hold the step
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert state["executions"][f"c-{uid}"]["outputs"]["echo"] == {o: "d"}


@pytest.mark.slow
def test_deadline_timers_are_rearmed_after_a_crash(
    tmp_path: Path, svc: Service, uid: str
) -> None:  # OPT-6, REC-3 step 3, REC-4
    engine = EngineProcess(tmp_path / "data")
    engine.start()
    try:
        api = Api(engine.url)
        o = f"o{uid}"
        svc.hold(f"/p-{uid}")
        register_all(
            api,
            http_step(f"p-{uid}", f"{svc.url}/p-{uid}?{o}=1", {o: out()}),
            consumer(svc, f"c-{uid}", {o: opt(default='"d"', deadline=3000)}),
        )
        api.start(f"wf-{uid}", [f"c-{uid}"])
        eventually(lambda: svc.running(f"/p-{uid}") == 1)
        assert status(api.flow(f"wf-{uid}")["executions"][f"c-{uid}"]) == "pending"
        engine.kill()  # the deadline timer dies with the process
        engine.start()
        api = Api(engine.url)
        # Usually the restart beats the deadline and a re-armed timer starts c; on a slow
        # machine recovery finds the deadline already passed and starts it at once.
        state = eventually(lambda: started(api, f"wf-{uid}", f"c-{uid}"), timeout=15)
        events = api.events(f"wf-{uid}")
        assert of_type(events, "step_started", f"c-{uid}")[0]["inputs"] == {o: "d"}
        c_started = timestamps(events, "step_started", f"c-{uid}")[0]
        assert ms(c_started, events[0]["timestamp"]) >= 3000
        assert status(state["executions"][f"p-{uid}"]) == "active"
        svc.release(f"/p-{uid}")  # the provider was re-invoked after the restart (REC-4)
        assert api.wait_terminal(f"wf-{uid}")["status"] == "completed"
        assert len({c.token for c in svc.calls_to(f"/p-{uid}")}) == 1
        assert len(svc.calls_to(f"/p-{uid}")) == 2
    finally:
        engine.stop()
