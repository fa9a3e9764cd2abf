"""SPEC 4.3 worked examples A-G, full plan JSON, strict and preview."""

from __future__ import annotations

import pytest
from plan_builders import (
    POSTAL,
    WORK_DEFAULTS_JSON,
    graph_of,
    plan_json,
    required,
    snap,
    step,
)

from argyll.engine.plan import AttributeGraph

BOTH = pytest.mark.parametrize("preview", [False, True], ids=["strict", "preview"])


@BOTH
def test_example_a_chain_no_init(chain: AttributeGraph, preview: bool) -> None:
    # PLAN-4/PLAN-5: every provider is satisfiable; PLAN-6 edges; no excluded steps.
    assert plan_json(chain, ["collector"], {}, preview=preview) == {
        "goals": ["collector"],
        "required": [],
        "steps": snap(chain, "resolver", "processor", "collector"),
        "attributes": {
            "data": {"providers": ["resolver"], "consumers": ["processor"]},
            "result": {"providers": ["processor"], "consumers": ["collector"]},
        },
        "excluded": {},
    }


def test_example_a_snapshot_is_the_stored_form(chain: AttributeGraph) -> None:
    # PLAN-1 / DATA-15: plan steps are stored snapshots with work defaults.
    assert plan_json(chain, ["collector"])["steps"]["resolver"] == {
        "id": "resolver",
        "name": "Resolver",
        "type": "sync",
        "attributes": {"data": {"role": "output", "type": "string"}},
        "http": {"endpoint": "http://svc", "timeout": 0},
        "work_config": WORK_DEFAULTS_JSON,
    }


@BOTH
def test_example_b_init_prunes_first_provider(preview: bool) -> None:
    # PLAN-5b: init satisfies a `first` input; the provider is excluded.satisfied (PLAN-7).
    graph = graph_of(
        step("provider", requires=["seed"], outputs=["data"]),
        step("consumer", requires=["data"], outputs=["result"]),
    )
    assert plan_json(graph, ["consumer"], {"data": ["ready"]}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": snap(graph, "consumer"),
        "attributes": {
            "data": {"providers": [], "consumers": ["consumer"]},
            "result": {"providers": ["consumer"], "consumers": []},
        },
        "excluded": {"satisfied": {"provider": ["data"]}},
    }


@BOTH
@pytest.mark.parametrize("collect", ["last", "some", "all"])
def test_example_c_collect_modes_keep_providers(collect: str, preview: bool) -> None:
    # PLAN-5b applies to `first` only: other modes demand the provider too.
    graph = graph_of(
        step("provider", outputs=["data"]),
        step("consumer", outputs=["result"], attrs={"data": required(collect=collect)}),
    )
    assert plan_json(graph, ["consumer"], {"data": ["ready"]}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": snap(graph, "provider", "consumer"),
        "attributes": {
            "data": {"providers": ["provider"], "consumers": ["consumer"]},
            "result": {"providers": ["consumer"], "consumers": []},
        },
        "excluded": {},
    }


@BOTH
def test_example_d_none_blocked_by_init(preview: bool) -> None:
    # PLAN-3 / PLAN-5.1: a `none` input with init blocks the step; nothing upstream is visited.
    graph = graph_of(
        step("provider", outputs=["data"]),
        step("consumer", outputs=["result"], attrs={"data": required(collect="none")}),
    )
    assert plan_json(graph, ["consumer"], {"data": ["ready"]}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": {},
        "attributes": {},
        "excluded": {"blocked": {"consumer": ["data"]}},
    }


@BOTH
def test_example_d_none_without_init(preview: bool) -> None:
    # PLAN-5d: `none` never demands a value, so nothing is required.
    graph = graph_of(
        step("provider", outputs=["data"]),
        step("consumer", outputs=["result"], attrs={"data": required(collect="none")}),
    )
    assert plan_json(graph, ["consumer"], {}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": snap(graph, "provider", "consumer"),
        "attributes": {
            "data": {"providers": ["provider"], "consumers": ["consumer"]},
            "result": {"providers": ["consumer"], "consumers": []},
        },
        "excluded": {},
    }


@BOTH
def test_example_d_none_without_init_or_provider(preview: bool) -> None:
    # PLAN-5d: no provider and no init, yet `none` is not reported as required.
    graph = graph_of(step("consumer", outputs=["result"], attrs={"data": required(collect="none")}))
    assert plan_json(graph, ["consumer"], {}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": snap(graph, "consumer"),
        "attributes": {"result": {"providers": ["consumer"], "consumers": []}},
        "excluded": {},
    }


@BOTH
def test_example_e_alternative_providers_with_init(
    alternatives: AttributeGraph, preview: bool
) -> None:
    # PLAN-5c: both providers satisfiable, both selected (registration order).
    graph = alternatives
    assert plan_json(graph, ["consumer"], {"product_id": ["123"]}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": snap(graph, "consumer", "provider-with-input", "provider-without-input"),
        "attributes": {
            "product_id": {"providers": [], "consumers": ["provider-with-input"]},
            "product_info": {
                "providers": ["provider-with-input", "provider-without-input"],
                "consumers": ["consumer"],
            },
            "result": {"providers": ["consumer"], "consumers": []},
        },
        "excluded": {},
    }


@BOTH
def test_example_e_alternative_providers_without_init(
    alternatives: AttributeGraph, preview: bool
) -> None:
    # PLAN-5c / PLAN-12: a satisfiable provider exists, so preview selects like strict;
    # the rejected one is excluded.missing (PLAN-7).
    graph = alternatives
    assert plan_json(graph, ["consumer"], {}, preview=preview) == {
        "goals": ["consumer"],
        "required": [],
        "steps": snap(graph, "consumer", "provider-without-input"),
        "attributes": {
            "product_info": {"providers": ["provider-without-input"], "consumers": ["consumer"]},
            "result": {"providers": ["consumer"], "consumers": []},
        },
        "excluded": {"missing": {"provider-with-input": ["product_id"]}},
    }


def _example_f() -> AttributeGraph:
    return graph_of(
        step("intake", requires=["seed"], outputs=["input"]),
        step("processor", requires=["input"], outputs=["result"]),
    )


def test_example_f_missing_input_strict() -> None:
    # PLAN-12 strict: the unsatisfiable provider is pruned; the nearest input is required.
    graph = _example_f()
    assert plan_json(graph, ["processor"], {}) == {
        "goals": ["processor"],
        "required": ["input"],
        "steps": snap(graph, "processor"),
        "attributes": {"result": {"providers": ["processor"], "consumers": []}},
        "excluded": {"missing": {"intake": ["seed"]}},
    }


def test_example_f_missing_input_preview() -> None:
    # PLAN-12 preview: the full path back to the deepest missing input.
    graph = _example_f()
    assert plan_json(graph, ["processor"], {}, preview=True) == {
        "goals": ["processor"],
        "required": ["seed"],
        "steps": snap(graph, "intake", "processor"),
        "attributes": {
            "input": {"providers": ["intake"], "consumers": ["processor"]},
            "result": {"providers": ["processor"], "consumers": []},
        },
        "excluded": {},
    }


@BOTH
def test_example_g_gate_closed_by_init(match_gate: AttributeGraph, preview: bool) -> None:
    # PLAN-9: init "email" with no provider is terminal and unmatched: the gate is closed,
    # so `customer` is neither demanded nor required (PLAN-5a, PLAN-5d).
    graph = match_gate
    init = {"notification_type": ["email"]}
    assert plan_json(graph, ["send-postal"], init, preview=preview) == {
        "goals": ["send-postal"],
        "required": [],
        "steps": snap(graph, "send-postal"),
        "attributes": {
            "notification_type": {"providers": [], "consumers": ["send-postal"]},
            "result": {"providers": ["send-postal"], "consumers": []},
        },
        "excluded": {},
    }


@BOTH
def test_example_g_gate_unknown_with_route(preview: bool) -> None:
    # PLAN-9: a provider exists, so the gate is unknown; only gate inputs are
    # demanded and `customer` is not required (PLAN-5d).
    graph = graph_of(
        step("route", outputs=["notification_type"]),
        step(
            "send-postal",
            requires=["customer"],
            outputs=["result"],
            attrs={"notification_type": required(match=POSTAL)},
        ),
    )
    assert plan_json(graph, ["send-postal"], {}, preview=preview) == {
        "goals": ["send-postal"],
        "required": [],
        "steps": snap(graph, "route", "send-postal"),
        "attributes": {
            "notification_type": {"providers": ["route"], "consumers": ["send-postal"]},
            "result": {"providers": ["send-postal"], "consumers": []},
        },
        "excluded": {},
    }


def test_example_g_unknown_gate_still_includes_satisfiable_provider() -> None:
    # PLAN-5c under an unknown gate: a satisfiable `customer` provider is still included.
    graph = graph_of(
        step("route", outputs=["notification_type"]),
        step("customer-source", outputs=["customer"]),
        step(
            "send-postal",
            requires=["customer"],
            outputs=["result"],
            attrs={"notification_type": required(match=POSTAL)},
        ),
    )
    plan = plan_json(graph, ["send-postal"], {})
    assert sorted(plan["steps"]) == ["customer-source", "route", "send-postal"]
    assert plan["required"] == []
