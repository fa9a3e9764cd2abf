"""Planning over the catalog: the attribute graph, VAL-2 checks and the planner.

Pure code over in-memory data. No I/O.

- :class:`AttributeGraph` — the catalog's attribute graph (CAT-6) and step
  dependency graph, maintained incrementally as steps are registered.
- :func:`catalog_problem` — the VAL-2 consistency check of a candidate step.
- :func:`build_plan` — the backward planner (SPEC 4.2), child plans included.
"""

from argyll.engine.plan.consistency import (
    attribute_cycle,
    catalog_problem,
    flow_cycle,
    type_conflict,
)
from argyll.engine.plan.facts import InputFact, StepFacts
from argyll.engine.plan.gate import Gate, MatchEvaluator, MatchStatus, match_status, step_gate
from argyll.engine.plan.graph import AttributeGraph
from argyll.engine.plan.planner import build_plan, placeholder_init

__all__ = [
    "AttributeGraph",
    "Gate",
    "InputFact",
    "MatchEvaluator",
    "MatchStatus",
    "StepFacts",
    "attribute_cycle",
    "build_plan",
    "catalog_problem",
    "flow_cycle",
    "match_status",
    "placeholder_init",
    "step_gate",
    "type_conflict",
]
