"""A decision in progress: the working state, raised events and effects. No I/O.

A ``Tx`` wraps a copy of a flow's state. Decision code raises events through
``Tx.raise_``, which applies each one to the working state at once (so later
decisions in the same write see earlier ones, EVT-4) and records it. Effects
(invocations, timers) are what the runner performs after the events commit
(ARCHITECTURE principle 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from argyll.engine.flow.state import apply
from argyll.engine.flow.tokens import work_token
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.plan import ExecutionPlan
from argyll.model.step import Step, WorkConfig, input_collect

__all__ = [
    "NO_MEMO",
    "ArmCompRetry",
    "ArmDeadline",
    "ArmDispatch",
    "ArmRetry",
    "Compensate",
    "Effect",
    "Env",
    "InvokeWork",
    "MemoLookup",
    "MemoPut",
    "ScriptEvaluator",
    "Tx",
]


class ScriptEvaluator(Protocol):
    """The script operations decisions need (argyll.engine.scripts.Scripts)."""

    def predicate(
        self, language: str, source: str, arg_names: list[str], args: dict[str, Any]
    ) -> bool: ...

    def match(self, language: str, source: str, value: Any) -> bool: ...

    def mapping(self, language: str, source: str, name: str, value: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class InvokeWork:
    """Invoke a work item (TYPE rules) with its arguments and metadata (TYPE-2)."""

    step_id: str
    token: str
    args: dict[str, Any]
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Compensate:
    """Call a succeeded item's compensate endpoint (COMP-3)."""

    step_id: str
    token: str


@dataclass(frozen=True, slots=True)
class ArmRetry:
    """Fire a work item's retry at ``at`` (RETRY-5)."""

    step_id: str
    token: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ArmCompRetry:
    """Fire a compensation retry at ``at`` (COMP-4)."""

    step_id: str
    token: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ArmDeadline:
    """Re-check a pending step with an optional-input deadline at ``at`` (OPT-6)."""

    step_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ArmDispatch:
    """Retry dispatching a step's pending work at ``at`` (HEALTH-6, WORK-6)."""

    step_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MemoPut:
    """Store a memoizable item's raw outputs under its inputs (MEMO-3)."""

    step: Step
    inputs: dict[str, Any]
    outputs: dict[str, Any] | None


Effect = InvokeWork | Compensate | ArmRetry | ArmCompRetry | ArmDeadline | ArmDispatch | MemoPut


class MemoLookup(Protocol):
    """Read access to the memo cache (MEMO-4): raw outputs of an earlier success."""

    def get(self, step: Step, inputs: dict[str, Any]) -> dict[str, Any] | None: ...


class _NoMemo:
    def get(self, step: Step, inputs: dict[str, Any]) -> dict[str, Any] | None:
        return None


NO_MEMO: MemoLookup = _NoMemo()


@dataclass
class Env:
    """Everything a decision may consult besides the flow state, as plain values.

    Decisions are deterministic functions of (state, env): the clock reading,
    the health snapshot, the memo contents and the token key come in here;
    nothing is read from the outside during a decision.

    Attributes:
        now: The engine clock at the decision.
        scripts: Predicate, match and mapping evaluation.
        retry: Global retry defaults (RETRY-2, CFG-5).
        token_key: Key of the work-item token derivation (DATA-4).
        webhook_base_url: Base of async webhook URLs (ASYNC-1).
        unhealthy: Steps this node must not dispatch to now, with their health
            error (HEALTH-6).
        memo: Memo-cache contents for memoizable steps (MEMO-4).
        max_work_items: The per-step work-item limit (WORK-3).
    """

    now: datetime
    scripts: ScriptEvaluator
    retry: WorkConfig
    token_key: bytes = b""
    webhook_base_url: str = "http://localhost:8080"
    unhealthy: Mapping[str, str] = field(default_factory=dict)
    memo: MemoLookup = NO_MEMO
    max_work_items: int = 10_000

    def after(self, ms: int) -> datetime:
        """``now`` plus ``ms`` milliseconds."""
        return self.now + timedelta(milliseconds=ms)

    def healthy(self, step_id: str) -> bool:
        """HEALTH-6: whether work for ``step_id`` may be dispatched."""
        return step_id not in self.unhealthy

    def health_error(self, step_id: str) -> str:
        """The local health error of a gated step: the deferral reason (HEALTH-6)."""
        return self.unhealthy.get(step_id, "")

    def token(self, flow_id: str, step_id: str, index: int) -> str:
        """The derived token of a step's ``index``-th work item (DATA-4)."""
        return work_token(self.token_key, flow_id, step_id, index)


def _feeds_all_or_none(plan: ExecutionPlan, name: str) -> bool:
    """True if some plan step takes ``name`` with ``collect: all`` or ``none``."""
    edges = plan.attributes.get(name)
    if edges is None:
        return False
    for consumer in edges.consumers:
        step = plan.steps.get(consumer)
        spec = step.attrs().get(name) if step is not None else None
        if spec is not None and input_collect(spec) in ("all", "none"):
            return True
    return False


@dataclass
class Tx:
    """One flow write: the working state, its events and its effects."""

    state: FlowState
    env: Env
    events: list[ev.Payload] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    #: Steps whose match evaluation failed in this write (MATCH-2): step -> error.
    match_errors: dict[str, str] = field(default_factory=dict)
    #: True while a new flow's initial steps are prepared (FLOW-6): an error
    #: there aborts the whole start (FLOW-9) instead of failing one step.
    initial: bool = False
    _memo: dict[str, dict[str, Any]] = field(default_factory=dict)
    _memo_at: int = -1
    #: Whether a step may have become unreachable since the last EXEC-14 pass:
    #: only failures, skips and completions missing a declared output can do it.
    reach_dirty: bool = False

    def memo(self, name: str) -> dict[str, Any]:
        """A cache that lives until the next event is raised (the state is unchanged)."""
        if self._memo_at != len(self.events):
            self._memo.clear()
            self._memo_at = len(self.events)
        return self._memo.setdefault(name, {})

    @property
    def flow_id(self) -> str:
        return self.state.id

    def raise_(self, payload: ev.Payload) -> None:
        """Record ``payload`` and apply it to the working state."""
        apply(self.state, payload, self.env.now)
        self.events.append(payload)
        if isinstance(payload, ev.StepFailed | ev.StepSkipped):
            self.reach_dirty = True
        elif isinstance(payload, ev.StepCompleted):
            outputs = payload.outputs or {}
            plan = self.state.plan
            declared = plan.steps[payload.step_id].output_names
            # A missing output can starve a consumer. A produced one can too: it
            # makes a `collect: none` input unfulfillable for good, and it may be
            # the last provider of a `collect: all` input that another provider
            # already failed (INPUT-3, EXEC-13, EDGE-12).
            if any(name not in outputs for name in declared) or any(
                _feeds_all_or_none(plan, name) for name in outputs
            ):
                self.reach_dirty = True

    def effect(self, effect: Effect) -> None:
        """Schedule ``effect`` for after the commit."""
        self.effects.append(effect)

    @property
    def terminal(self) -> bool:
        """True once the flow completed or failed."""
        return self.state.status != "active"
