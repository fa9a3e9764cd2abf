"""VAL-2: catalog consistency of a candidate step (type conflicts and cycles)."""

from __future__ import annotations

import msgspec
from plan_builders import graph_of, optional, output, required, step

from argyll.engine.plan import AttributeGraph, catalog_problem

# type conflicts -------------------------------------------------------------


class conflict:  # reads as a value in asserts
    """Equal to any ``attribute type conflict: <name>: ...`` text."""

    def __init__(self, name: str) -> None:
        self.prefix = f"attribute type conflict: {name}: "

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(self.prefix)

    __hash__ = None  # type: ignore[assignment]


def test_val2_type_conflict() -> None:
    graph = graph_of(step("a", outputs=["x"]))
    new = step("b", attrs={"x": required(type="number")})
    assert catalog_problem(graph, new) == (
        'attribute type conflict: x: step "b" declares number; '
        'already declared as string by step "a"'
    )


def test_val2_conflict_names_every_other_step_and_type() -> None:  # issue 16
    graph = graph_of(
        step("a", outputs=["x"]),
        step("b", attrs={"x": required(type="")}),
        step("c", requires=["x"]),
    )
    new = step("d", attrs={"x": required(type="number")})
    assert catalog_problem(graph, new) == (
        'attribute type conflict: x: step "d" declares number; '
        'already declared as string by steps "a", "c" and as untyped by step "b"'
    )


def test_val2_unset_type_is_a_distinct_value() -> None:
    graph = graph_of(step("a", outputs=["x"]))
    assert catalog_problem(graph, step("b", attrs={"x": optional(type="")})) == conflict("x")
    untyped = graph_of(step("a", attrs={"x": output(type="")}))
    assert catalog_problem(untyped, step("b", requires=["x"])) == conflict("x")
    assert catalog_problem(untyped, step("b", attrs={"x": required(type="")})) is None


def test_val2_same_type_any_role_is_fine() -> None:
    graph = graph_of(step("a", outputs=["x"]), step("b", requires=["x"]))
    assert catalog_problem(graph, step("c", optionals=["x"])) is None


def test_val2_own_previous_version_is_ignored() -> None:
    graph = graph_of(step("a", outputs=["x"]))
    assert catalog_problem(graph, step("a", attrs={"x": output(type="number")})) is None


def test_val2_own_previous_version_ignored_but_others_count() -> None:
    graph = graph_of(step("a", outputs=["x"]), step("b", requires=["x"]))
    assert catalog_problem(graph, step("a", attrs={"x": output(type="number")})) == conflict("x")


def test_val2_first_conflict_in_name_order() -> None:
    graph = graph_of(step("a", outputs=["m", "b"]))
    new = step("c", attrs={"m": required(type="number"), "b": required(type="number")})
    assert catalog_problem(graph, new) == conflict("b")


def test_val2_type_conflict_checked_before_cycles() -> None:
    graph = graph_of(step("a", requires=["y"], outputs=["x"]))
    new = step("b", outputs=["y"], attrs={"x": required(type="number")})
    assert catalog_problem(graph, new) == conflict("x")


# attribute cycles -----------------------------------------------------------


def test_val2_two_step_cycle_reports_new_step() -> None:
    graph = graph_of(step("a", requires=["y"], outputs=["x"]))
    assert catalog_problem(graph, step("b", requires=["x"], outputs=["y"])) == (
        "circular dependency detected: step b"
    )


def test_val2_self_cycle_through_own_downstream() -> None:
    # A step cannot declare one name as both input and output (attribute names are
    # keys), so the tightest self-cycle closes through a single other step.
    graph = graph_of(step("echo", requires=["out"], outputs=["in"]))
    assert catalog_problem(graph, step("self", requires=["in"], outputs=["out"])) == (
        "circular dependency detected: step self"
    )


def test_val2_long_cycle_and_optional_inputs_count() -> None:
    graph = graph_of(
        step("a", optionals=["z"], outputs=["x"]),
        step("b", requires=["x"], outputs=["y"]),
    )
    assert catalog_problem(graph, step("c", requires=["y"], outputs=["z"])) == (
        "circular dependency detected: step c"
    )


def test_val2_update_creating_a_cycle() -> None:
    graph = graph_of(
        step("a", outputs=["x"]),
        step("b", requires=["x"], outputs=["y"]),
    )
    assert catalog_problem(graph, step("a", requires=["y"], outputs=["x"])) == (
        "circular dependency detected: step a"
    )


def test_val2_old_version_edges_do_not_count() -> None:
    # b used to output y (which a consumes); its update drops that output.
    graph = graph_of(
        step("b", requires=["x"], outputs=["y"]),
        step("a", requires=["y"], outputs=["w"]),
    )
    assert catalog_problem(graph, step("b", requires=["x"], outputs=["v"])) is None
    # and an added input does not see a stale provider of the old version:
    assert catalog_problem(graph, step("a", requires=["v"], outputs=["x"])) is None


def test_val2_diamond_is_not_a_cycle(diamond: AttributeGraph) -> None:
    assert catalog_problem(diamond, step("after", requires=["done", "seed", "l"])) is None


def test_val2_deep_chain_without_recursion() -> None:
    n = 3000
    steps = [step("s0", outputs=["a0"])]
    steps += [step(f"s{i}", requires=[f"a{i - 1}"], outputs=[f"a{i}"]) for i in range(1, n)]
    graph = graph_of(*steps)
    assert catalog_problem(graph, step("s0", requires=[f"a{n - 1}"], outputs=["a0"])) == (
        "circular dependency detected: step s0"
    )
    assert catalog_problem(graph, step("tail", requires=[f"a{n - 1}"])) is None


def test_val2_does_not_mutate_the_graph(chain: AttributeGraph) -> None:
    before = (chain.version, msgspec.to_builtins(chain.to_wire()))
    catalog_problem(chain, step("resolver", requires=["result"], outputs=["data"]))
    catalog_problem(chain, step("new", outputs=["data"]))
    assert (chain.version, msgspec.to_builtins(chain.to_wire())) == before


# flow-composition cycles ----------------------------------------------------


def test_val2_flow_self_goal() -> None:
    assert catalog_problem(AttributeGraph(), step("f", goals=["f"])) == (
        "circular dependency detected: step f"
    )


def test_val2_flow_cycle_completed_later_reports_first_registered() -> None:
    graph = graph_of(step("f1", goals=["f2"]))  # f2 unknown: ignored at registration
    assert catalog_problem(graph, step("f2", goals=["f1"])) == (
        "circular dependency detected: step f1"
    )


def test_val2_flow_cycle_via_update() -> None:
    graph = graph_of(step("f1", goals=["f2"]), step("f2", goals=["leaf"]), step("leaf"))
    assert catalog_problem(graph, step("f2", goals=["leaf", "f1"])) == (
        "circular dependency detected: step f1"
    )
    assert catalog_problem(graph, step("f1", goals=["leaf"])) is None


def test_val2_flow_unknown_goals_and_plain_goals_are_fine() -> None:
    graph = graph_of(step("leaf"), step("f1", goals=["leaf", "ghost"]))
    assert catalog_problem(graph, step("f2", goals=["f1", "leaf", "nobody"])) is None


def test_val2_flow_step_turned_plain_breaks_cycle() -> None:
    graph = AttributeGraph()
    graph.add_step(step("f1", goals=["f2"]))
    graph.add_step(step("f2", goals=["f3"]))
    graph.add_step(step("f3"))
    # f3 becoming a flow step back to f1 is a cycle; reported at the first walk start.
    assert catalog_problem(graph, step("f3", goals=["f1"])) == (
        "circular dependency detected: step f1"
    )


def test_val2_attribute_cycle_checked_before_flow_cycle() -> None:
    graph = graph_of(step("a", requires=["y"], outputs=["x"]))
    new = step("b", requires=["x"], outputs=["y"], goals=["b"])
    assert catalog_problem(graph, new) == "circular dependency detected: step b"
    graph2 = graph_of(step("a", requires=["y"], outputs=["x"]), step("f", goals=["g"]))
    assert catalog_problem(graph2, step("g", requires=["x"], outputs=["y"], goals=["f"])) == (
        "circular dependency detected: step g"
    )
