"""What the clients return: typed, read-only views of the engine's answers.

The engine's own projection structs (``argyll.model.flow``) keep statuses as
plain strings because the engine mutates them in place. A client reads
them: here the statuses are the enums (``FlowStatus.COMPLETED == "completed"``,
so comparing with strings keeps working), and every struct also answers
``state["status"]``, ``state.get("error")`` and ``to_dict()`` (``Wire``) like
the original SDK's dicts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from argyll.model.codec import is_zero_time, zero_time
from argyll.model.enums import FlowStatus, StepStatus, WorkStatus
from argyll.model.flow import AttributeValue
from argyll.model.plan import ExecutionPlan
from argyll.model.wire import Wire

__all__ = [
    "TERMINAL_STATUSES",
    "FlowEvent",
    "FlowPage",
    "FlowSnapshot",
    "FlowState",
    "FlowSummary",
    "StepExecution",
    "WorkItem",
]

#: Flow statuses after which nothing new starts (TERM-1..4).
TERMINAL_STATUSES = frozenset({FlowStatus.COMPLETED, FlowStatus.FAILED})


# Custom factories: msgspec never omits a field whose default comes from one,
# so these fields are always in ``to_dict()``, as the engine always sends them.


def _plan() -> ExecutionPlan:
    return ExecutionPlan()


def _none() -> Any:
    return None


def _empty() -> str:
    return ""


def _zero() -> int:
    return 0


def _active() -> FlowStatus:
    return FlowStatus.ACTIVE


def _step_pending() -> StepStatus:
    return StepStatus.PENDING


def _work_pending() -> WorkStatus:
    return WorkStatus.PENDING


def _strings() -> list[str]:
    return []


def _flows() -> list[FlowSummary]:
    return []


def _data() -> dict[str, Any]:
    return {}


def _attributes() -> dict[str, list[AttributeValue]]:
    return {}


def _executions() -> dict[str, StepExecution]:
    return {}


class WorkItem(Wire, omit_defaults=True):
    """One work item of a step execution (API-52)."""

    status: WorkStatus = msgspec.field(default_factory=_work_pending)
    started_at: datetime = msgspec.field(default_factory=zero_time)
    completed_at: datetime = msgspec.field(default_factory=zero_time)
    next_retry_at: datetime = msgspec.field(default_factory=zero_time)
    inputs: dict[str, Any] | None = msgspec.field(default_factory=_none)
    outputs: dict[str, Any] | None = None
    error: str = ""
    retry_count: int = 0


class StepExecution(Wire, omit_defaults=True):
    """A step's execution in a flow (API-51)."""

    status: StepStatus = msgspec.field(default_factory=_step_pending)
    started_at: datetime = msgspec.field(default_factory=zero_time)
    completed_at: datetime = msgspec.field(default_factory=zero_time)
    inputs: dict[str, Any] | None = msgspec.field(default_factory=_none)
    outputs: dict[str, Any] | None = None
    work_items: dict[str, WorkItem] = msgspec.field(default_factory=dict)
    error: str = ""
    unsatisfied: list[str] = msgspec.field(default_factory=list)
    duration: int = 0
    #: Why ready work is held back (the step's health error), while it is.
    waiting: str = ""
    #: Failed mapping scripts by attribute name: the error text.
    mapping_errors: dict[str, str] = msgspec.field(default_factory=dict)


class FlowState(Wire, omit_defaults=True):
    """The full state of a flow (API-50).

    ``attributes[name]`` lists the values set for ``name`` in order, each
    with the step that produced it: ``state["attributes"]["total"][0]["value"]``
    or ``state.value("total")``.
    """

    id: str = msgspec.field(default_factory=_empty)
    status: FlowStatus = msgspec.field(default_factory=_active)
    created_at: datetime = msgspec.field(default_factory=zero_time)
    completed_at: datetime = msgspec.field(default_factory=zero_time)
    deactivated_at: datetime = msgspec.field(default_factory=zero_time)
    last_updated: datetime = msgspec.field(default_factory=zero_time)
    plan: ExecutionPlan = msgspec.field(default_factory=_plan)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    attributes: dict[str, list[AttributeValue]] = msgspec.field(default_factory=_attributes)
    executions: dict[str, StepExecution] = msgspec.field(default_factory=_executions)
    error: str = ""

    @property
    def terminal(self) -> bool:
        """True once the flow is ``completed`` or ``failed``."""
        return self.status in TERMINAL_STATUSES

    @property
    def deactivated(self) -> bool:
        """True once no work item is active or compensating (TERM-7)."""
        return not is_zero_time(self.deactivated_at)

    def value(self, name: str, default: Any = None) -> Any:
        """The first value of attribute ``name``, or ``default`` when it has none."""
        values = self.attributes.get(name)
        return values[0].value if values else default

    def values(self) -> dict[str, Any]:
        """Every attribute's first value: ``{"total": 50, ...}``."""
        return {name: vals[0].value for name, vals in self.attributes.items() if vals}


class FlowSummary(Wire, omit_defaults=True):
    """One flow of a listing or query (API-22, API-23).

    ``timestamp`` is the start time of an active flow, else its deactivation time.
    """

    id: str
    status: FlowStatus
    timestamp: datetime


class FlowPage(Wire, omit_defaults=True):
    """One page of ``POST /engine/flow/query`` (API-23)."""

    flows: list[FlowSummary] = msgspec.field(default_factory=_flows)
    count: int = msgspec.field(default_factory=_zero)
    total: int = 0
    has_more: bool = False
    next_cursor: str = ""


class FlowEvent(Wire, omit_defaults=True):
    """One event of a flow (EVT-2): from ``flow.events()`` or ``flow.watch()``.

    ``type`` is the event type (``"step_completed"``...), ``data`` its
    payload (SPEC 11.2) and ``sequence`` its position in the flow's history.
    """

    type: str
    sequence: int
    timestamp: datetime
    aggregate_id: list[str] = msgspec.field(default_factory=_strings)
    data: dict[str, Any] = msgspec.field(default_factory=_data)

    @property
    def flow_id(self) -> str:
        """The flow the event belongs to."""
        return self.aggregate_id[1] if len(self.aggregate_id) > 1 else ""

    @property
    def terminal(self) -> bool:
        """True for ``flow_completed`` and ``flow_failed``."""
        return self.type in ("flow_completed", "flow_failed")


class FlowSnapshot(Wire, omit_defaults=True):
    """The first item of ``flow.watch()``: the state before the live events.

    ``sequence`` is the sequence of the first event that follows it.
    """

    state: FlowState
    sequence: int
