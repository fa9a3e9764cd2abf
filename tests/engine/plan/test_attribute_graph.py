"""CAT-6: the catalog attribute graph and the step dependency graph."""

from __future__ import annotations

import msgspec
import pytest
from plan_builders import const, graph_of, meta, optional, step

from argyll.engine.plan import AttributeGraph


def wire(graph: AttributeGraph) -> object:
    return msgspec.to_builtins(graph.to_wire())


def test_cat6_entries_for_every_role(chain: AttributeGraph) -> None:
    graph = graph_of(
        step("a", requires=["r"], optionals=["o"], outputs=["out"], attrs={"c": const()}),
        step("b", attrs={"m": meta()}),
    )
    assert wire(graph) == {
        "c": {"providers": [], "consumers": []},
        "m": {"providers": [], "consumers": []},
        "o": {"providers": [], "consumers": ["a"]},
        "out": {"providers": ["a"], "consumers": []},
        "r": {"providers": [], "consumers": ["a"]},
    }


def test_cat6_registration_order(chain: AttributeGraph) -> None:
    chain.add_step(step("second-resolver", outputs=["data"]))
    chain.add_step(step("a-consumer", requires=["data"]))
    assert chain.providers("data") == ["resolver", "second-resolver"]
    assert chain.consumers("data") == ["processor", "a-consumer"]
    assert list(chain.steps) == [
        "resolver",
        "processor",
        "collector",
        "second-resolver",
        "a-consumer",
    ]


def test_cat6_providers_returns_a_copy(chain: AttributeGraph) -> None:
    chain.providers("data").append("intruder")
    assert chain.providers("data") == ["resolver"]
    assert chain.providers("unknown") == []


def test_cat6_unregister_drops_edges_and_empty_entries(chain: AttributeGraph) -> None:
    chain.remove_step("resolver")
    assert wire(chain) == {
        "data": {"providers": [], "consumers": ["processor"]},
        "result": {"providers": ["processor"], "consumers": ["collector"]},
    }
    chain.remove_step("processor")
    assert wire(chain) == {"result": {"providers": [], "consumers": ["collector"]}}
    chain.remove_step("collector")
    assert wire(chain) == {}
    assert len(chain) == 0


def test_cat6_entry_kept_while_another_step_declares_the_name() -> None:
    # Our reading of CAT-6: an entry exists exactly while some step declares the name.
    graph = graph_of(step("provider", outputs=["x"]), step("fixed", attrs={"x": const()}))
    graph.remove_step("provider")
    assert wire(graph) == {"x": {"providers": [], "consumers": []}}


def test_cat6_add_existing_raises(chain: AttributeGraph) -> None:
    with pytest.raises(ValueError, match="step exists: resolver"):
        chain.add_step(step("resolver", outputs=["data"]))
    with pytest.raises(KeyError):
        chain.remove_step("ghost")
    with pytest.raises(KeyError):
        chain.replace_step(step("ghost"))


def test_edge8_update_removes_stale_edges(chain: AttributeGraph) -> None:
    # CAT-6 [DECISION] / EDGE-8: the old version's edges go away on update.
    chain.replace_step(step("resolver", outputs=["other"]))
    assert chain.providers("data") == []
    assert chain.providers("other") == ["resolver"]
    assert wire(chain)["data"] == {"providers": [], "consumers": ["processor"]}
    assert not chain.dependencies.has_edge("resolver", "processor")


def test_cat6_update_keeps_positions_of_kept_edges() -> None:
    graph = graph_of(
        step("first", outputs=["x"]),
        step("second", outputs=["x"]),
        step("user", requires=["x"], optionals=["y"]),
        step("other-user", requires=["x"]),
    )
    graph.replace_step(step("first", outputs=["x", "z"]))
    assert graph.providers("x") == ["first", "second"]
    graph.replace_step(step("user", requires=["x", "y"]))  # y: optional -> required
    assert graph.consumers("x") == ["user", "other-user"]
    assert graph.consumers("y") == ["user"]
    assert list(graph.steps) == ["first", "second", "user", "other-user"]
    graph.replace_step(step("user", optionals=["y"]))
    assert graph.consumers("x") == ["other-user"]


def test_cat6_role_change_moves_step_between_lists() -> None:
    graph = graph_of(step("s", outputs=["x"]))
    graph.replace_step(step("s", requires=["x"]))
    assert wire(graph) == {"x": {"providers": [], "consumers": ["s"]}}


def test_dependency_graph_tracks_changes(diamond: AttributeGraph) -> None:
    deps = diamond.dependencies
    assert sorted(deps.edges) == [
        ("left", "sink"),
        ("right", "sink"),
        ("source", "left"),
        ("source", "right"),
    ]
    diamond.replace_step(step("right", optionals=["l"], outputs=["r"]))
    assert sorted(deps.edges) == [
        ("left", "right"),
        ("left", "sink"),
        ("right", "sink"),
        ("source", "left"),
    ]
    diamond.remove_step("left")
    assert sorted(deps.edges) == [("right", "sink")]
    assert sorted(deps.nodes) == ["right", "sink", "source"]


def test_dependency_graph_for_ancestors(chain: AttributeGraph) -> None:
    import networkx as nx

    assert nx.ancestors(chain.dependencies, "collector") == {"resolver", "processor"}


def test_copy_is_independent(chain: AttributeGraph) -> None:
    other = chain.copy()
    other.add_step(step("more", outputs=["data"]))
    other.remove_step("collector")
    assert chain.providers("data") == ["resolver"]
    assert "collector" in chain.steps
    assert chain.dependencies.has_node("collector")
    assert other.providers("data") == ["resolver", "more"]
    assert wire(other)["data"] == {"providers": ["resolver", "more"], "consumers": ["processor"]}


def test_declared_types_and_version() -> None:
    graph = AttributeGraph()
    assert graph.version == 0
    graph.add_step(step("a", outputs=["x"]))
    graph.add_step(step("b", attrs={"x": optional(type="")}))
    assert dict(graph.declared_types("x")) == {"string": 1, "": 1}
    graph.remove_step("a")
    assert dict(graph.declared_types("x")) == {"": 1}
    assert graph.version == 3


def test_flow_steps_in_registration_order() -> None:
    graph = graph_of(
        step("f2", goals=["x"]),
        step("plain"),
        step("f1", goals=["y"]),
    )
    assert graph.flow_steps() == ["f2", "f1"]
    graph.replace_step(step("plain", goals=["z"]))
    assert graph.flow_steps() == ["f2", "plain", "f1"]
