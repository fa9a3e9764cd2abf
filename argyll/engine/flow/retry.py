"""Retry settings and backoff (RETRY-2..4). No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from argyll.engine.flow.tx import ArmRetry, Tx
from argyll.model import events as ev
from argyll.model.step import Step, WorkConfig

__all__ = ["RetrySettings", "backoff_ms", "effective", "schedule_retry"]


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """RETRY-2: the effective settings of a step."""

    max_retries: int
    init_backoff: int
    max_backoff: int
    backoff_type: str

    def allows(self, retry_count: int) -> bool:
        """True when another retry is within budget (negative max = unlimited)."""
        return self.max_retries < 0 or retry_count < self.max_retries


def effective(step: Step, defaults: WorkConfig) -> RetrySettings:
    """RETRY-2: per field, the step's non-zero value, else the global default."""
    wc = step.work_config or WorkConfig()
    return RetrySettings(
        max_retries=wc.max_retries or defaults.max_retries,
        init_backoff=wc.init_backoff or defaults.init_backoff,
        max_backoff=wc.max_backoff or defaults.max_backoff,
        backoff_type=wc.backoff_type or defaults.backoff_type,
    )


def backoff_ms(settings: RetrySettings, retry_count: int) -> int:
    """RETRY-4: ``min(f(init, r), max)``; unknown types back off like ``fixed``."""
    init = settings.init_backoff
    if settings.backoff_type == "linear":
        delay = init * (retry_count + 1)
    elif settings.backoff_type == "exponential":
        delay = init * (2 ** min(retry_count, 62))
    else:
        delay = init
    return min(delay, settings.max_backoff) if settings.max_backoff > 0 else delay


def schedule_retry(tx: Tx, step_id: str, token: str, error: str) -> None:
    """RETRY-3: schedule the next attempt of a not-completed item, or fail it."""
    step = tx.state.plan.steps[step_id]
    item = tx.state.executions[step_id].work_items[token]
    settings = effective(step, tx.env.retry)
    r = item.retry_count
    if settings.allows(r):
        at = tx.env.after(backoff_ms(settings, r))
        tx.raise_(
            ev.WorkRetryScheduled(
                flow_id=tx.flow_id,
                step_id=step_id,
                token=token,
                retry_count=r + 1,
                next_retry_at=at,
                error=error,
            )
        )
        tx.effect(ArmRetry(step_id, token, at))
    else:
        tx.raise_(ev.WorkFailed(flow_id=tx.flow_id, step_id=step_id, token=token, error=error))
