"""Property tests: random small catalogs against a literal transcription of SPEC 4.2.

``reference_plan`` below follows PLAN-3..7 word for word (recursive visit,
pass 1 as a fixpoint over the *whole* catalog, straight from the Step
objects). ``build_plan`` is optimized (upstream-only pass 1, iterative walk,
precomputed facts); the two must agree on every catalog.
"""

from __future__ import annotations

from typing import Any

import msgspec
import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_builders import (
    BOOM,
    POSTAL,
    fake_match,
    graph_of,
    optional,
    output,
    plan_json,
    required,
    step,
)

from argyll.engine.plan import AttributeGraph, catalog_problem
from argyll.errors import ScriptError
from argyll.model.step import AttributeSpec, Step, input_collect

NAMES = ["a", "b", "c", "d", "e"]
COLLECTS = ["", "first", "last", "some", "all", "none"]


# a literal transcription of SPEC 4.2 ----------------------------------------


def _match_script(spec: AttributeSpec) -> str:
    if spec.role == "required" and spec.required is not None and spec.required.match is not None:
        return spec.required.match.script
    return ""


def reference_plan(
    graph: AttributeGraph, goals: list[str], init: dict[str, list[Any]], preview: bool
) -> Any:
    steps = graph.steps
    has = {n for n, v in init.items() if v}

    def providers(n: str) -> list[str]:
        return graph.providers(n)

    def inputs(s: Step) -> list[tuple[str, AttributeSpec]]:
        return [(n, a) for n, a in sorted(s.attrs().items()) if a.role in ("required", "optional")]

    def blocked_inputs(s: Step) -> list[str]:
        return [n for n, a in inputs(s) if input_collect(a) == "none" and n in has]

    def outputs(s: Step) -> list[str]:
        return sorted(n for n, a in s.attrs().items() if a.role == "output")

    def outputs_init(s: Step) -> bool:
        outs = outputs(s)
        return bool(outs) and all(o in has for o in outs)

    available = set(has)
    satisfiable: set[str] = set()
    changed = True
    while changed:  # PLAN-4
        changed = False
        for sid, s in steps.items():
            if sid in satisfiable or blocked_inputs(s):
                continue
            if all(n in available for n, a in s.attrs().items() if a.role == "required"):
                satisfiable.add(sid)
                available.update(outputs(s))
                changed = True

    def status(n: str, a: AttributeSpec) -> str:  # PLAN-9 / MATCH-3
        values = init.get(n) or []
        term = bool(values) and not providers(n)
        m = u = 0
        for v in values:
            try:
                ok = fake_match("lua", _match_script(a), v)
            except ScriptError:
                return "unknown"
            m, u = (m + 1, u) if ok else (m, u + 1)
        c = input_collect(a)
        if c == "none":
            return "unmatched" if m else ("matched" if term else "unknown")
        if c == "last":
            return ("matched" if m else "unmatched") if term else "unknown"
        if c == "all":
            if u:
                return "unmatched"
            if m and term:
                return "matched"
            return "unmatched" if term else "unknown"
        return "matched" if m else ("unmatched" if term else "unknown")

    visited: set[str] = set()
    marked: set[str] = set()  # [DECISION] reported as excluded, still visitable
    needed: set[str] = set()
    included: set[str] = set()
    missing: set[str] = set()
    blocked: dict[str, list[str]] = {}

    def visit(sid: str) -> None:  # PLAN-5
        if sid in visited:
            return
        visited.add(sid)
        s = steps[sid]
        if blocked_inputs(s):
            blocked[sid] = blocked_inputs(s)
            return
        statuses = {n: status(n, a) for n, a in inputs(s) if _match_script(a)}
        if "unmatched" in statuses.values():
            gate = "closed"
        elif "unknown" in statuses.values():
            gate = "unknown"
        else:
            gate = "open"
        for n, a in inputs(s):
            gated = n in statuses
            if gate == "closed" and not gated:
                continue
            c = input_collect(a)
            if c == "first" and n in has and (not gated or statuses[n] == "matched"):
                for p in providers(n):
                    if outputs_init(steps[p]):
                        marked.add(p)
                continue
            found = False
            provs = providers(n)
            if provs:
                selected = [p for p in provs if p in satisfiable]
                if not selected and preview:
                    selected = provs
                if not (c == "all" and len(selected) != len(provs)):
                    for p in provs:
                        if p not in selected:
                            marked.add(p)
                    for p in selected:
                        found = True
                        needed.add(p)
                        visit(p)
            demanded = gate == "open" or (gate == "unknown" and gated)
            if a.role == "required" and not found and c != "none" and n not in has and demanded:
                missing.add(n)
        if sid in needed or not outputs_init(s):
            included.add(sid)

    for g in goals:
        visit(g)

    attributes: dict[str, dict[str, list[str]]] = {}
    for sid in sorted(included):  # PLAN-6
        for o in outputs(steps[sid]):
            attributes.setdefault(o, {"providers": [], "consumers": []})["providers"].append(sid)
    for sid in sorted(included):
        for n, _ in inputs(steps[sid]):
            if n in has or attributes.get(n, {}).get("providers"):
                attributes.setdefault(n, {"providers": [], "consumers": []})["consumers"].append(
                    sid
                )
    excluded: dict[str, dict[str, list[str]]] = {}
    for sid in sorted((visited | marked) - included):  # PLAN-7
        s = steps[sid]
        if sid in blocked:
            excluded.setdefault("blocked", {})[sid] = blocked[sid]
        elif outputs_init(s):
            excluded.setdefault("satisfied", {})[sid] = outputs(s)
        else:
            miss = sorted(
                n for n, a in s.attrs().items() if a.role == "required" and n not in available
            )
            if miss:
                excluded.setdefault("missing", {})[sid] = miss
    return {
        "goals": goals,
        "required": sorted(missing),
        "steps": {sid: msgspec.to_builtins(steps[sid]) for sid in sorted(included)},
        "attributes": {n: attributes[n] for n in sorted(attributes)},
        "excluded": excluded,
    }


# strategies -----------------------------------------------------------------


@st.composite
def attribute(draw: st.DrawFn) -> AttributeSpec | None:
    role = draw(st.sampled_from(["", "", "required", "optional", "output", "output"]))
    if role == "required":
        match = draw(st.sampled_from(["", "", "", POSTAL, BOOM]))
        return required(collect=draw(st.sampled_from(COLLECTS)), match=match)
    if role == "optional":
        return optional(collect=draw(st.sampled_from(COLLECTS)))
    if role == "output":
        return output()
    return None


@st.composite
def catalogs(draw: st.DrawFn) -> AttributeGraph:
    n = draw(st.integers(1, 7))
    steps = []
    for i in range(n):
        attrs = {name: a for name in NAMES if (a := draw(attribute())) is not None}
        steps.append(step(f"s{i}", attrs=attrs))
    return graph_of(*steps)


@st.composite
def requests(draw: st.DrawFn) -> tuple[AttributeGraph, list[str], dict[str, list[Any]]]:
    graph = draw(catalogs())
    ids = list(graph.steps)
    goals = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
    init = draw(
        st.dictionaries(
            st.sampled_from(NAMES),
            st.lists(st.sampled_from(["postal", "email"]), max_size=2),
            max_size=4,
        )
    )
    return graph, goals, init


def _plan(
    graph: AttributeGraph, goals: list[str], init: dict[str, list[Any]], preview: bool
) -> Any:
    return plan_json(graph, goals, init, preview=preview)


# properties -----------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(requests())
def test_planner_matches_literal_spec(
    req: tuple[AttributeGraph, list[str], dict[str, list[Any]]],
) -> None:
    graph, goals, init = req
    for preview in (False, True):
        assert _plan(graph, goals, init, preview) == reference_plan(graph, goals, init, preview)


def _blocked(graph: AttributeGraph, sid: str, init: dict[str, list[Any]]) -> bool:
    return any(init.get(n) for n in graph.facts[sid].none_inputs)


def _visited(plan: Any) -> set[str]:
    seen = set(plan["steps"])
    for group in plan["excluded"].values():
        seen |= set(group)
    return seen


@settings(max_examples=300, deadline=None)
@given(requests())
def test_plan_invariants(req: tuple[AttributeGraph, list[str], dict[str, list[Any]]]) -> None:
    graph, goals, init = req
    strict = _plan(graph, goals, init, False)
    preview = _plan(graph, goals, init, True)
    # PLAN-12: preview walks at least what strict walks.
    assert set(strict["steps"]) <= _visited(preview)
    for plan in (strict, preview):
        excluded = _visited(plan) - set(plan["steps"])
        assert sum(len(group) for group in plan["excluded"].values()) == len(excluded)
        for goal in goals:
            # [DECISION] every goal is visited itself, so it is planned or excluded.
            assert (
                goal in plan["steps"]
                or goal in excluded
                or (not _blocked(graph, goal, init) and not graph.facts[goal].required)
            )
        for edges in plan["attributes"].values():
            assert set(edges["providers"]) <= set(plan["steps"])
            assert set(edges["consumers"]) <= set(plan["steps"])
        assert plan["required"] == sorted(set(plan["required"]))  # EDGE-9


@settings(max_examples=200, deadline=None)
@given(requests())
def test_strict_steps_within_preview_steps(
    req: tuple[AttributeGraph, list[str], dict[str, list[Any]]],
) -> None:
    # With one goal, `first` inputs only and no match gates, neither quirk can
    # arise, and strict steps are a subset of preview steps.
    graph, goals, init = req
    simple = graph_of(
        *(
            step(
                sid,
                requires=f.required,
                optionals=[i.name for i in f.inputs if not i.required],
                outputs=f.outputs,
            )
            for sid, f in graph.facts.items()
        )
    )
    strict = _plan(simple, goals[:1], init, False)
    preview = _plan(simple, goals[:1], init, True)
    assert set(strict["steps"]) <= set(preview["steps"])


def test_marked_provider_is_still_visited_when_needed() -> None:
    # [DECISION] on PLAN-5: `r` is only *marked* when `q` finds `o` init-satisfied;
    # when `x` later demands it (collect last) it is visited and included. Read
    # literally, marking counted as visiting and `r` stayed excluded.satisfied,
    # so `x` would never see r's value.
    graph = graph_of(
        step("r", outputs=["o"]),
        step("q", requires=["o", "z"], outputs=["a"]),
        step("x", outputs=["b"], attrs={"o": required(collect="last")}),
        step("g", requires=["a", "b"]),
    )
    init = {"o": [1]}
    assert sorted(_plan(graph, ["g"], init, False)["steps"]) == ["g", "r", "x"]
    preview = _plan(graph, ["g"], init, True)
    assert sorted(preview["steps"]) == ["g", "q", "r", "x"]
    assert preview["excluded"] == {}


def test_goal_rejected_as_alternative_is_still_visited() -> None:
    # [DECISION] on PLAN-5: `late` is marked as a rejected alternative provider of
    # `d`; as a goal it is still visited, so it is planned (preview) or its
    # missing input is demanded (strict) instead of silently dropping the goal.
    graph = graph_of(
        step("mid", requires=["d", "e"], outputs=["c"]),
        step("late", requires=["e"], outputs=["d"]),
        step("top", requires=["c"]),
        step("alt", outputs=["d"]),
    )
    strict = _plan(graph, ["top", "late"], {}, False)
    assert sorted(strict["steps"]) == ["late", "top"]
    assert strict["required"] == ["c", "e"]
    preview = _plan(graph, ["top", "late"], {}, True)
    assert sorted(preview["steps"]) == ["alt", "late", "mid", "top"]
    assert preview["excluded"] == {}
    assert preview["required"] == ["e"]


# graph maintenance ----------------------------------------------------------


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, Step | str]]:
    ops: list[tuple[str, Step | str]] = []
    live: set[str] = set()
    for _ in range(draw(st.integers(1, 25))):
        sid = f"s{draw(st.integers(0, 5))}"
        if sid in live and draw(st.booleans()):
            ops.append(("remove", sid))
            live.discard(sid)
            continue
        attrs = {name: a for name in NAMES if (a := draw(attribute())) is not None}
        ops.append(("replace" if sid in live else "add", step(sid, attrs=attrs)))
        live.add(sid)
    return ops


def _rebuilt(graph: AttributeGraph) -> AttributeGraph:
    return graph_of(*graph.steps.values())


@settings(max_examples=150, deadline=None)
@given(operations())
def test_incremental_graph_equals_rebuilt(ops: list[tuple[str, Step | str]]) -> None:
    graph = AttributeGraph()
    for op, arg in ops:
        if op == "remove":
            assert isinstance(arg, str)
            graph.remove_step(arg)
        elif op == "add":
            assert isinstance(arg, Step)
            graph.add_step(arg)
        else:
            assert isinstance(arg, Step)
            graph.replace_step(arg)
        fresh = _rebuilt(graph)
        # CAT-6: same entries and same lists as sets (order may keep update positions)
        ours = msgspec.to_builtins(graph.to_wire())
        theirs = msgspec.to_builtins(fresh.to_wire())
        assert ours.keys() == theirs.keys()
        for name in ours:
            for side in ("providers", "consumers"):
                assert sorted(ours[name][side]) == sorted(theirs[name][side])
                assert len(set(ours[name][side])) == len(ours[name][side])
        for name, ids in graph.required_index.items():
            assert sorted(ids) == sorted(fresh.required_index[name])
        assert graph.required_index.keys() == fresh.required_index.keys()
        assert graph.flow_steps() == [s for s in graph.steps if graph.facts[s].flow_goals]
        assert set(graph.dependencies.edges) == set(fresh.dependencies.edges)
        assert set(graph.dependencies.nodes) == set(graph.steps)


@settings(max_examples=300, deadline=None)
@given(catalogs())
def test_attribute_cycle_check_agrees_with_networkx(graph: AttributeGraph) -> None:
    # Build the catalog through VAL-2: a step is kept only when it raises no cycle.
    checked = AttributeGraph()
    for s in graph.steps.values():
        if catalog_problem(checked, s) is None:
            checked.add_step(s)
            assert nx.is_directed_acyclic_graph(checked.dependencies)
        else:
            trial = checked.copy()
            trial.add_step(s)
            assert not nx.is_directed_acyclic_graph(trial.dependencies)
