"""FlowWatch: the WebSocket protocol of ``watch()`` as data (no socket)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from argyll import FlowEvent, FlowSnapshot, FlowStatus
from argyll.errors import FlowError
from argyll.sdk.watch import FlowWatch

SUB = "argyll-sdk-watch"


def subscribed(state: dict[str, Any] | None, sequence: int = 3, flow: str = "wf-1") -> str:
    items = [] if state is None else [{"id": ["flow", flow], "data": state, "sequence": sequence}]
    return json.dumps({"type": "subscribed", "sub_id": SUB, "items": items})


def event(kind: str, sequence: int, flow: str = "wf-1", sub: str = SUB) -> str:
    return json.dumps(
        {
            "type": kind,
            "sub_id": sub,
            "data": {"flow_id": flow},
            "id": ["flow", flow],
            "timestamp": 1_767_323_045_000,
            "sequence": sequence,
        }
    )


def test_subscribe_asks_for_the_flow_with_its_state() -> None:
    assert json.loads(FlowWatch("wf-1").subscribe()) == {
        "type": "subscribe",
        "data": {"sub_id": SUB, "aggregate_ids": [["flow", "wf-1"]], "include_state": True},
    }


def test_snapshot_then_events_until_terminal() -> None:
    watch = FlowWatch("wf-1")
    (snapshot,) = watch.feed(subscribed({"id": "wf-1", "status": "active"}))
    assert isinstance(snapshot, FlowSnapshot) and snapshot.sequence == 3
    assert snapshot.state.status is FlowStatus.ACTIVE and not watch.done
    assert watch.feed(event("step_started", 2)) == []  # already in the snapshot
    (started,) = watch.feed(event("step_started", 3))
    assert isinstance(started, FlowEvent)
    assert (started.type, started.sequence, started.flow_id) == ("step_started", 3, "wf-1")
    assert started.timestamp.isoformat() == "2026-01-02T03:04:05+00:00"
    assert watch.feed(event("step_started", 4, sub="other")) == []
    assert watch.feed(event("step_started", 4, flow="wf-1:child:t")) == []
    (done,) = watch.feed(event("flow_completed", 4))
    assert done.terminal and watch.done


def test_a_finished_flow_ends_with_its_snapshot() -> None:
    watch = FlowWatch("wf-1")
    watch.feed(subscribed({"id": "wf-1", "status": "failed", "error": "boom"}))
    assert watch.done


def test_deactivated_mode_waits_for_flow_deactivated() -> None:
    watch = FlowWatch("wf-1", deactivated=True)
    watch.feed(subscribed({"id": "wf-1", "status": "failed"}))
    assert not watch.done
    watch.feed(event("flow_failed", 3))
    assert not watch.done
    watch.feed(event("flow_deactivated", 4))
    assert watch.done
    watch = FlowWatch("wf-1", deactivated=True)
    state = {"id": "wf-1", "status": "completed", "deactivated_at": "2026-01-02T03:04:05Z"}
    watch.feed(subscribed(state))
    assert watch.done


def test_unknown_flow_gives_no_snapshot_and_errors_raise() -> None:
    watch = FlowWatch("wf-1")
    assert watch.feed(subscribed(None)) == []
    assert watch.feed("not json") == []
    assert [e.type for e in watch.feed(event("flow_started", 0))] == ["flow_started"]
    with pytest.raises(FlowError, match="watching flow wf-1: message too big"):
        watch.feed(json.dumps({"type": "error", "error": "message too big"}))
