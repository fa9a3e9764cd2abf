"""for_each work items over the real HTTP API with a loopback step service
(SPEC 7.1 WORK-1..13, PRED-2, EDGE-5, EDGE-6, EDGE-11, EDGE-13, FLOW-9).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
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
    script_step,
    serve,
    status,
    types,
    wait_for,
)
from starlette.responses import Response
from support import Api, eventually

ZERO = "0001-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def test_cartesian_product_in_creation_order_and_aggregate(
    api: Api, uid: str, svc: Service
) -> None:  # WORK-3..7, WORK-10, WORK-11, INPUT-6, DATA-4
    path = f"/price-{uid}"
    svc.on(path, lambda b: {f"price{uid}": f"{b[f'r{uid}']}-{b[f'p{uid}']}", "junk": 1})
    register_all(
        api,
        http_step(
            f"price-{uid}",
            svc.url + path,
            {
                f"r{uid}": req(for_each=True),
                f"p{uid}": req(for_each=True),
                f"cur{uid}": req(),
                f"price{uid}": out(),
            },
        ),
    )
    init = {f"r{uid}": [["US", "EU", "APAC"]], f"p{uid}": [["A", "B"]], f"cur{uid}": ["EUR"]}
    assert api.start(f"wf-{uid}", [f"price-{uid}"], init).status_code == 201
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed", state

    # WORK-3: cartesian product, first for_each attribute (sorted by name) varies slowest;
    # WORK-5: parallelism 1 by default, so items are invoked one by one in creation order.
    calls = svc.calls_to(path)
    pairs = [(c.body[f"p{uid}"], c.body[f"r{uid}"]) for c in calls]
    assert pairs == [(p, r) for p in ("A", "B") for r in ("US", "EU", "APAC")]
    assert svc.peak_of(path) == 1
    # WORK-4: each invocation gets the step inputs overlaid with its item's element
    assert all(c.body[f"cur{uid}"] == "EUR" for c in calls)
    ex = state["executions"][f"price-{uid}"]
    # DATA-4: one fresh token per item, sent as the receipt token
    assert len(ex["work_items"]) == 6
    assert {c.token for c in calls} == set(ex["work_items"])
    overlays = [w["inputs"] for w in ex["work_items"].values()]
    assert overlays == [
        {f"p{uid}": p, f"r{uid}": r} for p in ("A", "B") for r in ("US", "EU", "APAC")
    ]
    assert all(status(w) == "succeeded" for w in ex["work_items"].values())  # WORK-1
    # WORK-10: one entry per item in creation order: the for_each values plus the output;
    # WORK-11: the undeclared "junk" output is dropped
    expected = [
        {f"p{uid}": p, f"r{uid}": r, f"price{uid}": f"{r}-{p}"}
        for p in ("A", "B")
        for r in ("US", "EU", "APAC")
    ]
    assert ex["outputs"] == {f"price{uid}": expected}
    assert state["attributes"][f"price{uid}"][0]["value"] == expected
    assert state["attributes"][f"price{uid}"][0]["step"] == f"price-{uid}"
    events = api.events(f"wf-{uid}")
    assert of_type(events, "step_started")[0]["work_items"] == dict(
        zip(ex["work_items"], overlays, strict=True)
    )
    assert types(events).count("work_started") == 6
    assert types(events).count("work_succeeded") == 6
    # WORK-7: work_succeeded carries the raw, unmapped outputs (undeclared keys included)
    assert of_type(events, "work_succeeded")[0]["outputs"] == {f"price{uid}": "US-A", "junk": 1}
    assert types(events).count("attribute_set") == 1


def test_for_each_with_mapping_name_expands_under_inner_name(
    api: Api, uid: str, svc: Service
) -> None:  # EDGE-6, WORK-3, WORK-10, MAP-1
    path = f"/sku-{uid}"
    svc.on(path, lambda b: {"res": b["sku"] * 2})
    register_all(
        api,
        http_step(
            f"sku-{uid}",
            svc.url + path,
            {f"items{uid}": req(for_each=True, name="sku"), f"res{uid}": out("res")},
        ),
    )
    api.start(f"wf-{uid}", [f"sku-{uid}"], {f"items{uid}": [[1, 2]]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed", state
    assert [c.body for c in svc.calls_to(path)] == [{"sku": 1}, {"sku": 2}]
    # the aggregate names the for_each attribute by its outer name (flow state names)
    assert state["executions"][f"sku-{uid}"]["outputs"] == {
        f"res{uid}": [{f"items{uid}": 1, "res": 2}, {f"items{uid}": 2, "res": 4}]
    }


def test_single_item_gives_plain_outputs(api: Api, uid: str, svc: Service) -> None:  # WORK-9
    path = f"/one-{uid}"
    svc.on(path, lambda b: {f"o{uid}": b[f"xs{uid}"] + 1})
    register_all(
        api,
        http_step(f"one-{uid}", svc.url + path, {f"xs{uid}": req(for_each=True), f"o{uid}": out()}),
    )
    api.start(f"wf-{uid}", [f"one-{uid}"], {f"xs{uid}": [[41]]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["executions"][f"one-{uid}"]["outputs"] == {f"o{uid}": 42}
    assert state["attributes"][f"o{uid}"][0]["value"] == 42


def test_empty_array_completes_the_step_without_outputs(
    api: Api, uid: str, svc: Service
) -> None:  # EDGE-5, WORK-3, WORK-9
    path = f"/empty-{uid}"
    register_all(
        api,
        http_step(
            f"empty-{uid}", svc.url + path, {f"xs{uid}": req(for_each=True), f"o{uid}": out()}
        ),
    )
    api.start(f"wf-{uid}", [f"empty-{uid}"], {f"xs{uid}": [[]]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    ex = state["executions"][f"empty-{uid}"]
    assert ex["status"] == "completed" and ex.get("work_items", {}) == {}
    assert ex["outputs"] == {} and f"o{uid}" not in state["attributes"]
    assert svc.calls_to(path) == []


def test_non_array_for_each_value_runs_one_item(
    api: Api, uid: str, svc: Service
) -> None:  # WORK-3: a non-array value contributes nothing
    path = f"/scalar-{uid}"
    register_all(
        api,
        http_step(f"scalar-{uid}", svc.url + path, {f"xs{uid}": req(for_each=True), "echo": out()}),
    )
    api.start(f"wf-{uid}", [f"scalar-{uid}"], {f"xs{uid}": ["solo"]})
    state = api.wait_terminal(f"wf-{uid}")
    ex = state["executions"][f"scalar-{uid}"]
    assert [w["inputs"] for w in ex["work_items"].values()] == [{}]
    assert ex["outputs"] == {"echo": {f"xs{uid}": "solo"}}


def test_parallelism_bounds_and_really_runs_items_concurrently(
    api: Api, uid: str, svc: Service
) -> None:  # WORK-5, WORK-6
    path = f"/par-{uid}"
    svc.hold(path)
    register_all(
        api,
        http_step(
            f"par-{uid}",
            svc.url + path,
            {f"xs{uid}": req(for_each=True), "echo": out()},
            work_config={"parallelism": 3},
        ),
    )
    api.start(f"wf-{uid}", [f"par-{uid}"], {f"xs{uid}": [list(range(10))]})
    # three calls arrive together and wait; no fourth is sent while they are held
    eventually(lambda: svc.running(path) == 3, message="3 concurrent calls")
    ex = api.flow(f"wf-{uid}")["executions"][f"par-{uid}"]
    statuses = [status(w) for w in ex["work_items"].values()]
    assert statuses == ["active"] * 3 + ["pending"] * 7  # creation order
    assert svc.peak_of(path) == 3 and len(svc.calls_to(path)) == 3
    svc.release(path)
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert len(svc.calls_to(path)) == 10
    assert svc.peak_of(path) == 3  # never more than allowed
    assert [
        e["echo"][f"xs{uid}"] for e in state["executions"][f"par-{uid}"]["outputs"]["echo"]
    ] == list(range(10))


def test_default_parallelism_is_one(api: Api, uid: str, svc: Service) -> None:  # WORK-5
    path = f"/seq-{uid}"
    svc.hold(path)
    register_all(
        api,
        http_step(f"seq-{uid}", svc.url + path, {f"xs{uid}": req(for_each=True), "echo": out()}),
    )
    api.start(f"wf-{uid}", [f"seq-{uid}"], {f"xs{uid}": [[1, 2, 3]]})
    eventually(lambda: svc.running(path) == 1)
    assert len(svc.calls_to(path)) == 1
    svc.release(path)
    assert api.wait_terminal(f"wf-{uid}")["status"] == "completed"
    assert svc.peak_of(path) == 1 and len(svc.calls_to(path)) == 3


def test_permanent_item_failure_fails_the_step_at_once(
    api: Api, uid: str, svc: Service
) -> None:  # WORK-7, WORK-8, WORK-12, TERM-6, TERM-7, RETRY-7
    path = f"/ff-{uid}"
    slow = threading.Event()

    async def behave(body: dict[str, Any]) -> Any:
        item = body[f"xs{uid}"]
        if item == "slow":
            await wait_for(slow)
        if item == "bad":
            return problem(422, "bad item")
        return {"done": item}

    svc.on(path, behave)
    register_all(
        api,
        http_step(
            f"ff-{uid}",
            svc.url + path,
            {f"xs{uid}": req(for_each=True), "done": out()},
            work_config={"parallelism": 2},
        ),
    )
    api.start(f"wf-{uid}", [f"ff-{uid}"], {f"xs{uid}": [["slow", "bad", "c", "d"]]})
    # "bad" fails permanently while "slow" is still running: the step fails at once
    state = eventually(lambda: (s := api.flow(f"wf-{uid}"))["status"] == "failed" and s)
    ex = state["executions"][f"ff-{uid}"]
    assert ex["status"] == "failed"
    assert "status 422" in ex["error"] and "bad item" in ex["error"]
    assert state["error"] == f"step ff-{uid} failed: {ex['error']}"  # TERM-4
    items = list(ex["work_items"].values())
    assert [status(w) for w in items] == ["active", "failed", "pending", "pending"]
    # the flow is terminal but not deactivated while an item is active (TERM-7)
    assert state["deactivated_at"] == ZERO and api.status(f"wf-{uid}") == "active"
    slow.set()
    state = api.wait_terminal(f"wf-{uid}")
    items = list(state["executions"][f"ff-{uid}"]["work_items"].values())
    # TERM-6: the late success is recorded; WORK-12: pending items were abandoned
    assert [status(w) for w in items] == ["succeeded", "failed", "pending", "pending"]
    assert sorted(c.body[f"xs{uid}"] for c in svc.calls_to(path)) == ["bad", "slow"]
    (work_failed,) = of_type(api.events(f"wf-{uid}"), "work_failed")  # WORK-7
    assert work_failed["error"] == ex["error"]
    assert api.status(f"wf-{uid}") == "failed"


def test_transient_item_failure_retries_with_the_same_token(
    api: Api, uid: str, svc: Service
) -> None:  # WORK-7, RETRY-3, RETRY-6, RETRY-7, WORK-2
    path = f"/flaky-{uid}"
    seen: dict[Any, int] = {}

    def behave(body: dict[str, Any]) -> Any:
        item = body[f"xs{uid}"]
        seen[item] = seen.get(item, 0) + 1
        if item == 2 and seen[item] < 3:
            return Response(status_code=503)
        return {"v": item}

    svc.on(path, behave)
    register_all(
        api,
        http_step(f"flaky-{uid}", svc.url + path, {f"xs{uid}": req(for_each=True), "v": out()}),
    )
    api.start(f"wf-{uid}", [f"flaky-{uid}"], {f"xs{uid}": [[1, 2, 3]]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    calls = [c for c in svc.calls_to(path) if c.body[f"xs{uid}"] == 2]
    assert len(calls) == 3 and len({c.token for c in calls}) == 1
    item = state["executions"][f"flaky-{uid}"]["work_items"][calls[0].token]
    assert item["retry_count"] == 2 and item["status"] == "succeeded"
    events = api.events(f"wf-{uid}")
    not_completed = of_type(events, "work_not_completed")  # WORK-7, RETRY-3
    assert [e["token"] for e in not_completed] == [calls[0].token] * 2
    assert "status 503" in not_completed[0]["error"]
    assert [e["retry_count"] for e in of_type(events, "work_retry_scheduled")] == [1, 2]
    assert [e["v"] for e in state["executions"][f"flaky-{uid}"]["outputs"]["v"]] == [1, 2, 3]


@pytest.mark.parametrize("language", ["lua", "ale"])
def test_per_item_predicate_skips_items(
    api: Api, uid: str, svc: Service, language: str
) -> None:  # PRED-1, PRED-2, EDGE-13, WORK-1, WORK-6
    path = f"/pred-{uid}"
    svc.on(path, lambda b: {"v": b[f"xs{uid}"] * 10})
    x = f"xs{uid}"
    # At preparation the predicate sees the whole array (PRED-1); per item, one element.
    source = {
        "lua": f"return type({x}) == 'table' or {x} > 2",
        "ale": f"(if (vector? {x}) true (> {x} 2))",
    }[language]
    register_all(
        api,
        http_step(
            f"pred-{uid}",
            svc.url + path,
            {x: req(for_each=True), "v": out()},
            predicate={"language": language, "script": source},
        ),
    )
    api.start(f"wf-{uid}", [f"pred-{uid}"], {x: [[1, 3, 2, 4]]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed", state
    ex = state["executions"][f"pred-{uid}"]
    assert [status(w) for w in ex["work_items"].values()] == [
        "skipped",
        "succeeded",
        "skipped",
        "succeeded",
    ]
    assert sorted(c.body[x] for c in svc.calls_to(path)) == [3, 4]
    # skipped items are left out of the aggregate
    assert ex["outputs"] == {"v": [{x: 3, "v": 30}, {x: 4, "v": 40}]}
    skipped = of_type(api.events(f"wf-{uid}"), "work_skipped")
    assert [s["reason"] for s in skipped] == ["predicate returned false"] * 2

    # every item skipped: the step is skipped, and a skipped goal counts as complete
    api.start(f"wf2-{uid}", [f"pred-{uid}"], {x: [[0, 1]]})
    state = api.wait_terminal(f"wf2-{uid}")
    assert state["status"] == "completed"  # EDGE-3
    ex = state["executions"][f"pred-{uid}"]
    assert ex["status"] == "skipped" and ex["error"] == "predicate returned false"


def test_too_many_items_after_start_fail_the_step(
    api: Api, uid: str
) -> None:  # EDGE-11, WORK-3, EXEC-5
    # 101 x 100 = 10,100 items from values produced after the flow started
    register_all(
        api,
        script_step(
            f"gen-{uid}",
            "lua",
            f"local a, b = {{}}, {{}} for i = 1, 101 do a[i] = i end "
            f"for i = 1, 100 do b[i] = i end return {{a{uid} = a, b{uid} = b}}",
            {f"a{uid}": out(), f"b{uid}": out()},
        ),
        script_step(
            f"use-{uid}",
            "lua",
            "return {}",
            {f"a{uid}": req(for_each=True), f"b{uid}": req(for_each=True), f"u{uid}": out()},
        ),
    )
    api.start(f"wf-{uid}", [f"use-{uid}"])
    state = api.wait_terminal(f"wf-{uid}")
    ex = state["executions"][f"use-{uid}"]
    assert ex["status"] == "failed"
    assert ex["error"] == "too many work items: 10100 (max 10000)"
    assert state["status"] == "failed"
    assert "step_started" not in types(api.events(f"wf-{uid}"), step_id=f"use-{uid}")


def test_too_many_items_at_start_abort_the_start(api: Api, uid: str, svc: Service) -> None:
    # FLOW-9, WORK-3: an error preparing the initial steps records nothing
    register_all(
        api,
        http_step(f"big-{uid}", svc.url + "/big", {f"xs{uid}": req(for_each=True), "echo": out()}),
    )
    r = api.start(f"wf-{uid}", [f"big-{uid}"], {f"xs{uid}": [list(range(10_001))]})
    assert r.status_code == 500
    assert r.json()["error"] == "failed to start flow: too many work items: 10001 (max 10000)"
    assert api.http.get(f"/engine/flow/wf-{uid}").status_code == 404


def test_ten_thousand_items_are_allowed(api: Api, uid: str, svc: Service) -> None:
    # WORK-3: the limit is inclusive; every item skipped by its predicate (PRED-2) keeps it cheap
    x = f"xs{uid}"
    register_all(
        api,
        http_step(
            f"lim-{uid}",
            svc.url + "/lim",
            {x: req(for_each=True), "echo": out()},
            predicate={"language": "lua", "script": f"return type({x}) == 'table'"},
        ),
    )
    assert api.start(f"wf-{uid}", [f"lim-{uid}"], {x: [list(range(10_000))]}).status_code == 201
    state = api.wait_terminal(f"wf-{uid}", timeout=30)
    ex = state["executions"][f"lim-{uid}"]
    assert len(ex["work_items"]) == 10_000
    assert ex["status"] == "skipped" and svc.calls_to("/lim") == []
