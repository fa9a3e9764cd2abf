"""Flow steps (sub-flows) over HTTP: child flows from the precomputed child
plan, mapping by name, failure propagation, visibility, and an idempotent child
start after a crash (SPEC 8.7 SUB-1..6, PLAN-10, PLAN-11, TYPE-2, TERM-9, REC-3).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dataflow_helpers import (
    Service,
    flow_step,
    http_step,
    of_type,
    out,
    problem,
    register_all,
    req,
    serve,
    status,
    types,
)
from starlette.responses import Response
from support import Api, EngineProcess, eventually


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def child_goal(svc: Service, uid: str, path: str = "", **extra: Any) -> dict[str, Any]:
    """The child's goal: doubles ``total`` into ``res``."""
    return http_step(
        f"double-{uid}",
        f"{svc.url}{path or f'/double-{uid}'}",
        {f"total{uid}": req(), f"res{uid}": out()},
        **extra,
    )


def parent_step(uid: str, **attrs: Any) -> dict[str, Any]:
    """A flow step: amount goes in as the child's total; res comes out as doubled."""
    return flow_step(
        f"sub-{uid}",
        [f"double-{uid}"],
        {
            f"amount{uid}": req(name=f"total{uid}"),
            f"doubled{uid}": out(f"res{uid}"),
            **attrs,
        },
    )


def child_of(state: dict[str, Any], step_id: str) -> list[str]:
    """The child flow IDs of a flow step's items (DATA-5)."""
    return [f"{state['id']}:{step_id}:{t}" for t in state["executions"][step_id]["work_items"]]


def test_child_flow_from_the_precomputed_plan_with_mapped_inputs_and_outputs(
    api: Api, uid: str, svc: Service
) -> None:  # SUB-1..5, PLAN-10, PLAN-11, TYPE-2, TERM-9, API-22/23
    svc.on(f"/double-{uid}", lambda b: {f"res{uid}": b[f"total{uid}"] * 2})
    svc.hold(f"/gate-{uid}")
    svc.hold(f"/double-{uid}")
    register_all(
        api,
        http_step(f"gate-{uid}", f"{svc.url}/gate-{uid}?go{uid}=1", {f"go{uid}": out()}),
        child_goal(svc, uid),
        parent_step(
            uid,
            **{f"go{uid}": req(), f"fid{uid}": {"role": "meta", "meta": {"key": "flow_id"}}},
        ),
    )
    r = api.start(f"wf-{uid}", [f"sub-{uid}"], {f"amount{uid}": [7]}, labels={"team": uid})
    assert r.status_code == 201
    parent = api.flow(f"wf-{uid}")
    child_plan = parent["plan"]["children"][f"sub-{uid}"]  # PLAN-10
    assert child_plan["goals"] == [f"double-{uid}"]
    # PLAN-11: a later catalog change does not reach the child, whose plan is fixed
    changed = child_goal(svc, uid, path=f"/changed-{uid}")
    assert api.http.put(f"/engine/step/double-{uid}", json=changed).status_code == 200
    svc.release(f"/gate-{uid}")

    eventually(lambda: svc.running(f"/double-{uid}") == 1, message="child step called")
    parent = api.flow(f"wf-{uid}")
    (child_id,) = child_of(parent, f"sub-{uid}")
    token = child_id.rsplit(":", 1)[1]
    # SUB-2: the parent item stays active while the child runs
    assert status(parent["executions"][f"sub-{uid}"]["work_items"][token]) == "active"
    child = api.flow(child_id)
    assert child["status"] == "active" and child["plan"] == child_plan
    # SUB-1: init from the invocation arguments under inner names, meta included (TYPE-2)
    assert {k: [v["value"] for v in vs] for k, vs in child["attributes"].items()} == {
        f"total{uid}": [7],
        f"go{uid}": [1],
        f"fid{uid}": [f"wf-{uid}"],
    }
    # SUB-3: parent metadata; SUB-4: no labels
    assert child["metadata"] == {
        "parent_flow_id": f"wf-{uid}",
        "parent_step_id": f"sub-{uid}",
        "parent_work_item_token": token,
    }
    assert "labels" not in child and parent["labels"] == {"team": uid}
    svc.release(f"/double-{uid}")

    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert state["executions"][f"sub-{uid}"]["outputs"] == {f"doubled{uid}": 14}  # MAP-3
    assert svc.calls_to(f"/changed-{uid}") == []
    # SUB-4: children are hidden from list and query, but readable by ID
    listed = [f["id"] for f in api.http.get("/engine/flow").json()]
    assert f"wf-{uid}" in listed and child_id not in listed
    query = api.http.post("/engine/flow/query", json={"id_prefix": f"wf-{uid}"}).json()
    assert [f["id"] for f in query["flows"]] == [f"wf-{uid}"]
    assert api.flow(child_id)["status"] == "completed"
    assert api.http.get(f"/engine/flow/{child_id}/status").json() == {
        "id": child_id,
        "status": "completed",
    }
    assert types(api.events(child_id))[0] == "flow_started"


def test_for_each_flow_step_starts_one_child_per_item(
    api: Api, uid: str, svc: Service
) -> None:  # SUB-1, WORK-3, WORK-10
    svc.on(f"/double-{uid}", lambda b: {f"res{uid}": b[f"total{uid}"] * 2})
    step = parent_step(uid)
    step["attributes"][f"amount{uid}"]["required"]["for_each"] = True
    step["work_config"] = {"parallelism": 3}
    register_all(api, child_goal(svc, uid), step)
    api.start(f"wf-{uid}", [f"sub-{uid}"], {f"amount{uid}": [[1, 2, 3]]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "completed"
    assert state["executions"][f"sub-{uid}"]["outputs"] == {
        f"doubled{uid}": [
            # WORK-10: per raw key (the child attribute), then mapped by name (MAP-3)
            {f"amount{uid}": n, f"res{uid}": n * 2}
            for n in (1, 2, 3)
        ]
    }
    children = child_of(state, f"sub-{uid}")
    assert len(set(children)) == 3
    assert [api.flow(c)["attributes"][f"total{uid}"][0]["value"] for c in children] == [1, 2, 3]


def test_child_failure_fails_the_parent_item(
    api: Api, uid: str, svc: Service
) -> None:  # SUB-5, RETRY-1, TERM-4
    svc.on(f"/double-{uid}", lambda _: problem(422, "cannot double"))
    register_all(api, child_goal(svc, uid), parent_step(uid))
    api.start(f"wf-{uid}", [f"sub-{uid}"], {f"amount{uid}": [1]})
    state = api.wait_terminal(f"wf-{uid}")
    (child_id,) = child_of(state, f"sub-{uid}")
    child = api.flow(child_id)
    assert child["status"] == "failed"
    item = next(iter(state["executions"][f"sub-{uid}"]["work_items"].values()))
    assert item["status"] == "failed" and item["error"] == child["error"]
    assert child["error"].startswith(f"step double-{uid} failed: ")
    assert "cannot double" in child["error"]
    assert state["error"] == f"step sub-{uid} failed: {child['error']}"
    assert len(svc.calls_to(f"/double-{uid}")) == 1  # a permanent failure: no retry


def test_missing_mapped_output_fails_the_parent_item(
    api: Api, uid: str, svc: Service
) -> None:  # SUB-5
    svc.on(f"/double-{uid}", lambda b: {f"res{uid}": 0})
    step = parent_step(uid)
    step["attributes"][f"doubled{uid}"] = out(f"nothere{uid}")
    register_all(api, child_goal(svc, uid), step)
    api.start(f"wf-{uid}", [f"sub-{uid}"], {f"amount{uid}": [1]})
    state = api.wait_terminal(f"wf-{uid}")
    assert state["executions"][f"sub-{uid}"]["error"] == f"flow output missing: nothere{uid}"


def test_missing_child_input_fails_the_parent_item(
    api: Api, uid: str, svc: Service
) -> None:  # SUB-1, PLAN-10, FLOW-2
    k = f"k{uid}"
    register_all(
        api,
        http_step(f"needk-{uid}", f"{svc.url}/needk-{uid}", {k: req(), f"kk{uid}": out()}),
        # an optional input without default is not guaranteed, so the child plan requires it
        flow_step(f"sub-{uid}", [f"needk-{uid}"], {k: {"role": "optional"}, f"kk{uid}": out()}),
    )
    api.start(f"wf-{uid}", [f"sub-{uid}"])
    state = api.wait_terminal(f"wf-{uid}")
    assert state["status"] == "failed"
    assert state["plan"]["children"][f"sub-{uid}"]["required"] == [k]
    assert state["executions"][f"sub-{uid}"]["error"] == f"required inputs not provided: [{k}]"
    assert svc.calls_to(f"/needk-{uid}") == []


def test_flow_composition_cycles_are_rejected(api: Api, uid: str, svc: Service) -> None:
    # SUB-6, VAL-2
    register_all(
        api,
        child_goal(svc, uid),
        flow_step(f"fa-{uid}", [f"double-{uid}"], {f"a{uid}": out()}),
        flow_step(f"fb-{uid}", [f"fa-{uid}"], {f"b{uid}": out()}),
    )
    cyclic = flow_step(f"fa-{uid}", [f"fb-{uid}"], {f"a{uid}": out()})
    r = api.http.put(f"/engine/step/fa-{uid}", json=cyclic)
    assert r.status_code == 400, r.text
    assert "circular dependency" in r.json()["error"]


@pytest.mark.slow
def test_child_flows_survive_a_crash(
    tmp_path: Path, uid: str, svc: Service
) -> None:  # SUB-1 idempotent start, REC-3, REC-4, ASYNC-3
    engine = EngineProcess(tmp_path / "data")
    engine.start()
    try:
        api = Api(engine.url)
        svc.on(f"/double-{uid}", lambda _: Response(status_code=202))
        register_all(api, child_goal(svc, uid, type="async"), parent_step(uid))
        api.start(f"wf-{uid}", [f"sub-{uid}"], {f"amount{uid}": [21]})
        first = eventually(lambda: svc.calls_to(f"/double-{uid}"))[0]
        (child_id,) = child_of(api.flow(f"wf-{uid}"), f"sub-{uid}")
        engine.kill()
        engine.start()
        api = Api(engine.url)
        # the child's async item is invoked again with the same token (REC-4)...
        calls = eventually(lambda: svc.calls_to(f"/double-{uid}")[1:], timeout=15)
        assert calls[0].token == first.token
        hook = calls[0].headers["argyll-webhook-url"]
        assert httpx.post(hook, json={f"res{uid}": 42}).status_code == 200
        state = api.wait_terminal(f"wf-{uid}")
        assert state["status"] == "completed"
        assert state["executions"][f"sub-{uid}"]["outputs"] == {f"doubled{uid}": 42}
        # ...and the re-invoked parent item re-attached to the same child (one start only)
        assert child_of(state, f"sub-{uid}") == [child_id]
        assert types(api.events(child_id)).count("flow_started") == 1
        assert len(of_type(api.events(f"wf-{uid}"), "work_started")) == 2
    finally:
        engine.stop()
