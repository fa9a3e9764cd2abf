"""Dispatch gating by health: when to record ``dispatch_deferred`` (HEALTH-6). No I/O.

The reference wrote a durable ``dispatch_deferred`` every second while a
step's work was held back; here it is recorded once per deferral episode,
with the reason. An episode starts when ready work is first held back and
ends when work starts or the step ends (the projection clears
``ExecutionState.waiting`` then).
"""

from __future__ import annotations

from argyll.model import events as ev
from argyll.model.flow import ExecutionState

__all__ = ["deferral", "deferral_reason"]


def deferral_reason(step_id: str, error: str) -> str:
    """The text a deferral records: the step's health error, or a plain fallback."""
    return error or f"step {step_id} unhealthy"


def deferral(
    flow_id: str, step_id: str, ex: ExecutionState | None, reason: str
) -> ev.DispatchDeferred | None:
    """The event to raise for held-back work: one per episode, ``None`` while one lasts."""
    if ex is None or ex.waiting:
        return None
    return ev.DispatchDeferred(flow_id=flow_id, step_id=step_id, reason=reason)
