"""Compensation over HTTP: a step whose third item fails has its first two
items compensated (SPEC 9 COMP-1..6, EVT-6, TERM-6..8, REC-3 step 1, EDGE-7).

The ``charge`` step runs one item per SKU, one at a time; it answers
``{"charge_id": "ch-<sku>", "sku": "SKU-<sku>"}`` and rejects SKU ``c``. Its
compensate URL ``/refund/{charge_id}/{sku}`` names an output and a name that
is both an input and an output, to show that outputs win (COMP-3).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dataflow_helpers import (
    Service,
    http_step,
    of_type,
    out,
    problem,
    register_all,
    req,
    serve,
    status,
    types,
    wait_for,
)
from starlette.responses import JSONResponse, Response
from support import Api, EngineProcess, eventually


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def charge_step(svc: Service, uid: str, **extra: Any) -> dict[str, Any]:
    return http_step(
        f"charge-{uid}",
        f"{svc.url}/charge-{uid}",
        {
            f"skus{uid}": req(for_each=True, name="sku"),
            f"amount{uid}": req(name="amount"),
            f"charge{uid}": out("charge_id"),
        },
        http={"compensate": f"{svc.url}/refund-{uid}/{{charge_id}}/{{sku}}"},
        **extra,
    )


def charging(uid: str, fail: str = "c") -> Any:
    def behave(body: dict[str, Any]) -> Any:
        if body["sku"] == fail:
            return problem(422, "card declined")
        return {"charge_id": f"ch-{body['sku']}", "sku": f"SKU-{body['sku']}"}

    return behave


def test_failed_third_item_compensates_the_first_two(
    api: Api, uid: str, svc: Service, engine_url: str
) -> None:  # COMP-1..3, COMP-5, EVT-6, TERM-7, TERM-8, EDGE-7
    svc.on(f"/charge-{uid}", charging(uid))
    svc.hold(f"/refund-{uid}/ch-a/SKU-a")
    svc.hold(f"/refund-{uid}/ch-b/SKU-b")
    register_all(api, charge_step(svc, uid))
    api.start(
        f"wf-{uid}", [f"charge-{uid}"], {f"skus{uid}": [["a", "b", "c"]], f"amount{uid}": [10]}
    )
    eventually(lambda: len([c for c in svc.calls if c.path.startswith(f"/refund-{uid}/")]) == 2)

    # COMP-5/TERM-7: failed, but not deactivated while compensation runs (TERM-8)
    state = api.flow(f"wf-{uid}")
    assert state["status"] == "failed"
    assert state["deactivated_at"] == "0001-01-01T00:00:00Z"
    assert api.status(f"wf-{uid}") == "active"
    items = list(state["executions"][f"charge-{uid}"]["work_items"].values())
    assert [status(w) for w in items] == ["compensating", "compensating", "failed"]
    svc.release(f"/refund-{uid}/ch-a/SKU-a")
    svc.release(f"/refund-{uid}/ch-b/SKU-b")
    state = api.wait_terminal(f"wf-{uid}")
    assert api.status(f"wf-{uid}") == "failed"
    ex = state["executions"][f"charge-{uid}"]
    assert [status(w) for w in ex["work_items"].values()] == [
        "compensated",
        "compensated",
        "failed",
    ]

    charges = {c.body["sku"]: c for c in svc.calls_to(f"/charge-{uid}")}
    for sku in ("a", "b"):
        (refund,) = svc.calls_to(f"/refund-{uid}/ch-{sku}/SKU-{sku}")  # COMP-3: outputs win
        assert refund.body == {
            "input": {"sku": sku, "amount": 10},  # the item's inputs (WORK-4), inner names
            "output": {"charge_id": f"ch-{sku}", "sku": f"SKU-{sku}"},  # raw outputs
        }
        headers = refund.headers
        assert headers["argyll-flow-id"] == f"wf-{uid}"
        assert headers["argyll-step-id"] == f"charge-{uid}"
        assert headers["argyll-receipt-token"] == charges[sku].token  # the item's token
        assert headers["content-type"] == "application/json"
        assert headers["accept"] == "application/json"
        assert headers["user-agent"].startswith("Argyll-Engine/")

    events = api.events(f"wf-{uid}")
    kinds = types(events)
    # COMP-2: comp_started for every succeeded item in the step_failed write
    at = kinds.index("step_failed")
    assert kinds[at + 1 : at + 3] == ["comp_started", "comp_started"]
    assert kinds.count("comp_succeeded") == 2 and kinds[-1] == "flow_deactivated"
    assert kinds.index("flow_failed") < kinds.index("comp_succeeded")
    tokens = [e["token"] for e in of_type(events, "comp_started")]
    assert tokens == [charges["a"].token, charges["b"].token]


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ([503, 503, 200], "compensated"),
        ([503], "compensation_failed"),  # always 503: the retry budget runs out
        ([409], "compensation_failed"),  # 4xx is permanent
    ],
)
def test_compensation_retries_transient_failures(
    api: Api, uid: str, svc: Service, answers: list[int], outcome: str
) -> None:  # COMP-4, EVT-6, RETRY-2
    seen: list[int] = []
    charged: dict[str, int] = {}
    a_done = threading.Event()

    async def charge(body: dict[str, Any]) -> Any:
        charged[body["sku"]] = charged.get(body["sku"], 0) + 1
        if body["sku"] == "a":
            if charged["a"] == 1:
                return Response(status_code=503)  # one work retry first: retry_count 1
            a_done.set()
        else:
            await wait_for(a_done)  # b was dispatched while a waited for its retry
        return charging(uid, fail="b")(body)

    def refund(_: dict[str, Any]) -> Response:
        seen.append(1)
        code = answers[min(len(seen), len(answers)) - 1]
        return JSONResponse({}, status_code=code)

    svc.on(f"/charge-{uid}", charge)
    svc.on(f"/refund-{uid}/ch-a/SKU-a", refund)
    # max_retries 3, backoff 20..50 ms; two at a time so that a's retry is not held by b
    register_all(api, charge_step(svc, uid, work_config={"parallelism": 2}))
    api.start(f"wf-{uid}", [f"charge-{uid}"], {f"skus{uid}": [["a", "b"]], f"amount{uid}": [1]})
    state = api.wait_terminal(f"wf-{uid}")
    item = next(iter(state["executions"][f"charge-{uid}"]["work_items"].values()))
    assert status(item) == outcome, item
    events = api.events(f"wf-{uid}")
    retries = of_type(events, "comp_retry_scheduled")
    comp_started = of_type(events, "comp_started")
    # [REF] the compensation budget continues from the work retries (retry_count 1)
    if answers == [503, 503, 200]:
        assert [r["retry_count"] for r in retries] == [2, 3]
        assert len(comp_started) == 3 and len(of_type(events, "comp_succeeded")) == 1
        assert "status 503" in retries[0]["error"]
    elif answers == [503]:
        assert [r["retry_count"] for r in retries] == [2, 3]
        (failed,) = of_type(events, "comp_failed")
        assert "status 503" in failed["error"] and item["error"] == failed["error"]
    else:
        assert retries == [] and len(comp_started) == 1
        assert "status 409" in of_type(events, "comp_failed")[0]["error"]
    assert len({e["token"] for e in comp_started}) == 1  # one token throughout
    assert types(events)[-1] == "flow_deactivated"


def test_no_compensation_without_a_url_or_when_only_the_flow_failed(
    api: Api, uid: str, svc: Service
) -> None:  # COMP-1 [DECISION], EDGE-7
    svc.on(f"/charge-{uid}", charging(uid))
    svc.on(f"/nourl-{uid}", charging(uid))
    svc.on(f"/other-{uid}", lambda _: problem(422, "other goal failed"))
    register_all(
        api,
        http_step(
            f"nourl-{uid}",
            f"{svc.url}/nourl-{uid}",
            {f"skus{uid}": req(for_each=True, name="sku"), f"n{uid}": out("charge_id")},
        ),
        charge_step(svc, uid),
        http_step(f"other-{uid}", f"{svc.url}/other-{uid}", {f"o{uid}": out()}),
    )
    # a failed step without a compensate URL: nothing is attempted
    api.start(f"a-{uid}", [f"nourl-{uid}"], {f"skus{uid}": [["a", "c"]]})
    assert api.wait_terminal(f"a-{uid}")["status"] == "failed"
    events = api.events(f"a-{uid}")
    assert not [k for k in types(events) if k.startswith("comp_")]
    # a succeeded step is not compensated because another goal failed the flow
    api.start(
        f"b-{uid}",
        [f"charge-{uid}", f"other-{uid}"],
        {f"skus{uid}": [["a"]], f"amount{uid}": [1]},
    )
    state = api.wait_terminal(f"b-{uid}")
    assert state["status"] == "failed"
    assert state["executions"][f"charge-{uid}"]["status"] == "completed"
    assert not [k for k in types(api.events(f"b-{uid}")) if k.startswith("comp_")]
    assert [c for c in svc.calls if c.path.startswith(f"/refund-{uid}")] == []


def test_compensation_after_the_flow_is_terminal(
    api: Api, uid: str, svc: Service
) -> None:  # COMP-2, TERM-6, TERM-7
    second, other = threading.Event(), threading.Event()

    async def charge(body: dict[str, Any]) -> Any:
        if body["sku"] == "b":
            await wait_for(second)
        return charging(uid, fail="b")(body)

    async def fail_other(_: dict[str, Any]) -> Response:
        await wait_for(other)
        return problem(422, "other goal failed")

    svc.on(f"/charge-{uid}", charge)
    svc.on(f"/other-{uid}", fail_other)
    register_all(
        api,
        charge_step(svc, uid, work_config={"parallelism": 2}),
        http_step(f"other-{uid}", f"{svc.url}/other-{uid}", {f"o{uid}": out()}),
    )
    api.start(
        f"wf-{uid}",
        [f"charge-{uid}", f"other-{uid}"],
        {f"skus{uid}": [["a", "b"]], f"amount{uid}": [1]},
    )

    def item_a_done() -> bool:
        ex = api.flow(f"wf-{uid}")["executions"][f"charge-{uid}"]
        return [status(w) for w in ex["work_items"].values()] == ["succeeded", "active"]

    eventually(item_a_done)
    other.set()
    state = eventually(lambda: (s := api.flow(f"wf-{uid}"))["status"] == "failed" and s)
    assert state["error"].startswith(f"step other-{uid} failed")
    assert not [k for k in types(api.events(f"wf-{uid}")) if k.startswith("comp_")]
    second.set()  # the late failure fails the step after the flow is terminal
    state = api.wait_terminal(f"wf-{uid}")
    ex = state["executions"][f"charge-{uid}"]
    assert ex["status"] == "failed"
    assert [status(w) for w in ex["work_items"].values()] == ["compensated", "failed"]
    assert len(svc.calls_to(f"/refund-{uid}/ch-a/SKU-a")) == 1


def test_memoizable_steps_cannot_compensate(api: Api, uid: str, svc: Service) -> None:
    # COMP-6, VAL-1
    step = charge_step(svc, uid, memoizable=True)
    r = api.register(step)
    assert r.status_code == 400
    assert "invalid step" in r.json()["error"]


@pytest.mark.slow
def test_in_flight_compensation_is_recovered_after_a_crash(
    tmp_path: Path, uid: str, svc: Service
) -> None:  # REC-3 step 1, REC-4, COMP-5
    engine = EngineProcess(tmp_path / "data")
    engine.start()
    try:
        api = Api(engine.url)
        svc.on(f"/charge-{uid}", charging(uid, fail="b"))
        refund = f"/refund-{uid}/ch-a/SKU-a"
        svc.hold(refund)
        register_all(api, charge_step(svc, uid))
        api.start(f"wf-{uid}", [f"charge-{uid}"], {f"skus{uid}": [["a", "b"]], f"amount{uid}": [1]})
        eventually(lambda: svc.running(refund) == 1)
        engine.kill()
        engine.start()
        api = Api(engine.url)
        eventually(lambda: len(svc.calls_to(refund)) == 2, timeout=15, message="re-invoked")
        first, again = svc.calls_to(refund)
        assert again.token == first.token and again.body == first.body
        svc.release(refund)
        state = api.wait_terminal(f"wf-{uid}")
        ex = state["executions"][f"charge-{uid}"]
        assert [status(w) for w in ex["work_items"].values()] == ["compensated", "failed"]
        assert api.status(f"wf-{uid}") == "failed"
    finally:
        engine.stop()
