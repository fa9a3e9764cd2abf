"""Execution plans (SPEC 4.1)."""

from __future__ import annotations

import msgspec

from argyll.model.step import Step
from argyll.model.wire import Wire

__all__ = ["AttributeEdges", "Excluded", "ExecutionPlan"]


def _list() -> list[str]:
    return []


def _steps() -> dict[str, Step]:
    return {}


def _edges() -> dict[str, AttributeEdges]:
    return {}


def _excluded() -> Excluded:
    return Excluded()


class AttributeEdges(Wire, omit_defaults=True):
    """Providers and consumers of one attribute; both lists always serialized (CONV-4)."""

    providers: list[str] = msgspec.field(default_factory=_list)
    consumers: list[str] = msgspec.field(default_factory=_list)


class Excluded(Wire, omit_defaults=True):
    """Visited but excluded steps (PLAN-7); each map omitted when empty."""

    satisfied: dict[str, list[str]] = msgspec.field(default_factory=dict)
    blocked: dict[str, list[str]] = msgspec.field(default_factory=dict)
    missing: dict[str, list[str]] = msgspec.field(default_factory=dict)


class ExecutionPlan(Wire, omit_defaults=True):
    """An immutable execution plan (PLAN-1); a flow runs its snapshot (PLAN-11)."""

    goals: list[str] = msgspec.field(default_factory=_list)
    required: list[str] = msgspec.field(default_factory=_list)
    steps: dict[str, Step] = msgspec.field(default_factory=_steps)
    attributes: dict[str, AttributeEdges] = msgspec.field(default_factory=_edges)
    excluded: Excluded = msgspec.field(default_factory=_excluded)
    children: dict[str, ExecutionPlan] = msgspec.field(default_factory=dict)
