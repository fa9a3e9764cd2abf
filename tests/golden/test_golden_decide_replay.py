"""Decisions replay recorded history: the same inputs give the same events (EVT-4, DATA-4).

In the style of Temporal's replayer: each golden log (recorded from a real
engine by record_golden.py) is driven again through the pure core. The
flow is started from its ``flow_started`` payload; then every recorded event
that the core did not produce itself is an *input* from the outside world
(a work result, a compensation result, a retry timer firing), fed back
through ``decide`` at its recorded time. Every decision must produce exactly
the recorded events that follow, at the recorded timestamp.

Tokens are derived from a key the recording engine kept to itself, so the
replay's tokens differ; they are matched one-to-one by position where the
core creates them (``step_started.work_items``) and compared through that
bijection.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from argyll.engine.flow import decide
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.tx import ArmRetry, Env, Tx
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.step import WorkConfig

HERE = Path(__file__).resolve().parent
GOLDENS = sorted(p.stem for p in HERE.glob("*.jsonl"))
RESULTS = (ev.WorkSucceeded, ev.WorkFailed, ev.WorkNotCompleted)


class NoScripts:
    """The golden flows use no predicates, matches or mappings."""

    def predicate(self, *_: Any) -> bool:
        raise AssertionError("unexpected predicate")

    def match(self, *_: Any) -> bool:
        raise AssertionError("unexpected match")

    def mapping(self, *_: Any) -> Any:
        raise AssertionError("unexpected mapping")


def load(name: str) -> list[tuple[ev.Payload, datetime]]:
    out = []
    for line in (HERE / f"{name}.jsonl").read_text().splitlines():
        raw = json.loads(line)
        payload = msgspec.json.decode(
            msgspec.json.encode(raw["data"]), type=ev.EVENT_PAYLOADS[raw["type"]]
        )
        out.append((payload, msgspec.convert(raw["timestamp"], datetime)))
    return out


class Replayer:
    def __init__(self, recorded: list[tuple[ev.Payload, datetime]]) -> None:
        self.recorded = recorded
        self.at = 0
        self.state: FlowState | None = None
        self.tokens: dict[str, str] = {}  # replayed token -> recorded token
        self.timers: dict[tuple[str, str], datetime] = {}

    def env(self, now: datetime) -> Env:
        return Env(now=now, scripts=NoScripts(), retry=WorkConfig(), token_key=b"replay")

    def wire(self, payload: ev.Payload) -> Any:
        text = msgspec.json.encode(payload).decode()
        for mine, theirs in self.tokens.items():
            text = text.replace(mine, theirs)
        return json.loads(text)

    def take(self, tx: Tx, now: datetime) -> None:
        """The decision's events must be the next recorded ones, at ``now``."""
        assert tx.events, f"decision at event {self.at} produced nothing"
        for payload in tx.events:
            assert self.at < len(self.recorded), f"extra event {type(payload).TYPE}"
            theirs, ts = self.recorded[self.at]
            if isinstance(payload, ev.StepStarted):
                assert isinstance(theirs, ev.StepStarted)
                mine_tokens = list(payload.work_items)
                assert len(mine_tokens) == len(theirs.work_items)
                self.tokens.update(zip(mine_tokens, theirs.work_items, strict=True))
            assert self.wire(payload) == json.loads(msgspec.json.encode(theirs)), (
                f"event {self.at} differs"
            )
            assert ts == now, f"event {self.at} recorded at {ts}, replayed at {now}"
            self.at += 1
        for effect in tx.effects:
            if isinstance(effect, ArmRetry):
                self.timers[(effect.step_id, self.tokens[effect.token])] = effect.at
        self.state = tx.state

    def mine(self, token: str) -> str:
        return next(m for m, t in self.tokens.items() if t == token)

    def run(self) -> None:
        first, t0 = self.recorded[0]
        assert isinstance(first, ev.FlowStarted)
        tx = decide.start(
            self.env(t0),
            first.flow_id,
            first.plan,
            first.init,
            labels=first.labels or None,
            metadata=first.metadata or None,
        )
        self.take(tx, t0)
        while self.at < len(self.recorded):
            self.step()

    def step(self) -> None:
        assert self.state is not None
        payload, now = self.recorded[self.at]
        env = self.env(now)
        if isinstance(payload, RESULTS):
            batch = []
            i = self.at
            while i < len(self.recorded) and isinstance(self.recorded[i][0], RESULTS):
                p, ts = self.recorded[i]
                if ts != now:
                    break
                batch.append((p.step_id, self.mine(p.token), outcome_of(p)))
                i += 1
            self.take(decide.on_results(self.state, env, batch), now)
        elif isinstance(payload, ev.CompSucceeded | ev.CompFailed):
            error = payload.error if isinstance(payload, ev.CompFailed) else ""
            kind = "success" if isinstance(payload, ev.CompSucceeded) else "permanent"
            tx = decide.on_comp_result(
                self.state, env, payload.step_id, self.mine(payload.token), kind, error
            )
            self.take(tx, now)
        elif (
            isinstance(payload, ev.WorkStarted) and (payload.step_id, payload.token) in self.timers
        ):
            due = self.timers.pop((payload.step_id, payload.token))
            assert due <= now, "a retry fired before its time"
            self.take(
                decide.on_retry_timer(self.state, env, payload.step_id, self.mine(payload.token)),
                now,
            )
        else:
            raise AssertionError(f"event {self.at} ({payload.TYPE}) has no recorded cause")


def outcome_of(payload: ev.Payload) -> Outcome:
    if isinstance(payload, ev.WorkSucceeded):
        return Outcome("success", payload.outputs)
    if isinstance(payload, ev.WorkFailed):
        return Outcome("permanent", error=payload.error)
    assert isinstance(payload, ev.WorkNotCompleted)
    return Outcome("transient", error=payload.error)


@pytest.mark.parametrize("name", GOLDENS)
def test_decisions_reproduce_the_recorded_events(name: str) -> None:  # EVT-4, DATA-4
    replayer = Replayer(load(name))
    replayer.run()
    assert replayer.at == len(replayer.recorded)


def test_replay_detects_a_changed_decision() -> None:
    recorded = load("retries")
    payload, ts = recorded[4]
    assert isinstance(payload, ev.WorkRetryScheduled)
    changed = msgspec.structs.replace(payload, retry_count=payload.retry_count + 1)
    recorded[4] = (changed, ts)
    with pytest.raises(AssertionError, match="event 4 differs"):
        Replayer(recorded).run()
