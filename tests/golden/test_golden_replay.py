"""Recorded event logs replay to the engine's served state, without a server (EVT-1, EVT-12).

The logs were recorded from a real engine by record_golden.py in this folder
(re-run it after an intended change to events or projections). Folding each
log through argyll.engine.flow.state must give exactly what
``GET /engine/flow/{id}`` served after deactivation.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from argyll.engine.eventlog import decode_payload
from argyll.engine.flow.state import fold
from argyll.engine.store.base import StoredEvent

HERE = Path(__file__).resolve().parent
GOLDENS = sorted(p.stem for p in HERE.glob("*.jsonl"))


def stored(event: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        aggregate_id=tuple(event["aggregate_id"]),
        sequence=event["sequence"],
        timestamp=msgspec.convert(event["timestamp"], datetime),
        type=event["type"],
        data=msgspec.json.encode(event["data"]),
    )


def test_goldens_exist() -> None:
    assert set(GOLDENS) >= {"chain", "retries", "compensation", "subflow"}


@pytest.mark.parametrize("name", GOLDENS)
def test_replay_reproduces_served_state(name: str) -> None:  # EVT-1, EVT-3, EVT-12
    events = [
        stored(json.loads(line)) for line in (HERE / f"{name}.jsonl").read_text().splitlines()
    ]
    assert [e.sequence for e in events] == list(range(len(events)))
    state = fold((decode_payload(e), e.timestamp) for e in events)
    served = json.loads((HERE / f"{name}.state.json").read_text())
    assert msgspec.json.decode(msgspec.json.encode(state)) == served


def test_compensation_golden_shows_the_saga() -> None:  # COMP-1..5 as recorded
    served = json.loads((HERE / "compensation.state.json").read_text())
    items = served["executions"]["charge"]["work_items"].values()
    assert sorted(w["status"] for w in items) == ["compensated", "compensated", "failed"]
    assert served["status"] == "failed" and "card declined" in served["error"]
