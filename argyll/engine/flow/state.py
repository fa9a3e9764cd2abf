"""Flow state as a left fold of flow events (EVT-12). No I/O, no clock.

``apply`` mutates the given state in place and returns it, so folding a long
log allocates nothing but the new records. Callers that need the previous
state keep a copy (``copy_state``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from argyll.model import events as ev
from argyll.model.codec import ZERO_TIME
from argyll.model.flow import AttributeValue, ExecutionState, FlowState, WorkState

__all__ = ["apply", "copy_state", "fold", "new_state"]


def new_state() -> FlowState:
    """The state before any event."""
    return FlowState()


def _work(state: FlowState, step_id: str, token: str) -> WorkState | None:
    ex = state.executions.get(step_id)
    if ex is None:
        return None
    return ex.work_items.get(token)


def _flow_started(state: FlowState, p: ev.FlowStarted, ts: datetime) -> None:
    state.id = p.flow_id
    state.status = "active"
    state.created_at = ts
    state.plan = p.plan
    state.metadata = dict(p.metadata)
    state.labels = dict(p.labels)
    state.attributes = {
        name: [AttributeValue(value=v, set_at=ts) for v in values]
        for name, values in p.init.items()
        if values
    }
    state.executions = {step_id: ExecutionState() for step_id in p.plan.steps}


def apply(state: FlowState, payload: ev.Payload, ts: datetime) -> FlowState:
    """Apply one flow event (EVT-12) to ``state`` in place and return it."""
    match payload:
        case ev.FlowStarted():
            _flow_started(state, payload, ts)
        case ev.FlowCompleted():
            state.status = "completed"
            state.completed_at = ts
        case ev.FlowFailed():
            state.status = "failed"
            state.error = payload.error
            state.completed_at = ts
        case ev.FlowDeactivated():
            state.deactivated_at = ts
        case ev.StepStarted():
            before = state.executions.get(payload.step_id)
            state.executions[payload.step_id] = ExecutionState(
                status="active",
                started_at=ts,
                inputs=payload.inputs,
                work_items={
                    token: WorkState(status="pending", inputs=overlay)
                    for token, overlay in payload.work_items.items()
                },
                # Input mapping failures are recorded just before the start.
                mapping_errors=before.mapping_errors if before is not None else {},
            )
        case ev.StepCompleted():
            ex = state.executions.setdefault(payload.step_id, ExecutionState())
            ex.status = "completed"
            ex.waiting = ""
            ex.completed_at = ts
            ex.duration = payload.duration
            ex.outputs = payload.outputs
        case ev.StepFailed() | ev.StepSkipped():
            ex = state.executions.setdefault(payload.step_id, ExecutionState())
            if isinstance(payload, ev.StepFailed):
                ex.status, ex.error = "failed", payload.error
            else:
                ex.status, ex.error = "skipped", payload.reason
            ex.unsatisfied = list(payload.unsatisfied)
            ex.inputs = payload.inputs
            ex.waiting = ""
            ex.completed_at = ts
        case ev.AttributeSet():
            state.attributes.setdefault(payload.key, []).append(
                AttributeValue(value=payload.value, set_at=ts, step=payload.step_id)
            )
        case ev.MappingFailed():
            failed = state.executions.get(payload.step_id)
            if failed is not None:
                failed.mapping_errors[payload.attribute] = payload.error
        case ev.DispatchDeferred():
            deferred = state.executions.get(payload.step_id)
            if deferred is not None:
                deferred.waiting = payload.reason or "step unhealthy"
        case _:
            if not _apply_work(state, payload, ts):
                return state
    state.last_updated = ts
    return state


def _apply_work(state: FlowState, payload: ev.Payload, ts: datetime) -> bool:
    step_id = getattr(payload, "step_id", "")
    token = getattr(payload, "token", "")
    work = _work(state, step_id, token)
    if work is None:
        return False
    match payload:
        case ev.WorkStarted():
            state.executions[step_id].waiting = ""
            work.status = "active"
            work.started_at = ts
            work.completed_at = ZERO_TIME
            work.next_retry_at = ZERO_TIME
        case ev.WorkSucceeded():
            work.status = "succeeded"
            work.completed_at = ts
            work.outputs = payload.outputs
        case ev.WorkFailed():
            work.status = "failed"
            work.completed_at = ts
            work.error = payload.error
        case ev.WorkNotCompleted():
            work.status = "not_completed"
            work.completed_at = ts
            work.error = payload.error
        case ev.WorkSkipped():
            work.status = "skipped"
            work.completed_at = ts
            work.error = payload.reason
        case ev.WorkRetryScheduled() | ev.CompRetryScheduled():
            work.status = (
                "pending" if isinstance(payload, ev.WorkRetryScheduled) else "compensating"
            )
            work.retry_count = payload.retry_count
            work.next_retry_at = payload.next_retry_at
            work.error = payload.error
        case ev.CompStarted():
            work.status = "compensating"
            work.next_retry_at = ZERO_TIME
        case ev.CompSucceeded():
            work.status = "compensated"
            work.completed_at = ts
        case ev.CompFailed():
            work.status = "compensation_failed"
            work.completed_at = ts
            work.error = payload.error
        case _:
            return False
    return True


def fold(
    events: Iterable[tuple[ev.Payload, datetime]], state: FlowState | None = None
) -> FlowState:
    """Fold ``(payload, timestamp)`` pairs into a state (a fresh one by default)."""
    state = new_state() if state is None else state
    for payload, ts in events:
        apply(state, payload, ts)
    return state


def copy_state(state: FlowState) -> FlowState:
    """A deep copy of ``state`` (plan snapshots are shared: they never change)."""
    plan = state.plan
    copied = msgspec.structs.replace(
        state,
        metadata=dict(state.metadata),
        labels=dict(state.labels),
        attributes={k: list(v) for k, v in state.attributes.items()},
        executions={
            k: msgspec.structs.replace(
                ex,
                work_items={t: msgspec.structs.replace(w) for t, w in ex.work_items.items()},
                unsatisfied=list(ex.unsatisfied),
                mapping_errors=dict(ex.mapping_errors),
            )
            for k, ex in state.executions.items()
        },
    )
    copied.plan = plan
    return copied
