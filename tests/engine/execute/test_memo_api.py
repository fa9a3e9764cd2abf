"""Memoization over HTTP: cached results per work item, only successes,
the functional key, every success path, and the LRU bound
(SPEC 10 MEMO-1..4, CONV-7).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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
    types,
)
from local_engine import LocalEngine
from starlette.responses import Response
from support import Api, eventually


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    with serve() as service:
        yield service


def lookup(svc: Service, step_id: str, path: str, uid: str, **extra: Any) -> dict[str, Any]:
    return http_step(
        step_id,
        f"{svc.url}{path}",
        {f"xs{uid}": req(for_each=True, name="x"), f"r{uid}": out("r")},
        memoizable=True,
        **extra,
    )


def upper(body: dict[str, Any]) -> dict[str, Any]:
    return {"r": str(body["x"]).upper()}


def work_events(events: list[dict[str, Any]]) -> list[tuple[str, Any, bool]]:
    """(type, item value, cached) for work_started/work_succeeded, via the item tokens."""
    started = of_type(events, "step_started")
    overlay = {t: o for s in started for t, o in s["work_items"].items()}
    return [
        (e["type"], overlay[e["data"]["token"]].get("x"), bool(e["data"].get("cached")))
        for e in events
        if e["type"] in ("work_started", "work_succeeded")
    ]


def test_items_are_cached_one_by_one_and_across_flows(
    api: Api, uid: str, svc: Service
) -> None:  # MEMO-1, MEMO-3, MEMO-4, WORK-6
    path = f"/lookup-{uid}"
    svc.on(path, upper)
    register_all(api, lookup(svc, f"lookup-{uid}", path, uid))
    api.start(f"a-{uid}", [f"lookup-{uid}"], {f"xs{uid}": [["apple", "banana", "apple"]]})
    state = api.wait_terminal(f"a-{uid}")
    assert state["status"] == "completed"
    assert [c.body["x"] for c in svc.calls_to(path)] == ["apple", "banana"]
    # the second apple is served from the cache: work_succeeded, cached, no work_started
    assert work_events(api.events(f"a-{uid}")) == [
        ("work_started", "apple", False),
        ("work_succeeded", "apple", False),
        ("work_started", "banana", False),
        ("work_succeeded", "banana", False),
        ("work_succeeded", "apple", True),
    ]
    assert [e["r"] for e in state["executions"][f"lookup-{uid}"]["outputs"][f"r{uid}"]] == [
        "APPLE",
        "BANANA",
        "APPLE",
    ]

    api.start(f"b-{uid}", [f"lookup-{uid}"], {f"xs{uid}": [["banana", "cherry"]]})
    assert api.wait_terminal(f"b-{uid}")["status"] == "completed"
    assert [c.body["x"] for c in svc.calls_to(path)] == ["apple", "banana", "cherry"]
    assert work_events(api.events(f"b-{uid}"))[0] == ("work_succeeded", "banana", True)


def test_only_successes_are_cached(api: Api, uid: str, svc: Service) -> None:  # MEMO-3
    path = f"/flaky-{uid}"
    answers = {"perm": [problem(422, "not yet")], "trans": [Response(status_code=503)]}

    def behave(body: dict[str, Any]) -> Any:
        queue = answers.get(body["x"], [])
        return queue.pop(0) if queue else upper(body)

    svc.on(path, behave)
    register_all(api, lookup(svc, f"flaky-{uid}", path, uid))
    # a permanent failure is not cached: the next flow calls the service again
    api.start(f"a-{uid}", [f"flaky-{uid}"], {f"xs{uid}": [["perm"]]})
    assert api.wait_terminal(f"a-{uid}")["status"] == "failed"
    api.start(f"b-{uid}", [f"flaky-{uid}"], {f"xs{uid}": [["perm"]]})
    assert api.wait_terminal(f"b-{uid}")["status"] == "completed"
    assert len(svc.calls_to(path)) == 2
    # a transient failure retried to success is cached once it succeeded
    api.start(f"c-{uid}", [f"flaky-{uid}"], {f"xs{uid}": [["trans"]]})
    assert api.wait_terminal(f"c-{uid}")["status"] == "completed"
    api.start(f"d-{uid}", [f"flaky-{uid}"], {f"xs{uid}": [["trans", "perm"]]})
    assert api.wait_terminal(f"d-{uid}")["status"] == "completed"
    assert [c.body["x"] for c in svc.calls_to(path)] == ["perm", "perm", "trans", "trans"]
    assert [cached for _, _, cached in work_events(api.events(f"d-{uid}"))] == [True, True]


def test_the_key_is_the_functional_definition_and_the_inputs(
    api: Api, uid: str, svc: Service
) -> None:  # MEMO-2, CONV-7
    path = f"/key-{uid}"
    svc.on(path, lambda b: {"r": b["x"] * 2})
    register_all(api, lookup(svc, f"one-{uid}", path, uid))
    api.start(f"a-{uid}", [f"one-{uid}"], {f"xs{uid}": [[5]]})
    api.wait_terminal(f"a-{uid}")
    # 5.0 equals 5; an identical definition under another ID and name shares the entry
    same = {**lookup(svc, f"two-{uid}", path, uid), "name": "Another name", "labels": {"k": "v"}}
    register_all(api, same)
    api.start(f"b-{uid}", [f"two-{uid}"], {f"xs{uid}": [[5.0]]})
    assert api.wait_terminal(f"b-{uid}")["executions"][f"two-{uid}"]["outputs"] == {f"r{uid}": 10}
    assert len(svc.calls_to(path)) == 1
    # any functional change invalidates it
    changed = lookup(svc, f"two-{uid}", path, uid, http={"timeout": 4000})
    assert api.http.put(f"/engine/step/two-{uid}", json=changed).status_code == 200
    api.start(f"c-{uid}", [f"two-{uid}"], {f"xs{uid}": [[5]]})
    api.wait_terminal(f"c-{uid}")
    assert len(svc.calls_to(path)) == 2


def test_webhook_and_script_successes_are_cached(
    api: Api, uid: str, svc: Service
) -> None:  # MEMO-3 (any path), MEMO-4
    path = f"/async-{uid}"
    svc.on(path, lambda _: Response(status_code=202))
    register_all(
        api,
        lookup(svc, f"async-{uid}", path, uid, type="async"),
        script_step(
            f"lua-{uid}",
            "lua",
            "return {r = string.upper(x)}",
            {f"xs{uid}": req(for_each=True, name="x"), f"r{uid}": out("r")},
            memoizable=True,
        ),
    )
    api.start(f"a-{uid}", [f"async-{uid}"], {f"xs{uid}": [["k"]]})
    call = eventually(lambda: svc.calls_to(path))[0]
    assert httpx.post(call.headers["argyll-webhook-url"], json={"r": "hooked"}).status_code == 200
    assert api.wait_terminal(f"a-{uid}")["status"] == "completed"
    api.start(f"b-{uid}", [f"async-{uid}"], {f"xs{uid}": [["k"]]})
    state = api.wait_terminal(f"b-{uid}")
    assert state["executions"][f"async-{uid}"]["outputs"] == {f"r{uid}": "hooked"}
    assert len(svc.calls_to(path)) == 1

    for flow in ("c", "d"):
        api.start(f"{flow}-{uid}", [f"lua-{uid}"], {f"xs{uid}": [["q"]]})
        state = api.wait_terminal(f"{flow}-{uid}")
        assert state["executions"][f"lua-{uid}"]["outputs"] == {f"r{uid}": "Q"}
    assert "work_started" in types(api.events(f"c-{uid}"))
    assert "work_started" not in types(api.events(f"d-{uid}"))
    assert of_type(api.events(f"d-{uid}"), "work_succeeded")[0]["cached"] is True


def test_cache_is_an_lru_bounded_by_memo_cache_size_and_not_persisted(
    tmp_path: Path, uid: str, svc: Service
) -> None:  # MEMO-1
    env = {"MEMO_CACHE_SIZE": "2"}
    engine = LocalEngine(tmp_path / "data", env).start()  # SQLite: the flows survive
    try:
        api = Api(engine.url)
        path = f"/lru-{uid}"
        svc.on(path, upper)
        register_all(api, lookup(svc, f"lru-{uid}", path, uid))

        def run(flow: str, *items: str) -> list[str]:
            """Run a flow; returns the items the service was called for."""
            before = len(svc.calls_to(path))
            api.start(f"{flow}-{uid}", [f"lru-{uid}"], {f"xs{uid}": [list(items)]})
            assert api.wait_terminal(f"{flow}-{uid}")["status"] == "completed"
            return [c.body["x"] for c in svc.calls_to(path)[before:]]

        assert run("f1", "a", "b", "c") == ["a", "b", "c"]  # a is evicted: {b, c}
        assert run("f2", "a") == ["a"]  # miss; b is evicted: {c, a}
        assert run("f3", "c") == []  # hit
        assert run("f4", "b") == ["b"]  # miss
        api.close()
        engine.stop()
        engine = LocalEngine(tmp_path / "data", env).start()
        api = Api(engine.url)
        assert api.flow(f"f4-{uid}")["status"] == "completed"  # the same store
        assert run("f5", "b") == ["b"]  # the cache did not survive the restart
    finally:
        api.close()
        engine.stop()
