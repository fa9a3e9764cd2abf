"""Catalog over HTTP (CAT-2..8, API-2..4, API-10..14, VAL-2, VAL-3)."""

from __future__ import annotations

from typing import Any

import httpx
from support import Api


def sync_step(step_id: str, attrs: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id.title(),
        "type": "sync",
        "attributes": attrs or {},
        "http": {"endpoint": "http://127.0.0.1:9/x"},
        **extra,
    }


def test_register_echoes_submitted_step_and_stores_defaults(
    api: Api, uid: str
) -> None:  # API-12, DATA-15
    body = sync_step(
        f"Reg {uid}", {f"out{uid}": {"role": "output", "type": "string"}}, labels={"team": "a"}
    )
    r = api.register(body)
    assert r.status_code == 201
    echoed = r.json()
    assert echoed["message"] == "Step registered"
    assert echoed["step"]["id"] == f"reg-{uid}"  # DATA-2: sanitized
    assert "work_config" not in echoed["step"]  # the echo is the submitted step [REF]
    stored = api.http.get(f"/engine/step/reg-{uid}").json()
    assert stored["work_config"] == {
        "max_retries": 10,
        "init_backoff": 1000,
        "max_backoff": 60000,
        "backoff_type": "exponential",
    }
    assert stored["labels"] == {"team": "a"}
    assert stored["http"] == {"endpoint": "http://127.0.0.1:9/x", "timeout": 0}


def test_identical_reregistration_is_idempotent(api: Api, uid: str) -> None:  # CAT-2
    body = sync_step(f"idem-{uid}")
    assert api.register(body).status_code == 201
    count = api.http.get("/engine/catalog/events").json()["count"]
    again = dict(body, http={"endpoint": "http://127.0.0.1:9/x", "method": "POST"})
    assert api.register(again).status_code == 201
    assert api.http.get("/engine/catalog/events").json()["count"] == count
    conflict = api.register(dict(body, name="Other"))
    assert conflict.status_code == 409
    assert conflict.json() == {"error": f"step exists: idem-{uid}", "status": 409}


def test_update_and_mismatch_and_unknown(api: Api, uid: str) -> None:  # CAT-3, API-13
    body = sync_step(f"upd-{uid}")
    api.register(body)
    r = api.http.put(f"/engine/step/upd-{uid}", json=dict(body, name="Renamed"))
    assert r.status_code == 200 and r.json()["message"] == "Step updated"
    assert api.http.get(f"/engine/step/upd-{uid}").json()["name"] == "Renamed"
    mismatch = api.http.put(f"/engine/step/other-{uid}", json=body)
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "Step ID in URL does not match step ID in body"
    missing = api.http.put(f"/engine/step/ghost-{uid}", json=sync_step(f"ghost-{uid}"))
    assert missing.status_code == 404 and missing.json()["error"] == f"step not found: ghost-{uid}"
    invalid = api.http.put(
        f"/engine/step/ghost-{uid}", json=dict(sync_step(f"ghost-{uid}"), name="")
    )
    assert invalid.status_code == 400  # CAT-3: validation before existence


def test_update_removes_stale_graph_edges(api: Api, uid: str) -> None:  # CAT-6, EDGE-8, EVT-10
    body = sync_step(f"edge-{uid}", {f"a{uid}": {"role": "output"}})
    api.register(body)
    graph = api.http.get("/engine/catalog").json()["attributes"]
    assert graph[f"a{uid}"] == {"providers": [f"edge-{uid}"], "consumers": []}
    api.http.put(
        f"/engine/step/edge-{uid}", json=sync_step(f"edge-{uid}", {f"b{uid}": {"role": "output"}})
    )
    graph = api.http.get("/engine/catalog").json()["attributes"]
    assert f"a{uid}" not in graph
    assert graph[f"b{uid}"]["providers"] == [f"edge-{uid}"]


def test_delete_and_get_and_list(
    api: Api, uid: str
) -> None:  # CAT-4, API-10, API-11, API-14, CAT-1
    api.register(sync_step(f"zz-{uid}"))
    api.register(sync_step(f"aa-{uid}"))
    ids = [s["id"] for s in api.http.get("/engine/step").json()["steps"]]
    assert ids == sorted(ids)
    assert api.http.delete(f"/engine/step/zz-{uid}").json() == {"message": "Step unregistered"}
    gone = api.http.get(f"/engine/step/zz-{uid}")
    assert gone.status_code == 404 and gone.json()["error"] == f"step not found: zz-{uid}"
    assert api.http.delete(f"/engine/step/zz-{uid}").status_code == 404
    events = api.http.get("/engine/catalog/events").json()
    assert events["count"] == len(events["events"])
    last = events["events"][-1]
    assert last["type"] == "step_unregistered" and last["data"] == {"step_id": f"zz-{uid}"}
    assert last["aggregate_id"] == ["catalog"]


def test_validation_errors_are_400_invalid_step(api: Api, uid: str) -> None:  # VAL-3, VAL-4
    before = api.http.get("/engine/catalog/events").json()["count"]
    r = api.register(sync_step(f"v-{uid}", name=""))
    assert r.status_code == 400
    assert "invalid step" in r.json()["error"] and "step name empty" in r.json()["error"]
    r = api.register(
        dict(
            sync_step(f"v-{uid}"),
            type="script",
            http=None,
            script={"language": "lua", "script": "return ((("},
        )
    )
    assert r.status_code == 400 and "invalid step" in r.json()["error"]
    assert api.http.get("/engine/catalog/events").json()["count"] == before


def test_type_conflict_and_cycles(api: Api, uid: str) -> None:  # VAL-2
    api.register(sync_step(f"t1-{uid}", {f"x{uid}": {"role": "output", "type": "string"}}))
    r = api.register(sync_step(f"t2-{uid}", {f"x{uid}": {"role": "required", "type": "number"}}))
    assert r.status_code == 400 and f"attribute type conflict: x{uid}" in r.json()["error"]
    api.register(
        sync_step(f"c1-{uid}", {f"p{uid}": {"role": "required"}, f"q{uid}": {"role": "output"}})
    )
    r = api.register(
        sync_step(f"c2-{uid}", {f"q{uid}": {"role": "required"}, f"p{uid}": {"role": "output"}})
    )
    assert r.status_code == 400 and "circular dependency detected" in r.json()["error"]
    flow = {"id": f"f1-{uid}", "name": "F", "type": "flow", "flow": {"goals": [f"f1-{uid}"]}}
    r = api.register(flow)
    assert r.status_code == 400 and "circular dependency detected" in r.json()["error"]


def test_engine_and_catalog_state(
    api: Api, uid: str
) -> None:  # API-2, API-3, API-5 shape, HEALTH-1
    api.register(
        {
            "id": f"scr-{uid}",
            "name": "S",
            "type": "script",
            "attributes": {f"o{uid}": {"role": "output"}},
            "script": {"language": "ale", "script": "{:x 1}"},
        }
    )
    state = api.http.get("/engine").json()
    assert set(state) == {"last_updated", "steps", "attributes", "health"}
    node = state["health"]["argyll-1"]
    assert node["health"][f"scr-{uid}"] == {"status": "healthy"}
    catalog = api.http.get("/engine/catalog").json()
    assert set(catalog) == {"last_updated", "steps", "attributes"}
    assert api.http.get("/engine/").status_code == 200


def test_invalid_json_is_400(api: Api) -> None:  # API-12, CONV-6
    r = api.http.post("/engine/step", content=b"{nope")
    assert r.status_code == 400 and r.json()["error"].startswith("invalid JSON request")
    r = api.http.post("/engine/step", json={"id": 5})
    assert r.status_code == 400 and r.json()["error"].startswith("invalid JSON request")
    r = httpx.post(f"{api.url}/engine/step", json={"id": "x", "unknown": {"deep": [1]}, "name": ""})
    # CONV-6 (revised): unknown fields are rejected, not ignored
    assert r.status_code == 400 and r.json()["error"] == "unknown field: unknown"
