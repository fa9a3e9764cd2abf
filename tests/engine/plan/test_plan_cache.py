"""The plan cache (engine/plan/cache.py): hits, invalidation, and match-gate bypass."""

from __future__ import annotations

from typing import Any

from argyll.engine.plan import AttributeGraph, build_plan
from argyll.engine.plan.cache import PlanCache
from argyll.model.step import Step


def sync(step_id: str, attrs: dict[str, Any]) -> Step:
    import msgspec

    return msgspec.convert(
        {
            "id": step_id,
            "name": step_id,
            "type": "sync",
            "attributes": attrs,
            "http": {"endpoint": "http://svc"},
        },
        Step,
    )


def counting(graph: AttributeGraph, goals: list[str], init: dict[str, list[Any]]) -> Any:
    calls = {"n": 0}

    def build() -> Any:
        calls["n"] += 1
        return build_plan(graph, goals, init, preview=False, match=None)

    return calls, build


def test_same_shape_hits_and_changes_miss() -> None:  # PLAN-11
    graph = AttributeGraph()
    graph.add_step(sync("a", {"x": {"role": "output"}}))
    graph.add_step(sync("b", {"x": {"role": "required"}, "y": {"role": "output"}}))
    cache = PlanCache()
    calls, build = counting(graph, ["b"], {})
    first = cache.get(graph, ["b"], {}, False, build)
    assert cache.get(graph, ["b"], {"z": []}, False, build) is first  # empty list = not provided
    assert calls["n"] == 1
    cache.get(graph, ["b"], {"x": [1]}, False, build)  # another provided-name set
    assert calls["n"] == 2
    graph.add_step(sync("c", {"y": {"role": "required"}}))  # catalog change
    cache.get(graph, ["b"], {}, False, build)
    assert calls["n"] == 3


def test_gated_catalogs_are_never_cached() -> None:  # PLAN-9 reads init values
    graph = AttributeGraph()
    gate = {"language": "lua", "script": "return value == 'x'"}
    graph.add_step(sync("g", {"k": {"role": "required", "required": {"match": gate}}}))
    cache = PlanCache()
    calls, build = counting(graph, ["g"], {"k": ["x"]})
    cache.get(graph, ["g"], {"k": ["x"]}, False, build)
    cache.get(graph, ["g"], {"k": ["x"]}, False, build)
    assert calls["n"] == 2


def test_bounded() -> None:
    graph = AttributeGraph()
    graph.add_step(sync("a", {"x": {"role": "output"}}))
    cache = PlanCache(size=2)
    for names in (["p"], ["q"], ["r"]):
        cache.get(
            graph,
            ["a"],
            {n: [1] for n in names},
            False,
            lambda: build_plan(graph, ["a"], {}, preview=False, match=None),
        )
    assert len(cache._plans) == 2
