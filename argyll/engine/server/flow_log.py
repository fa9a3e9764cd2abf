"""The story of each flow in the log, told from the committed events on the bus.

On ``argyll.flow``:

- ``info``: flow started, completed and failed (with its error), with the flow
  ID and, when this process saw it start, its duration;
- ``debug``: steps started, completed, failed and skipped; work items failed
  and retried (with the error); compensations started, succeeded, retried and
  failed;
- ``warning``: dispatch deferred because a step is unhealthy.

Only IDs, statuses and error texts are logged, never inputs or outputs.
Webhooks are logged by the access-log middleware (``argyll.webhook``) and
mapping failures where they happen (``argyll.flow.inputs``/``outputs``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from argyll.engine.store.base import StoredEvent


__all__ = ["FlowLog"]

log = logging.getLogger("argyll.flow")


class _Ref(msgspec.Struct):
    """The payload fields the log uses (others are skipped unread)."""

    step_id: str = ""
    token: str = ""
    error: str = ""
    reason: str = ""
    retry_count: int = 0
    next_retry_at: str = ""
    duration: int = 0


_decode = msgspec.json.Decoder(_Ref).decode

_DEBUG = frozenset(
    {
        "step_started",
        "step_completed",
        "step_failed",
        "step_skipped",
        "work_failed",
        "work_retry_scheduled",
        "comp_started",
        "comp_succeeded",
        "comp_retry_scheduled",
        "comp_failed",
    }
)


class FlowLog:
    """A bus subscriber writing flow, step and work events as log lines."""

    def __init__(self) -> None:
        self._started: dict[str, datetime] = {}

    def on_events(self, events: list[StoredEvent]) -> None:
        """A committed batch from the bus."""
        for event in events:
            agg = event.aggregate_id
            if len(agg) != 2 or agg[0] != "flow":
                continue
            flow_id, kind = agg[1], event.type
            if kind == "flow_started":
                self._started[flow_id] = event.timestamp
                if log.isEnabledFor(logging.INFO):
                    log.info("flow %s started", flow_id, extra={"flow_id": flow_id})
            elif kind in ("flow_completed", "flow_failed"):
                self._finished(flow_id, kind, event)
            elif kind == "flow_deactivated":
                self._started.pop(flow_id, None)
            elif kind == "dispatch_deferred" and log.isEnabledFor(logging.WARNING):
                step = _decode(event.data).step_id
                log.warning(
                    "dispatch of step %s in flow %s deferred: the step is not healthy",
                    step,
                    flow_id,
                    extra={"flow_id": flow_id, "step_id": step},
                )
            elif kind in _DEBUG and log.isEnabledFor(logging.DEBUG):
                self._debug(flow_id, kind, _decode(event.data))

    def _finished(self, flow_id: str, kind: str, event: StoredEvent) -> None:
        began = self._started.pop(flow_id, None)
        if not log.isEnabledFor(logging.INFO):
            return
        seconds = (event.timestamp - began).total_seconds() if began is not None else None
        took = f" after {seconds:.3f}s" if seconds is not None else ""
        extra: dict[str, object] = {"flow_id": flow_id, "status": kind[5:]}
        if seconds is not None:
            extra["duration_s"] = round(seconds, 6)
        if kind == "flow_completed":
            log.info("flow %s completed%s", flow_id, took, extra=extra)
            return
        error = _decode(event.data).error
        log.info("flow %s failed%s: %s", flow_id, took, error, extra={**extra, "error": error})

    def _debug(self, flow_id: str, kind: str, ref: _Ref) -> None:
        step = ref.step_id
        extra = {"flow_id": flow_id, "step_id": step, "event": kind}
        if kind == "step_started":
            log.debug("step %s started in flow %s", step, flow_id, extra=extra)
        elif kind == "step_completed":
            log.debug(
                "step %s completed in flow %s after %dms", step, flow_id, ref.duration, extra=extra
            )
        elif kind == "step_failed":
            log.debug("step %s failed in flow %s: %s", step, flow_id, ref.error, extra=extra)
        elif kind == "step_skipped":
            log.debug("step %s skipped in flow %s: %s", step, flow_id, ref.reason, extra=extra)
        elif kind == "work_failed":
            log.debug(
                "work %s of step %s in flow %s failed: %s",
                ref.token,
                step,
                flow_id,
                ref.error,
                extra=extra,
            )
        elif kind == "work_retry_scheduled":
            log.debug(
                "work %s of step %s in flow %s retry %d at %s after: %s",
                ref.token,
                step,
                flow_id,
                ref.retry_count,
                ref.next_retry_at,
                ref.error,
                extra=extra,
            )
        elif kind == "comp_started":
            log.debug(
                "compensating work %s of step %s in flow %s", ref.token, step, flow_id, extra=extra
            )
        elif kind == "comp_succeeded":
            log.debug(
                "compensated work %s of step %s in flow %s", ref.token, step, flow_id, extra=extra
            )
        elif kind == "comp_retry_scheduled":
            log.debug(
                "compensation of work %s of step %s in flow %s retry %d after: %s",
                ref.token,
                step,
                flow_id,
                ref.retry_count,
                ref.error,
                extra=extra,
            )
        elif kind == "comp_failed":
            log.debug(
                "compensation of work %s of step %s in flow %s failed: %s",
                ref.token,
                step,
                flow_id,
                ref.error,
                extra=extra,
            )
