"""Flow state as served by the API (API-50..52) and flow summaries (API-22).

These structs are mutable: the engine's projection (engine/flow/state.py)
folds events into them in place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from argyll.model.codec import zero_time
from argyll.model.enums import FlowStatusName, StepStatusName, WorkStatusName
from argyll.model.plan import ExecutionPlan
from argyll.model.wire import Wire

__all__ = [
    "AttributeValue",
    "ExecutionState",
    "FlowState",
    "FlowSummary",
    "WorkState",
]


def _none() -> Any:
    return None


def _pending() -> Any:
    return "pending"


def _attributes() -> dict[str, list[AttributeValue]]:
    return {}


def _executions() -> dict[str, ExecutionState]:
    return {}


def _plan() -> ExecutionPlan:
    return ExecutionPlan()


class AttributeValue(Wire, omit_defaults=True):
    """One value of a flow attribute with its provenance (DATA-32)."""

    value: Any
    set_at: datetime
    step: str = ""


class WorkState(Wire, omit_defaults=True):
    """A work item (API-52); ``inputs`` is the item's overlay."""

    status: WorkStatusName = msgspec.field(default_factory=_pending)
    started_at: datetime = msgspec.field(default_factory=zero_time)
    completed_at: datetime = msgspec.field(default_factory=zero_time)
    next_retry_at: datetime = msgspec.field(default_factory=zero_time)
    inputs: dict[str, Any] | None = msgspec.field(default_factory=_none)
    outputs: dict[str, Any] | None = None
    error: str = ""
    retry_count: int = 0


class ExecutionState(Wire, omit_defaults=True):
    """A step's execution in a flow (API-51)."""

    status: StepStatusName = msgspec.field(default_factory=_pending)
    started_at: datetime = msgspec.field(default_factory=zero_time)
    completed_at: datetime = msgspec.field(default_factory=zero_time)
    inputs: dict[str, Any] | None = msgspec.field(default_factory=_none)
    outputs: dict[str, Any] | None = None
    work_items: dict[str, WorkState] = msgspec.field(default_factory=dict)
    error: str = ""
    unsatisfied: list[str] = msgspec.field(default_factory=list)
    duration: int = 0
    #: Why ready work is held back (HEALTH-6), e.g. the step's health error;
    #: set by ``dispatch_deferred``, cleared when work starts or the step ends.
    waiting: str = ""
    #: Failed mapping scripts by attribute name (MAP-2, MAP-3), from
    #: ``mapping_failed`` events: the error text.
    mapping_errors: dict[str, str] = msgspec.field(default_factory=dict)


class FlowState(Wire, omit_defaults=True):
    """The full state of a flow (API-50): a projection of its events."""

    id: str = msgspec.field(default_factory=lambda: "")
    status: FlowStatusName = msgspec.field(default_factory=lambda: "active")
    created_at: datetime = msgspec.field(default_factory=zero_time)
    completed_at: datetime = msgspec.field(default_factory=zero_time)
    deactivated_at: datetime = msgspec.field(default_factory=zero_time)
    last_updated: datetime = msgspec.field(default_factory=zero_time)
    plan: ExecutionPlan = msgspec.field(default_factory=_plan)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    attributes: dict[str, list[AttributeValue]] = msgspec.field(default_factory=_attributes)
    executions: dict[str, ExecutionState] = msgspec.field(default_factory=_executions)
    error: str = ""


class FlowSummary(Wire, omit_defaults=True):
    """One entry of the flow list/query (API-22, API-23)."""

    id: str
    status: str
    timestamp: datetime
