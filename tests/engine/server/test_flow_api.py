"""Plans and flows over HTTP (SPEC 5, API-20..26, DATA-30..32, FLOW-1..9)."""

from __future__ import annotations

from typing import Any

from support import Api


def producer(step_id: str, out: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "type": "async",
        "attributes": {out: {"role": "output"}, **extra.pop("attrs", {})},
        "http": {"endpoint": "http://127.0.0.1:9/never"},
        **extra,
    }


def test_plan_preview_and_errors(api: Api, uid: str) -> None:  # API-20, PLAN-12
    api.register(
        producer(f"intake-{uid}", f"input{uid}", attrs={f"seed{uid}": {"role": "required"}})
    )
    api.register(
        producer(f"proc-{uid}", f"result{uid}", attrs={f"input{uid}": {"role": "required"}})
    )
    plan = api.http.post("/engine/plan", json={"goals": [f"proc-{uid}"], "init": {}}).json()
    assert sorted(plan["steps"]) == sorted([f"intake-{uid}", f"proc-{uid}"])
    assert plan["required"] == [f"seed{uid}"]
    r = api.http.post("/engine/plan", json={"goals": []})
    assert r.status_code == 400 and r.json()["error"] == "At least one goal step ID is required"
    r = api.http.post("/engine/plan", json={"goals": [f"nope-{uid}", "x"]})
    assert r.status_code == 404 and r.json()["error"] == f"step not found: [nope-{uid} x]"
    strict = api.start(f"strict-{uid}", [f"proc-{uid}"])
    assert strict.status_code == 400
    assert strict.json()["error"] == f"required inputs not provided: [input{uid}]"  # FLOW-2


def test_start_checks_in_order(api: Api, uid: str) -> None:  # API-21, CFG-3, DATA-3
    api.register(producer(f"g-{uid}", f"o{uid}"))
    g = [f"g-{uid}"]
    cases = [
        ({"id": "@#$", "goals": g}, "flow ID empty"),
        ({"id": "x" * 257, "goals": g}, "flow ID too long: maximum is 256"),
        ({"id": f"a-{uid}", "goals": []}, "at least one goal step is required"),
        ({"id": f"a-{uid}", "goals": g * 65}, "too many goals: maximum is 64"),
        (
            {"id": f"a-{uid}", "goals": g, "init": {str(i): [1] for i in range(129)}},
            "too many init keys: maximum is 128",
        ),
        (
            {"id": f"a-{uid}", "goals": g, "labels": {str(i): "v" for i in range(33)}},
            "too many labels: maximum is 32",
        ),
    ]
    for body, message in cases:
        r = api.http.post("/engine/flow", json=body)
        assert r.status_code == 400 and r.json() == {"error": message, "status": 400}, body
    r = api.start(f"a-{uid}", [f"missing-{uid}"])
    assert r.status_code == 404


def test_duplicate_start_is_idempotent(api: Api, uid: str) -> None:  # FLOW-3
    api.register(producer(f"d-{uid}", f"o{uid}"))
    first = api.start(f"Dup {uid}", [f"d-{uid}"], {"n": [5]})
    assert first.status_code == 201
    assert first.json() == {"message": "flow started", "flow_id": f"dup-{uid}"}
    again = api.start(f"dup-{uid}", [f"d-{uid}"], {"n": [5.0]}, labels={"other": "x"})
    assert again.status_code == 201
    assert again.json() == {"message": "flow already exists", "flow_id": f"dup-{uid}"}
    assert [e["type"] for e in api.events(f"dup-{uid}")].count("flow_started") == 1
    conflict = api.start(f"dup-{uid}", [f"d-{uid}"], {"n": [6]})
    assert conflict.status_code == 409
    assert conflict.json()["error"] == f"flow exists with different plan or init: dup-{uid}"


def test_flow_state_events_and_status(  # EVT-2
    api: Api, uid: str
) -> None:  # API-24..26, FLOW-4, FLOW-5, DATA-32
    api.register(producer(f"s-{uid}", f"o{uid}"))
    api.start(
        f"st-{uid}", [f"s-{uid}"], {"items": [["a", "b"]], "x": [1, 2]}, labels={"env": "test"}
    )
    state = api.flow(f"st-{uid}")
    assert state["status"] == "active" and state["labels"] == {"env": "test"}
    assert [v["value"] for v in state["attributes"]["x"]] == [1, 2]
    assert state["attributes"]["items"][0]["value"] == ["a", "b"]
    assert "step" not in state["attributes"]["x"][0]
    assert state["attributes"]["x"][0]["set_at"] == state["created_at"]
    assert state["completed_at"] == "0001-01-01T00:00:00Z"
    assert "metadata" not in state
    events = api.events(f"st-{uid}")
    assert events[0]["type"] == "flow_started" and events[0]["sequence"] == 0
    assert [e["sequence"] for e in events] == list(range(len(events)))
    assert events[0]["aggregate_id"] == ["flow", f"st-{uid}"]
    data = events[0]["data"]
    assert data["init"] == {"items": [["a", "b"]], "x": [1, 2]} and data["labels"] == {
        "env": "test"
    }
    assert "metadata" not in data
    assert api.http.get(f"/engine/flow/st-{uid}/status").json() == {
        "id": f"st-{uid}",
        "status": "active",
    }
    for path in (
        f"/engine/flow/no-{uid}",
        f"/engine/flow/no-{uid}/status",
        f"/engine/flow/no-{uid}/events",
    ):
        r = api.http.get(path)
        assert r.status_code == 404 and r.json()["error"] == f"flow not found: no-{uid}"


def test_satisfied_goal_completes_immediately(api: Api, uid: str) -> None:  # FLOW-8, EDGE-1
    api.register(producer(f"sat-{uid}", f"o{uid}"))
    assert api.start(f"sat-{uid}", [f"sat-{uid}"], {f"o{uid}": [1]}).status_code == 201
    state = api.flow(f"sat-{uid}")
    assert state["status"] == "completed" and state["executions"] == {}
    types = [e["type"] for e in api.events(f"sat-{uid}")]
    assert types == ["flow_started", "flow_completed", "flow_deactivated"]
    assert api.status(f"sat-{uid}") == "completed"


def test_list_and_query_with_cursor(api: Api, uid: str) -> None:  # API-22, API-23, EVT-13
    api.register(producer(f"q-{uid}", f"o{uid}"))
    for i in range(5):
        api.start(f"q{uid}-act-{i}", [f"q-{uid}"], labels={"batch": uid, "kind": "act"})
        api.start(
            f"q{uid}-done-{i}",
            [f"q-{uid}"],
            {f"o{uid}": [i]},
            labels={"batch": uid, "kind": "done"},
        )
    listed = [f["id"] for f in api.http.get("/engine/flow").json() if f["id"].startswith(f"q{uid}")]
    assert listed[:5] == [
        f"q{uid}-act-{i}" for i in reversed(range(5))
    ]  # active first, most recent first
    seen: list[str] = []
    cursor = ""
    while True:
        body: dict[str, Any] = {"labels": {"batch": uid}, "limit": 3}
        if cursor:
            body["cursor"] = cursor
        page = api.http.post("/engine/flow/query", json=body).json()
        assert page["total"] == 10 and page["count"] == len(page["flows"])
        seen += [f["id"] for f in page["flows"]]
        if not page.get("has_more"):
            assert "next_cursor" not in page
            break
        cursor = page["next_cursor"]
    assert len(seen) == 10 and len(set(seen)) == 10
    assert seen[:5] == [f"q{uid}-act-{i}" for i in range(5)]  # recent_asc default
    done = api.http.post(
        "/engine/flow/query", json={"id_prefix": f"q{uid}-", "statuses": ["completed"]}
    ).json()
    assert done["count"] == 5
    desc = api.http.post(
        "/engine/flow/query", json={"labels": {"batch": uid, "kind": "act"}, "sort": "recent_desc"}
    ).json()
    assert [f["id"] for f in desc["flows"]] == [f"q{uid}-act-{i}" for i in reversed(range(5))]
    for body, message in [
        ({"id_prefix": "a:b"}, "Invalid ID prefix"),
        ({"labels": {"": "x"}}, "Invalid labels"),
        ({"statuses": ["running"]}, "Invalid statuses"),
        ({"sort": "oldest"}, "Invalid sort"),
        ({"limit": 1001}, "Limit must be between 0 and 1000"),
    ]:
        r = api.http.post("/engine/flow/query", json=body)
        assert r.status_code == 400 and r.json()["error"] == message
    bad = api.http.post("/engine/flow/query", json={"cursor": "!!!"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("invalid flow cursor")
