"""The health rules as data, without I/O: EVT-11, HEALTH-2, HEALTH-3, HEALTH-5, API-16.

The HEALTH-5 cases plan over a real attribute graph with the real planner
(pure code); compile checks are a table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import pytest

from argyll.engine.health import (
    HEALTHY,
    UNKNOWN,
    ClusterState,
    HealthResolver,
    HealthState,
    NodeHealth,
    default_health,
    merge_nodes,
)
from argyll.engine.health_monitor import interval_from_env, probe_offsets
from argyll.engine.plan import AttributeGraph, build_plan
from argyll.errors import ConfigError
from argyll.model import events as ev
from argyll.model.plan import ExecutionPlan
from argyll.model.step import (
    AttributeSpec,
    FlowConfig,
    HTTPConfig,
    ScriptConfig,
    Step,
)

T0 = datetime(2025, 1, 30, 15, 23, 45, tzinfo=UTC)
T1 = datetime(2025, 1, 30, 15, 24, 0, tzinfo=UTC)
BAD_SCRIPT = "return {"


def sync(step_id: str, requires: Iterable[str] = (), outputs: Iterable[str] = ()) -> Step:
    attrs: dict[str, AttributeSpec | None] = {n: AttributeSpec(role="required") for n in requires}
    attrs.update({n: AttributeSpec(role="output") for n in outputs})
    return Step(
        id=step_id,
        name=step_id,
        type="sync",
        attributes=attrs,
        http=HTTPConfig(endpoint="http://x"),
    )


def script(step_id: str, source: str = "return {}", outputs: Iterable[str] = ()) -> Step:
    attrs: dict[str, AttributeSpec | None] = {n: AttributeSpec(role="output") for n in outputs}
    return Step(
        id=step_id,
        name=step_id,
        type="script",
        attributes=attrs,
        script=ScriptConfig(language="lua", script=source),
    )


def flow(step_id: str, goals: list[str], outputs: Iterable[str] = ()) -> Step:
    attrs: dict[str, AttributeSpec | None] = {n: AttributeSpec(role="output") for n in outputs}
    return Step(id=step_id, name=step_id, type="flow", attributes=attrs, flow=FlowConfig(goals))


def compile_error(step: Step) -> str | None:
    assert step.script is not None
    return "unexpected symbol near <eof>" if step.script.script == BAD_SCRIPT else None


def resolver(steps: Iterable[Step], base: dict[str, HealthState] | None = None) -> HealthResolver:
    graph = AttributeGraph()
    for s in steps:
        graph.add_step(s)

    def plan_goals(goals: list[str]) -> ExecutionPlan:
        return build_plan(graph, goals, {}, preview=False, match=None)

    return HealthResolver(graph.steps, base or {}, plan_goals, compile_error)


def changed(node: str, step: str, status: str, error: str = "") -> ev.StepHealthChanged:
    return ev.StepHealthChanged(node_id=node, step_id=step, status=status, error=error)


# EVT-11: the cluster projection ----------------------------------------------


def test_configured_nodes_are_present_with_empty_health() -> None:  # EVT-11, API-5
    cluster = ClusterState(["argyll-1"])
    wire = msgspec.to_builtins(cluster.to_wire())
    assert wire == {
        "last_updated": "0001-01-01T00:00:00Z",
        "nodes": {"argyll-1": {"last_seen": "0001-01-01T00:00:00Z", "health": {}}},
    }
    assert cluster.next_sequence == 0


def test_health_changed_sets_record_last_seen_and_last_updated() -> None:  # EVT-11
    cluster = ClusterState(["argyll-1"])
    cluster.apply(changed("argyll-1", "a", "unhealthy", "HTTP 503 Service Unavailable"), T0)
    cluster.apply(changed("argyll-2", "a", "healthy"), T1)  # an unconfigured node appears
    assert cluster.record("argyll-1", "a") == HealthState(
        "unhealthy", "HTTP 503 Service Unavailable"
    )
    assert cluster.nodes["argyll-1"].last_seen == T0
    assert cluster.nodes["argyll-2"].last_seen == T1
    assert cluster.last_updated == T1
    assert cluster.next_sequence == 2
    wire = msgspec.to_builtins(cluster.to_wire())
    assert wire["nodes"]["argyll-2"]["health"] == {"a": {"status": "healthy"}}  # error omitted


def test_fill_lists_every_catalog_step_without_touching_the_records() -> None:  # API-2, API-15
    cluster = ClusterState(["argyll-1"])
    cluster.apply(changed("argyll-1", "a", "healthy"), T0)
    nodes = msgspec.to_builtins(cluster.nodes_wire(["a", "b"]))
    assert nodes["argyll-1"]["health"] == {"a": {"status": "healthy"}, "b": {"status": "unknown"}}
    assert "b" not in cluster.nodes["argyll-1"].health


# HEALTH-2: events only on change ---------------------------------------------


def test_change_is_raised_only_when_status_or_error_differs() -> None:  # HEALTH-2
    cluster = ClusterState(["n"])
    first = cluster.change("n", "a", UNKNOWN)
    assert first == changed("n", "a", "unknown")  # no record yet: always recorded
    cluster.apply(first, T0)
    assert cluster.change("n", "a", UNKNOWN) is None
    assert cluster.change("n", "a", HealthState("unknown", "x")) == changed(
        "n", "a", "unknown", "x"
    )
    assert cluster.change("n", "a", HEALTHY) == changed("n", "a", "healthy")
    assert cluster.change("other", "a", UNKNOWN) is not None  # per node


# HEALTH-3: defaults on register/update -----------------------------------------


def test_defaults_by_step_type() -> None:  # HEALTH-3
    assert default_health(sync("a"), compile_error) == UNKNOWN
    assert default_health(flow("f", ["a"]), compile_error) == UNKNOWN
    assert default_health(script("s"), compile_error) == HEALTHY
    assert default_health(script("s", BAD_SCRIPT), compile_error) == HealthState(
        "unhealthy", "unexpected symbol near <eof>"
    )


# API-16: worst wins over nodes -------------------------------------------------


def test_merge_worst_wins_and_names_the_node() -> None:  # API-16
    nodes = {
        "n2": NodeHealth(health={"a": HealthState("unhealthy", "down"), "b": HEALTHY}),
        "n1": NodeHealth(health={"a": HealthState("unknown", "later"), "b": UNKNOWN, "c": HEALTHY}),
    }
    merged = merge_nodes(nodes)
    assert merged["a"] == HealthState("unhealthy", "node n2: down")
    assert merged["b"] == UNKNOWN  # unknown beats healthy
    assert merged["c"] == HEALTHY


def test_merge_among_equals_prefers_an_error() -> None:  # API-16
    nodes = {
        "n1": NodeHealth(health={"a": HealthState("unknown")}),
        "n2": NodeHealth(health={"a": HealthState("unknown", "probe pending")}),
        "n3": NodeHealth(health={"a": HealthState("unknown", "ignored")}),
    }
    assert merge_nodes(nodes)["a"] == HealthState("unknown", "node n2: probe pending")


# HEALTH-5: flow-step health ---------------------------------------------------


def test_flow_step_is_healthy_when_its_plan_is() -> None:  # HEALTH-5
    steps = [sync("a", outputs=["x"]), script("b"), flow("f", ["a"])]
    r = resolver(steps, {"a": HEALTHY})
    assert r.resolve("f") == HEALTHY
    assert r.resolve("b") == HEALTHY  # script default by compile result


def test_unhealthy_member_makes_the_flow_step_unhealthy() -> None:  # HEALTH-5
    steps = [
        sync("fetch", outputs=["raw"]),
        sync("parse", requires=["raw"], outputs=["doc"]),
        flow("f", ["parse"]),
    ]
    r = resolver(steps, {"fetch": HealthState("unhealthy", "HTTP 503 Service Unavailable")})
    assert r.resolve("f") == HealthState("unhealthy", "step fetch: HTTP 503 Service Unavailable")
    bare = resolver(steps, {"fetch": HealthState("unhealthy")})
    assert bare.resolve("f") == HealthState("unhealthy", "step fetch unhealthy")


def test_unhealthy_wins_over_unknown_with_error() -> None:  # HEALTH-5
    steps = [
        sync("a", outputs=["x"]),
        sync("b", requires=["x"], outputs=["y"]),
        flow("f", ["b"]),
    ]
    base = {"a": HealthState("unknown", "not probed"), "b": HealthState("unhealthy", "down")}
    assert resolver(steps, base).resolve("f") == HealthState("unhealthy", "step b: down")


def test_unknown_with_error_is_reported_plain_unknown_is_not() -> None:  # HEALTH-5
    steps = [sync("a", outputs=["x"]), sync("b", requires=["x"], outputs=["y"]), flow("f", ["b"])]
    assert resolver(steps, {"a": UNKNOWN}).resolve("f") == HEALTHY
    base = {"a": HealthState("unknown", "no answer yet")}
    assert resolver(steps, base).resolve("f") == HealthState("unknown", "step a: no answer yet")


def test_nested_flow_steps_are_resolved_through_their_own_plans() -> None:  # HEALTH-5
    steps = [
        sync("leaf", outputs=["x"]),
        flow("inner", ["leaf"], outputs=["y"]),
        flow("outer", ["inner"]),
    ]
    r = resolver(steps, {"leaf": HealthState("unhealthy", "refused")})
    assert r.resolve("inner") == HealthState("unhealthy", "step leaf: refused")
    assert r.resolve("outer") == HealthState("unhealthy", "step inner: step leaf: refused")


def test_a_flow_steps_own_record_never_hides_its_derivation() -> None:  # HEALTH-5
    steps = [sync("a", outputs=["x"]), flow("f", ["a"])]
    base = {"a": HealthState("unhealthy", "down"), "f": HEALTHY}
    assert resolver(steps, base).resolve("f") == HealthState("unhealthy", "step a: down")


def test_plan_failure_is_unknown_with_the_reason() -> None:  # HEALTH-5
    steps = [flow("f", ["missing"])]
    health = resolver(steps).resolve("f")
    assert health.status == "unknown"
    assert health.error.startswith("flow preview failed for f: ")
    assert "missing" in health.error


def test_cycle_through_plans_is_unknown() -> None:  # HEALTH-5
    f = flow("f", ["f"])

    def plan_goals(goals: list[str]) -> ExecutionPlan:
        return ExecutionPlan(goals=goals, steps={"f": f})

    r = HealthResolver({"f": f}, {}, plan_goals, compile_error)
    assert r.resolve("f") == HealthState("unknown", "step f: flow health cycle at step f")


def test_non_flow_step_uses_its_record_unless_plain_unknown() -> None:  # HEALTH-5
    steps = [sync("a"), script("s"), script("bad", BAD_SCRIPT)]
    r = resolver(steps, {"a": HealthState("unknown", "pending"), "s": UNKNOWN})
    assert r.resolve("a") == HealthState("unknown", "pending")
    assert r.resolve("s") == HEALTHY  # plain unknown -> type default (compiles)
    assert r.resolve("bad").status == "unhealthy"
    assert r.resolve("nope") == HealthState("unknown", "step not found: nope")
    assert set(r.flow_steps()) == set()


# HEALTH-4: the checker's schedule and interval ---------------------------------


def test_probes_spread_evenly_over_the_interval() -> None:  # HEALTH-4
    assert probe_offsets(0, 30.0) == []
    assert probe_offsets(1, 30.0) == [0.0]
    assert probe_offsets(4, 30.0) == [0.0, 7.5, 15.0, 22.5]


def test_interval_variable() -> None:  # HEALTH-4, CFG-1
    assert interval_from_env({}) == 30.0
    assert interval_from_env({"HEALTH_CHECK_INTERVAL": ""}) == 30.0
    assert interval_from_env({"HEALTH_CHECK_INTERVAL": "250"}) == 0.25
    with pytest.raises(ConfigError, match='invalid HEALTH_CHECK_INTERVAL: "fast"'):
        interval_from_env({"HEALTH_CHECK_INTERVAL": "fast"})
    with pytest.raises(ConfigError, match=r"0 out of range \[1, 86400000\]"):
        interval_from_env({"HEALTH_CHECK_INTERVAL": "0"})
