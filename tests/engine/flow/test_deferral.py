"""HEALTH-6 (revised): ``dispatch_deferred`` once per deferral episode, with the reason."""

from __future__ import annotations

from datetime import UTC, datetime

from argyll.engine.flow.deferral import deferral, deferral_reason
from argyll.engine.flow.state import apply
from argyll.model import events as ev
from argyll.model.flow import ExecutionState, FlowState, WorkState

T = datetime(2026, 1, 1, tzinfo=UTC)


def test_reason_is_the_health_error_or_a_fallback() -> None:
    assert deferral_reason("s", "HTTP 500 Internal Server Error") == (
        "HTTP 500 Internal Server Error"
    )
    assert deferral_reason("s", "") == "step s unhealthy"


def test_one_event_per_episode_and_the_state_shows_why() -> None:
    state = FlowState(
        executions={
            "s": ExecutionState(status="active", work_items={"t": WorkState(status="pending")})
        }
    )
    ex = state.executions["s"]
    first = deferral("f", "s", ex, "HTTP 500 Internal Server Error")
    assert first == ev.DispatchDeferred(
        flow_id="f", step_id="s", reason="HTTP 500 Internal Server Error"
    )
    apply(state, first, T)
    assert ex.waiting == "HTTP 500 Internal Server Error"
    # every later dispatch retry of the same episode records nothing
    assert deferral("f", "s", ex, "HTTP 500 Internal Server Error") is None
    assert deferral("f", "s", ex, "connection refused") is None
    # work starting ends the episode; the next deferral is recorded again
    apply(state, ev.WorkStarted(flow_id="f", step_id="s", token="t", inputs={}), T)
    assert ex.waiting == ""
    assert deferral("f", "s", ex, "down again") is not None
    assert deferral("f", "missing", None, "x") is None
