"""Planner rules PLAN-1..12 beyond the worked examples."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from plan_builders import (
    BOOM,
    POSTAL,
    const,
    graph_of,
    meta,
    optional,
    output,
    plan_json,
    plan_of,
    required,
    step,
)

from argyll.engine.plan import AttributeGraph, build_plan, placeholder_init
from argyll.errors import BadRequestError, InternalError, NotFoundError

# PLAN-1 ---------------------------------------------------------------------


def test_plan1_goals_verbatim_and_optional_maps_omitted(chain: AttributeGraph) -> None:
    plan = plan_of(chain, ["collector", "collector"])
    assert plan.goals == ["collector", "collector"]
    wire = msgspec.json.decode(msgspec.json.encode(plan))
    assert wire["excluded"] == {}
    assert "children" not in wire


def test_plan1_required_is_sorted() -> None:
    graph = graph_of(step("goal", requires=["zeta", "alpha", "mu"]))
    assert plan_of(graph, ["goal"]).required == ["alpha", "mu", "zeta"]


# PLAN-2 ---------------------------------------------------------------------


def test_plan2_empty_goals(chain: AttributeGraph) -> None:
    with pytest.raises(BadRequestError, match=r"^at least one goal step is required$"):
        plan_of(chain, [])


def test_plan2_unknown_goal_lists_whole_request(chain: AttributeGraph) -> None:
    with pytest.raises(NotFoundError) as info:
        plan_of(chain, ["collector", "nope", "resolver"])
    assert info.value.message == "step not found: [collector nope resolver]"
    assert info.value.status == 404


# PLAN-3 ---------------------------------------------------------------------


def test_plan3_optional_none_input_blocks_too() -> None:
    graph = graph_of(
        step("goal", outputs=["out"], attrs={"b": optional(collect="none"), "a": required()})
    )
    plan = plan_json(graph, ["goal"], {"b": [1], "a": [1]})
    assert plan["steps"] == {}
    assert plan["excluded"] == {"blocked": {"goal": ["b"]}}


def test_plan3_blocked_names_sorted() -> None:
    graph = graph_of(
        step("goal", attrs={n: required(collect="none") for n in ["z", "a", "m"]}),
    )
    plan = plan_json(graph, ["goal"], {"z": [1], "a": [1], "m": [1]})
    assert plan["excluded"] == {"blocked": {"goal": ["a", "m", "z"]}}


def test_plan3_empty_init_list_does_not_block() -> None:
    # DATA-30: an empty list counts as not provided.
    graph = graph_of(step("goal", attrs={"a": required(collect="none")}))
    plan = plan_json(graph, ["goal"], {"a": []})
    assert list(plan["steps"]) == ["goal"]


def test_plan3_blocked_provider_is_not_recorded_blocked() -> None:
    # A blocked provider is unsatisfiable and rejected without a visit, so it is
    # not "recorded as blocked" (PLAN-7); its required inputs are all available,
    # so its missing list is empty and it is omitted. The consumer needs `data`.
    graph = graph_of(
        step("blocked", outputs=["data"], attrs={"flag": required(collect="none")}),
        step("consumer", requires=["data"], outputs=["result"]),
    )
    plan = plan_json(graph, ["consumer"], {"flag": ["ready"]})
    assert list(plan["steps"]) == ["consumer"]
    assert plan["required"] == ["data"]
    assert plan["excluded"] == {}


def test_plan3_blocked_provider_in_preview_is_visited_and_blocked() -> None:
    # Preview selects all providers when none is satisfiable, so the blocked one is visited.
    graph = graph_of(
        step("blocked", outputs=["data"], attrs={"flag": required(collect="none")}),
        step("consumer", requires=["data"], outputs=["result"]),
    )
    plan = plan_json(graph, ["consumer"], {"flag": ["ready"]}, preview=True)
    assert list(plan["steps"]) == ["consumer"]
    assert plan["required"] == []
    assert plan["excluded"] == {"blocked": {"blocked": ["flag"]}}


# PLAN-4 / PLAN-5 ------------------------------------------------------------


def test_plan4_optional_inputs_never_affect_satisfiability(optional_input: AttributeGraph) -> None:
    plan = plan_json(optional_input, ["processor"])
    assert sorted(plan["steps"]) == ["processor", "resolver"]
    assert plan["required"] == []
    assert plan["attributes"]["optional_data"] == {
        "providers": ["resolver"],
        "consumers": ["processor"],
    }
    assert "unprovided" not in plan["attributes"]  # PLAN-6


def test_plan5_collect_all_with_unsatisfiable_provider_is_no_provider() -> None:
    # PLAN-5c: `all` needs every provider; a partial selection demands nothing
    # and marks nothing, and the input is reported required.
    graph = graph_of(
        step("good", outputs=["x"]),
        step("bad", requires=["seed"], outputs=["x"]),
        step("goal", outputs=["out"], attrs={"x": required(collect="all")}),
    )
    plan = plan_json(graph, ["goal"])
    assert list(plan["steps"]) == ["goal"]
    assert plan["required"] == ["x"]
    assert plan["excluded"] == {}
    # Preview also selects only the satisfiable one, so the result is the same.
    assert plan_json(graph, ["goal"], preview=True) == plan


def test_plan5_init_satisfied_provider_with_extra_outputs_is_not_marked() -> None:
    # PLAN-5b marks only providers whose outputs are *all* init-provided.
    graph = graph_of(
        step("both", outputs=["data", "extra"]),
        step("consumer", requires=["data"], outputs=["result"]),
    )
    plan = plan_json(graph, ["consumer"], {"data": [1]})
    assert list(plan["steps"]) == ["consumer"]
    assert plan["excluded"] == {}


def test_plan5_goal_with_outputs_all_init_provided_is_excluded_satisfied() -> None:
    graph = graph_of(step("goal", requires=["seed"], outputs=["out"]))
    plan = plan_json(graph, ["goal"], {"out": [1]})
    assert plan["steps"] == {}
    assert plan["excluded"] == {"satisfied": {"goal": ["out"]}}
    assert plan["required"] == ["seed"]


def test_plan5_goal_without_outputs_always_included() -> None:
    graph = graph_of(step("goal", requires=["x"]))
    assert list(plan_json(graph, ["goal"], {"x": [1]})["steps"]) == ["goal"]


def test_plan5_walks_deep_chains_without_recursion() -> None:
    n = 3000
    steps = [step("s0", outputs=["a0"])]
    steps += [step(f"s{i}", requires=[f"a{i - 1}"], outputs=[f"a{i}"]) for i in range(1, n)]
    graph = graph_of(*steps)
    plan = plan_of(graph, [f"s{n - 1}"])
    assert len(plan.steps) == n
    assert plan.required == []
    preview = plan_of(graph, [f"s{n - 1}"], preview=True)
    assert len(preview.steps) == n


def test_plan5_tolerates_cycles_registered_without_val2(cycle: AttributeGraph) -> None:
    strict = plan_json(cycle, ["driver"])
    assert list(strict["steps"]) == ["driver"]
    assert strict["required"] == ["a"]
    assert strict["excluded"] == {"missing": {"ping": ["b"]}}
    preview = plan_json(cycle, ["driver"], preview=True)
    assert sorted(preview["steps"]) == ["driver", "ping", "pong"]
    assert preview["required"] == []


# PLAN-6 ---------------------------------------------------------------------


def test_plan6_edges_only_between_included_steps(alternatives: AttributeGraph) -> None:
    attrs = plan_json(alternatives, ["consumer"])["attributes"]
    assert attrs["product_info"]["providers"] == ["provider-without-input"]
    assert "product_id" not in attrs


def test_plan6_const_and_meta_names_get_no_entry() -> None:
    graph = graph_of(step("goal", outputs=["out"], attrs={"c": const(), "m": meta()}))
    assert plan_json(graph, ["goal"])["attributes"] == {
        "out": {"providers": ["goal"], "consumers": []}
    }


# PLAN-7 ---------------------------------------------------------------------


def test_plan7_excluded_lists_sorted_and_unrelated_steps_absent() -> None:
    graph = graph_of(
        step("unrelated", requires=["q"], outputs=["w"]),
        step("p1", requires=["zz", "aa"], outputs=["x"]),
        step("p2", outputs=["x", "y"]),
        step("goal", requires=["x", "y"], outputs=["out"]),
    )
    plan = plan_json(graph, ["goal"], {"y": [1]})
    assert sorted(plan["steps"]) == ["goal", "p2"]
    assert plan["excluded"] == {"missing": {"p1": ["aa", "zz"]}}
    sat = plan_json(graph, ["goal"], {"x": [1], "y": [1]})
    assert list(sat["steps"]) == ["goal"]
    assert sat["excluded"] == {"satisfied": {"p1": ["x"], "p2": ["x", "y"]}}


def test_plan7_missing_lists_only_unavailable_required_inputs() -> None:
    # `seed` is available after pass 1 (src is satisfiable), so only `gone` is listed.
    graph = graph_of(
        step("src", outputs=["seed"]),
        step("mid", requires=["seed", "gone"], outputs=["x"]),
        step("goal", requires=["x"]),
    )
    plan = plan_json(graph, ["goal"])
    assert plan["excluded"] == {"missing": {"mid": ["gone"]}}


# PLAN-8 ---------------------------------------------------------------------


def test_plan8_multiple_goals_share_dependencies(fan_out: AttributeGraph) -> None:
    plan = plan_json(fan_out, ["a", "b", "c"], {"seed": [1]})
    assert sorted(plan["steps"]) == ["a", "b", "c", "hub"]
    assert plan["attributes"]["shared"] == {"providers": ["hub"], "consumers": ["a", "b", "c"]}
    assert plan["goals"] == ["a", "b", "c"]


def test_plan8_diamond_appears_once(diamond: AttributeGraph) -> None:
    plan = plan_json(diamond, ["sink", "left"])
    assert sorted(plan["steps"]) == ["left", "right", "sink", "source"]
    assert plan["attributes"]["seed"] == {"providers": ["source"], "consumers": ["left", "right"]}


def test_plan8_a_goal_may_be_another_goals_dependency(chain: AttributeGraph) -> None:
    plan = plan_json(chain, ["processor", "collector"])
    assert sorted(plan["steps"]) == ["collector", "processor", "resolver"]


# PLAN-9 ---------------------------------------------------------------------


def _gated(collect: str = "", source: str = POSTAL, with_provider: bool = False) -> AttributeGraph:
    steps = [step("lookup", outputs=["customer"])]
    if with_provider:
        steps.append(step("route", outputs=["kind"]))
    steps.append(
        step(
            "send",
            requires=["customer"],
            outputs=["result"],
            attrs={"kind": required(collect=collect, match=source)},
        )
    )
    return graph_of(*steps)


def test_plan9_matched_init_opens_gate_and_satisfies_input() -> None:
    plan = plan_json(_gated(), ["send"], {"kind": ["postal"]})
    assert sorted(plan["steps"]) == ["lookup", "send"]


def test_plan9_matched_init_with_provider_is_unknown_but_satisfies() -> None:
    # Values match but a provider exists: first -> matched > 0 -> matched.
    plan = plan_json(_gated(with_provider=True), ["send"], {"kind": ["postal"]})
    assert sorted(plan["steps"]) == ["lookup", "send"]


def test_plan9_script_error_counts_as_unknown() -> None:
    graph = graph_of(
        step("send", requires=["customer"], outputs=["r"], attrs={"kind": required(match=BOOM)})
    )
    plan = plan_json(graph, ["send"], {"kind": ["postal"]})
    # Unknown gate: only gate inputs are reported; `kind` has init, so nothing is required.
    assert plan["required"] == []
    assert list(plan["steps"]) == ["send"]


def test_plan9_no_evaluator_counts_as_unknown() -> None:
    plan = build_plan(_gated(), ["send"], {"kind": ["postal"]}, preview=False, match=None)
    assert sorted(plan.steps) == ["lookup", "send"]
    assert plan.required == []


def test_plan9_gate_unknown_reports_missing_gate_input() -> None:
    graph = graph_of(
        step("send", requires=["customer"], outputs=["r"], attrs={"kind": required(match=POSTAL)})
    )
    assert plan_json(graph, ["send"])["required"] == ["kind"]


@pytest.mark.parametrize(
    ("collect", "init", "included_lookup"),
    [
        ("none", {"kind": ["postal"]}, False),  # matched value -> unmatched -> closed
        ("last", {"kind": ["postal"]}, True),  # terminal + matched -> open
        ("last", {"kind": ["email"]}, False),  # terminal, no match -> closed
        ("all", {"kind": ["postal", "email"]}, False),  # one unmatched -> closed
        ("all", {"kind": ["postal", "postal"]}, True),  # all matched, terminal -> open
        ("some", {"kind": ["email", "postal"]}, True),
    ],
)
def test_plan9_collect_modes(collect: str, init: dict[str, Any], included_lookup: bool) -> None:
    plan = plan_json(_gated(collect=collect), ["send"], init)
    if collect == "none":
        # PLAN-3 comes first: a `none` input with init blocks the step.
        assert plan["excluded"] == {"blocked": {"send": ["kind"]}}
        return
    assert ("lookup" in plan["steps"]) is included_lookup
    assert "send" in plan["steps"]


def test_plan9_unmatched_beats_error() -> None:
    graph = graph_of(
        step("lookup", outputs=["customer"]),
        step(
            "send",
            requires=["customer"],
            attrs={"a": required(match=BOOM), "b": required(match=POSTAL)},
        ),
    )
    plan = plan_json(graph, ["send"], {"a": [1], "b": ["email"]})
    assert list(plan["steps"]) == ["send"]  # closed: customer not demanded


# PLAN-10 --------------------------------------------------------------------


def _parent(goals: list[str]) -> AttributeGraph:
    return graph_of(
        step("resolver", outputs=["data"]),
        step("child-goal", requires=["seed"], outputs=["child-out"]),
        step(
            "sub",
            goals=goals,
            attrs={
                "data": required(mapping="seed"),
                "opt": optional(default='"guest"'),
                "bare": optional(),
                "c": const(),
                "m": meta(),
                "child-out": output(),
            },
        ),
    )


@pytest.mark.parametrize("preview", [False, True])
def test_plan10_child_plan_with_placeholder_init(preview: bool) -> None:
    graph = _parent(["child-goal"])
    assert placeholder_init(graph.facts["sub"]) == {
        "c": [True],
        "m": [True],
        "opt": [True],
        "seed": [True],
    }
    plan = plan_json(graph, ["sub"], preview=preview)
    assert sorted(plan["steps"]) == ["resolver", "sub"]
    assert plan["children"] == {
        "sub": {
            "goals": ["child-goal"],
            "required": [],
            "steps": {"child-goal": msgspec.to_builtins(graph.steps["child-goal"])},
            "attributes": {
                "child-out": {"providers": ["child-goal"], "consumers": []},
                "seed": {"providers": [], "consumers": ["child-goal"]},
            },
            "excluded": {},
        }
    }


def test_plan10_child_unknown_goal_lists_top_level_goals() -> None:
    graph = _parent(["ghost"])
    with pytest.raises(NotFoundError, match=r"^step not found: \[sub resolver\]$"):
        plan_of(graph, ["sub", "resolver"])


def test_plan10_chain_cycle() -> None:
    graph = graph_of(step("loop", goals=["loop"], outputs=["o"]))
    with pytest.raises(InternalError, match=r"^circular dependency detected: step loop$"):
        plan_of(graph, ["loop"])


def test_plan10_cycle_through_dependencies_of_child() -> None:
    # outer's child plan needs inner (a provider), whose child plan needs outer again.
    graph = graph_of(
        step("outer", goals=["leaf"], outputs=["o"]),
        step("inner", goals=["outer"], outputs=["i"]),
        step("leaf", requires=["i"]),
    )
    with pytest.raises(InternalError, match="circular dependency detected: step outer"):
        plan_of(graph, ["outer"])


def test_plan10_same_flow_step_in_sibling_children_is_not_a_cycle() -> None:
    graph = graph_of(
        step("leaf", outputs=["x"]),
        step("shared", goals=["leaf"], outputs=["s"]),
        step("left", goals=["shared"], outputs=["l"]),
        step("right", goals=["shared"], outputs=["r"]),
        step("top", requires=["l", "r"]),
    )
    plan = plan_of(graph, ["top"])
    assert sorted(plan.children) == ["left", "right"]
    assert plan.children["left"].children["shared"].goals == ["leaf"]
    assert plan.children["right"].children["shared"].goals == ["leaf"]


# PLAN-11 / purity -----------------------------------------------------------


def test_planner_does_not_mutate_the_graph(diamond: AttributeGraph) -> None:
    before = (diamond.version, msgspec.to_builtins(diamond.to_wire()), dict(diamond.steps))
    plan_of(diamond, ["sink"], {"seed": [1]}, preview=True)
    plan = plan_of(diamond, ["sink"])
    after = (diamond.version, msgspec.to_builtins(diamond.to_wire()), dict(diamond.steps))
    assert before == after
    assert plan.steps["sink"] is diamond.steps["sink"]  # stored snapshot, shared


def test_plan11_later_catalog_changes_do_not_touch_a_plan(chain: AttributeGraph) -> None:
    plan = plan_of(chain, ["collector"])
    frozen = msgspec.json.encode(plan)
    chain.remove_step("resolver")
    chain.replace_step(step("processor", requires=["other"], outputs=["result"]))
    assert msgspec.json.encode(plan) == frozen


# PLAN-12 --------------------------------------------------------------------


def test_plan12_preview_reports_deepest_missing_inputs() -> None:
    graph = graph_of(
        step("a", requires=["root"], outputs=["x"]),
        step("b", requires=["x"], outputs=["y"]),
        step("c", requires=["y"], outputs=["z"]),
    )
    assert plan_of(graph, ["c"]).required == ["y"]
    preview = plan_of(graph, ["c"], preview=True)
    assert preview.required == ["root"]
    assert sorted(preview.steps) == ["a", "b", "c"]
    strict = plan_of(graph, ["c"], {"root": [1]})
    assert msgspec.to_builtins(strict) == msgspec.to_builtins(
        plan_of(graph, ["c"], {"root": [1]}, preview=True)
    )
