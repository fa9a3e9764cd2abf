"""Step builders and a fake match evaluator for the planner tests.

Steps are built in their stored form (DATA-15) with the work defaults of the
SPEC 4.3 worked examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

from argyll.engine.plan import AttributeGraph, build_plan
from argyll.errors import ScriptRuntimeError
from argyll.model.plan import ExecutionPlan
from argyll.model.step import (
    AttributeMapping,
    AttributeSpec,
    ConstConfig,
    FlowConfig,
    HTTPConfig,
    MetaConfig,
    OptionalConfig,
    OutputConfig,
    RequiredConfig,
    ScriptConfig,
    Step,
    WorkConfig,
    with_work_defaults,
)

WORK_DEFAULTS = WorkConfig(
    backoff_type="exponential", max_retries=10, init_backoff=1000, max_backoff=60000
)
WORK_DEFAULTS_JSON = {
    "backoff_type": "exponential",
    "max_retries": 10,
    "init_backoff": 1000,
    "max_backoff": 60000,
}
POSTAL = 'return value == "postal"'
BOOM = "error('boom')"


def required(
    collect: str = "",
    match: str = "",
    type: str = "string",
    mapping: str = "",
    language: str = "lua",
) -> AttributeSpec:
    """A required attribute; ``match`` is a source known to :func:`fake_match`."""
    return AttributeSpec(
        role="required",
        type=type,
        required=RequiredConfig(
            collect=collect,
            match=ScriptConfig(language=language, script=match) if match else None,
            mapping=AttributeMapping(name=mapping) if mapping else None,
        )
        if collect or match or mapping
        else None,
    )


def optional(
    collect: str = "", default: str = "", type: str = "string", mapping: str = ""
) -> AttributeSpec:
    """An optional attribute."""
    cfg = None
    if collect or default or mapping:
        cfg = OptionalConfig(
            collect=collect,
            default=default,
            mapping=AttributeMapping(name=mapping) if mapping else None,
        )
    return AttributeSpec(role="optional", type=type, optional=cfg)


def output(type: str = "string", mapping: str = "") -> AttributeSpec:
    """An output attribute."""
    cfg = OutputConfig(mapping=AttributeMapping(name=mapping)) if mapping else None
    return AttributeSpec(role="output", type=type, output=cfg)


def const(value: str = '"x"', type: str = "string") -> AttributeSpec:
    """A const attribute."""
    return AttributeSpec(role="const", type=type, const=ConstConfig(value=value))


def meta(key: str = "flow_id", type: str = "string") -> AttributeSpec:
    """A meta attribute."""
    return AttributeSpec(role="meta", type=type, meta=MetaConfig(key=key))


def step(
    step_id: str,
    *,
    requires: Iterable[str] = (),
    outputs: Iterable[str] = (),
    optionals: Iterable[str] = (),
    attrs: Mapping[str, AttributeSpec] | None = None,
    goals: Iterable[str] | None = None,
    name: str = "",
) -> Step:
    """A stored step: sync at ``http://svc`` unless ``goals`` makes it a flow step."""
    attributes: dict[str, AttributeSpec | None] = {}
    for n in requires:
        attributes[n] = required()
    for n in optionals:
        attributes[n] = optional()
    for n in outputs:
        attributes[n] = output()
    attributes.update(attrs or {})
    label = name or step_id.replace("-", " ").title()
    if goals is not None:
        raw = Step(
            id=step_id, name=label, type="flow", attributes=attributes, flow=FlowConfig(list(goals))
        )
    else:
        raw = Step(
            id=step_id,
            name=label,
            type="sync",
            attributes=attributes,
            http=HTTPConfig(endpoint="http://svc"),
        )
    return with_work_defaults(raw, WORK_DEFAULTS)


def graph_of(*steps: Step) -> AttributeGraph:
    """A graph with ``steps`` registered in order."""
    graph = AttributeGraph()
    for s in steps:
        graph.add_step(s)
    return graph


_PREDICATES: dict[str, Callable[[Any], bool]] = {
    POSTAL: lambda v: v == "postal",
    "return value > 10": lambda v: v > 10,
    "return true": lambda v: True,
}


def fake_match(language: str, source: str, value: Any) -> bool:
    """A match evaluator over a predicate table keyed by source; ``BOOM`` raises."""
    if source == BOOM:
        raise ScriptRuntimeError("boom", language)
    return _PREDICATES[source](value)


def plan_json(
    graph: AttributeGraph,
    goals: list[str],
    init: Mapping[str, list[Any]] | None = None,
    *,
    preview: bool = False,
) -> Any:
    """The plan as built-in JSON values (what the API would send)."""
    return msgspec.to_builtins(plan_of(graph, goals, init, preview=preview))


def plan_of(
    graph: AttributeGraph,
    goals: list[str],
    init: Mapping[str, list[Any]] | None = None,
    *,
    preview: bool = False,
) -> ExecutionPlan:
    """``build_plan`` with the fake match evaluator."""
    return build_plan(graph, goals, init or {}, preview=preview, match=fake_match)


def snap(graph: AttributeGraph, *ids: str) -> dict[str, Any]:
    """``{id: stored snapshot JSON}`` for ``ids``."""
    return {i: msgspec.to_builtins(graph.steps[i]) for i in ids}
