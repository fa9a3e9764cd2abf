"""A small LRU of plans: the same request shape on the same catalog plans the same.

A plan depends on the catalog, the goals, the mode and *which* init names
have values (SPEC 4.2), and on init *values* only through match gates
(PLAN-9). So plans are cached only while no catalog step has a match gate,
keyed by the graph's version (bumped by every registration change). Plans
are never mutated after they are built (PLAN-11), so sharing one between
flows is safe.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from argyll.engine.plan.graph import AttributeGraph
from argyll.model.plan import ExecutionPlan

__all__ = ["PlanCache"]

Key = tuple[int, tuple[str, ...], frozenset[str], bool]


class PlanCache:
    """Caches ``build`` results per (graph version, goals, provided names, mode)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._plans: OrderedDict[Key, ExecutionPlan] = OrderedDict()
        self._gated_at: tuple[int, bool] = (-1, True)

    def _gated(self, graph: AttributeGraph) -> bool:
        version, gated = self._gated_at
        if version != graph.version:
            gated = any(step.gated_names for step in graph.steps.values())
            self._gated_at = (graph.version, gated)
        return gated

    def get(
        self,
        graph: AttributeGraph,
        goals: Sequence[str],
        init: Mapping[str, Sequence[Any]],
        preview: bool,
        build: Callable[[], ExecutionPlan],
    ) -> ExecutionPlan:
        """The cached plan for this request shape, or ``build()`` (then cached)."""
        if self._gated(graph):
            return build()
        key: Key = (
            graph.version,
            tuple(goals),
            frozenset(name for name, values in init.items() if values),
            preview,
        )
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            return plan
        plan = build()
        self._plans[key] = plan
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan
