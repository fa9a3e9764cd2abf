"""Compensation decisions (COMP-1..5). No I/O."""

from __future__ import annotations

from argyll.engine.flow.retry import backoff_ms, effective
from argyll.engine.flow.tx import ArmCompRetry, Compensate, Tx
from argyll.model import events as ev

__all__ = ["compensation_due", "record_comp_result", "start_compensation"]


def compensation_due(tx: Tx, step_id: str) -> bool:
    """COMP-1: does a failed step qualify for compensation."""
    step = tx.state.plan.steps[step_id]
    ex = tx.state.executions[step_id]
    return (
        step.type in ("sync", "async")
        and step.http is not None
        and bool(step.http.compensate)
        and not step.memoizable
        and any(w.status == "succeeded" for w in ex.work_items.values())
    )


def start_compensation(tx: Tx, step_id: str) -> None:
    """COMP-2: ``comp_started`` for every succeeded item, each then invoked."""
    if not compensation_due(tx, step_id):
        return
    ex = tx.state.executions[step_id]
    for token, item in list(ex.work_items.items()):
        if item.status == "succeeded":
            tx.raise_(ev.CompStarted(flow_id=tx.flow_id, step_id=step_id, token=token))
            tx.effect(Compensate(step_id, token))


def record_comp_result(tx: Tx, step_id: str, token: str, kind: str, error: str = "") -> bool:
    """COMP-4/5: record a compensation outcome; False when the item is not compensating."""
    ex = tx.state.executions.get(step_id)
    item = ex.work_items.get(token) if ex is not None else None
    if item is None or item.status != "compensating":
        return False
    if kind == "success":
        tx.raise_(ev.CompSucceeded(flow_id=tx.flow_id, step_id=step_id, token=token))
        return True
    settings = effective(tx.state.plan.steps[step_id], tx.env.retry)
    if kind == "transient" and settings.allows(item.retry_count):
        at = tx.env.after(backoff_ms(settings, item.retry_count))
        tx.raise_(
            ev.CompRetryScheduled(
                flow_id=tx.flow_id,
                step_id=step_id,
                token=token,
                retry_count=item.retry_count + 1,
                next_retry_at=at,
                error=error,
            )
        )
        tx.effect(ArmCompRetry(step_id, token, at))
        return True
    tx.raise_(ev.CompFailed(flow_id=tx.flow_id, step_id=step_id, token=token, error=error))
    return True
