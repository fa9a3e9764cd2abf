"""Events (SPEC 11): the envelope and one payload struct per event type.

Fields without a default are always serialized (EVT-7); fields with a
default are omitted when empty (the ``?`` fields of SPEC 11.2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from argyll.model.plan import ExecutionPlan
from argyll.model.step import Step
from argyll.model.wire import Wire

__all__ = [
    "EVENT_PAYLOADS",
    "AttributeSet",
    "CompFailed",
    "CompRetryScheduled",
    "CompStarted",
    "CompSucceeded",
    "DispatchDeferred",
    "Event",
    "FlowCompleted",
    "FlowDeactivated",
    "FlowFailed",
    "FlowStarted",
    "MappingFailed",
    "Payload",
    "StepCompleted",
    "StepFailed",
    "StepHealthChanged",
    "StepRegistered",
    "StepSkipped",
    "StepStarted",
    "StepUnregistered",
    "StepUpdated",
    "WorkFailed",
    "WorkNotCompleted",
    "WorkRetryScheduled",
    "WorkSkipped",
    "WorkStarted",
    "WorkSucceeded",
    "event_type",
]


class Payload(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Base class of event payloads; ``TYPE`` is the wire event type."""

    TYPE: ClassVar[str] = ""


# Catalog aggregate


class StepRegistered(Payload):
    TYPE = "step_registered"
    step: Step


class StepUpdated(Payload):
    TYPE = "step_updated"
    step: Step


class StepUnregistered(Payload):
    TYPE = "step_unregistered"
    step_id: str


# Cluster aggregate


class StepHealthChanged(Payload):
    TYPE = "step_health_changed"
    node_id: str
    step_id: str
    status: str
    error: str = ""


# Flow aggregate


class FlowStarted(Payload):
    TYPE = "flow_started"
    flow_id: str
    plan: ExecutionPlan
    init: dict[str, list[Any]]
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class FlowCompleted(Payload):
    TYPE = "flow_completed"
    flow_id: str
    result: dict[str, Any]


class FlowFailed(Payload):
    TYPE = "flow_failed"
    flow_id: str
    error: str


class FlowDeactivated(Payload):
    TYPE = "flow_deactivated"
    flow_id: str
    status: str


class StepStarted(Payload):
    TYPE = "step_started"
    flow_id: str
    step_id: str
    inputs: dict[str, Any] | None
    work_items: dict[str, dict[str, Any]]


class StepCompleted(Payload):
    TYPE = "step_completed"
    flow_id: str
    step_id: str
    outputs: dict[str, Any] | None
    duration: int


class StepFailed(Payload):
    TYPE = "step_failed"
    flow_id: str
    step_id: str
    error: str
    inputs: dict[str, Any] | None = None
    unsatisfied: list[str] = msgspec.field(default_factory=list)


class StepSkipped(Payload):
    TYPE = "step_skipped"
    flow_id: str
    step_id: str
    reason: str
    inputs: dict[str, Any] | None = None
    unsatisfied: list[str] = msgspec.field(default_factory=list)


class AttributeSet(Payload):
    TYPE = "attribute_set"
    flow_id: str
    step_id: str
    key: str
    value: Any


class WorkStarted(Payload):
    TYPE = "work_started"
    flow_id: str
    step_id: str
    token: str
    inputs: dict[str, Any] | None


class WorkSucceeded(Payload):
    """``cached`` (extension, MEMO-4) is true when the outputs came from the memo cache."""

    TYPE = "work_succeeded"
    flow_id: str
    step_id: str
    token: str
    outputs: dict[str, Any] | None
    cached: bool = False


class WorkFailed(Payload):
    TYPE = "work_failed"
    flow_id: str
    step_id: str
    token: str
    error: str


class WorkNotCompleted(Payload):
    TYPE = "work_not_completed"
    flow_id: str
    step_id: str
    token: str
    error: str


class WorkSkipped(Payload):
    TYPE = "work_skipped"
    flow_id: str
    step_id: str
    token: str
    reason: str


class WorkRetryScheduled(Payload):
    TYPE = "work_retry_scheduled"
    flow_id: str
    step_id: str
    token: str
    retry_count: int
    next_retry_at: datetime
    error: str


class DispatchDeferred(Payload):
    TYPE = "dispatch_deferred"
    flow_id: str
    step_id: str
    reason: str = ""  # HEALTH-6: why the step's work is held back


class MappingFailed(Payload):
    """A mapping script failed (MAP-2, MAP-3): the value was used unmapped (input)
    or the output was dropped (output)."""

    TYPE = "mapping_failed"
    flow_id: str
    step_id: str
    attribute: str
    direction: str  # "input" or "output"
    error: str


class CompStarted(Payload):
    TYPE = "comp_started"
    flow_id: str
    step_id: str
    token: str


class CompRetryScheduled(Payload):
    TYPE = "comp_retry_scheduled"
    flow_id: str
    step_id: str
    token: str
    retry_count: int
    next_retry_at: datetime
    error: str


class CompSucceeded(Payload):
    TYPE = "comp_succeeded"
    flow_id: str
    step_id: str
    token: str


class CompFailed(Payload):
    TYPE = "comp_failed"
    flow_id: str
    step_id: str
    token: str
    error: str


#: Wire event type -> payload struct.
EVENT_PAYLOADS: dict[str, type[Payload]] = {
    cls.TYPE: cls
    for cls in (
        StepRegistered,
        StepUpdated,
        StepUnregistered,
        StepHealthChanged,
        FlowStarted,
        FlowCompleted,
        FlowFailed,
        FlowDeactivated,
        StepStarted,
        StepCompleted,
        StepFailed,
        StepSkipped,
        AttributeSet,
        WorkStarted,
        WorkSucceeded,
        WorkFailed,
        WorkNotCompleted,
        WorkSkipped,
        WorkRetryScheduled,
        DispatchDeferred,
        MappingFailed,
        CompStarted,
        CompRetryScheduled,
        CompSucceeded,
        CompFailed,
    )
}


def event_type(payload: Payload) -> str:
    """The wire type of a payload."""
    return type(payload).TYPE


class Event(Wire):
    """A committed event in its REST form (EVT-2)."""

    sequence: int
    timestamp: datetime
    type: str
    aggregate_id: list[str]
    data: Any
