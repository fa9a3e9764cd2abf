"""A deterministic simulator of the pure flow core: no I/O, a manual clock.

Handlers are plain functions ``(args) -> Outcome``; the simulator performs
``InvokeWork`` effects by calling them and feeds results back through
``decide.on_result``, fires timers in time order, and records every event.
Predicates, matches and mappings use Python callables keyed by script source
(pure logic; the real script engines are tested elsewhere).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from argyll.engine.flow import decide
from argyll.engine.flow.tx import (
    ArmCompRetry,
    ArmDeadline,
    ArmDispatch,
    ArmRetry,
    Compensate,
    Env,
    InvokeWork,
    MemoPut,
    Tx,
)
from argyll.engine.flow.work import Outcome
from argyll.errors import ScriptRuntimeError
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.plan import AttributeEdges, ExecutionPlan
from argyll.model.step import (
    AttributeSpec,
    HTTPConfig,
    OptionalConfig,
    RequiredConfig,
    ScriptConfig,
    Step,
    WorkConfig,
    with_work_defaults,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULTS = WorkConfig(max_retries=3, init_backoff=100, max_backoff=1000, backoff_type="exponential")

PyScripts = dict[str, Callable[..., Any]]


class FakeScripts:
    """Evaluates scripts by looking their source up in a table of Python callables."""

    def __init__(self, table: PyScripts | None = None) -> None:
        self.table = table or {}

    def predicate(
        self, language: str, source: str, arg_names: list[str], args: dict[str, Any]
    ) -> bool:
        return bool(self._call(source, args))

    def match(self, language: str, source: str, value: Any) -> bool:
        return bool(self._call(source, value))

    def mapping(self, language: str, source: str, name: str, value: Any) -> Any:
        return self._call(source, value)

    def _call(self, source: str, arg: Any) -> Any:
        fn = self.table.get(source)
        if fn is None:
            raise ScriptRuntimeError(f"no such script: {source}")
        return fn(arg)


def req(
    type_: str = "", *, collect: str = "", for_each: bool = False, match: str = "", name: str = ""
) -> AttributeSpec:
    from argyll.model.step import AttributeMapping

    return AttributeSpec(
        role="required",
        type=type_,
        required=RequiredConfig(
            collect=collect,
            for_each=for_each,
            match=ScriptConfig("lua", match) if match else None,
            mapping=AttributeMapping(name=name) if name else None,
        ),
    )


def opt(default: str = "", *, collect: str = "", deadline: int = 0) -> AttributeSpec:
    return AttributeSpec(
        role="optional",
        optional=OptionalConfig(collect=collect, default=default, deadline=deadline),
    )


OUT = AttributeSpec(role="output")


def step(
    step_id: str,
    attrs: dict[str, AttributeSpec] | None = None,
    *,
    predicate: str = "",
    type_: str = "sync",
    compensate: str = "",
    memoizable: bool = False,
    work: WorkConfig | None = None,
) -> Step:
    return with_work_defaults(
        Step(
            id=step_id,
            name=step_id,
            type=type_,
            attributes=dict(attrs or {}),
            predicate=ScriptConfig("lua", predicate) if predicate else None,
            http=HTTPConfig(endpoint="http://svc", compensate=compensate),
            memoizable=memoizable,
            work_config=work,
        ),
        DEFAULTS,
    )


def plan(goals: list[str], steps: list[Step], **excluded: dict[str, list[str]]) -> ExecutionPlan:
    """A plan over exactly ``steps`` (PLAN-6 attribute edges)."""
    from argyll.model.plan import Excluded

    attributes: dict[str, AttributeEdges] = {}
    for s in steps:
        for name in s.output_names:
            attributes.setdefault(name, AttributeEdges()).providers.append(s.id)
    for s in steps:
        for name in s.input_names:
            attributes.setdefault(name, AttributeEdges()).consumers.append(s.id)
    return ExecutionPlan(
        goals=goals,
        steps={s.id: s for s in steps},
        attributes=attributes,
        excluded=Excluded(**excluded),
    )


Handler = Callable[[dict[str, Any]], Outcome | None]


def ok(**outputs: Any) -> Outcome:
    return Outcome("success", dict(outputs))


class Sim:
    """Runs a flow through the pure core with handlers and a manual clock."""

    def __init__(
        self,
        p: ExecutionPlan,
        handlers: dict[str, Handler] | None = None,
        *,
        scripts: PyScripts | None = None,
        init: dict[str, list[Any]] | None = None,
        healthy: Callable[[str], bool] | None = None,
    ) -> None:
        self.plan = p
        self.handlers = handlers or {}
        self.scripts = FakeScripts(scripts)
        self.now = T0
        self.events: list[ev.Payload] = []
        self.timers: list[tuple[datetime, int, Callable[[], Tx]]] = []
        self._seq = itertools.count()
        self.invocations: list[InvokeWork] = []
        self.compensations: list[Compensate] = []
        self.pending: list[InvokeWork] = []  # invocations whose handler returned None
        self.memo: dict[str, dict[str, Any] | None] = {}
        self.healthy = healthy or (lambda _: True)
        self.comp_handler: Callable[[Compensate], tuple[str, str]] = lambda c: ("success", "")
        self.state: FlowState | None = None
        self.init = init or {}

    def get(self, s: Step, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """The simulated memo cache (``Env.memo``)."""
        return self.memo.get(repr((s.id, sorted(inputs.items()))))

    def env(self) -> Env:
        return Env(
            now=self.now,
            scripts=self.scripts,
            retry=DEFAULTS,
            token_key=b"sim",
            unhealthy={s: "" for s in self.plan.steps if not self.healthy(s)},
            memo=self,
            max_work_items=100,
        )

    def _take(self, tx: Tx) -> None:
        self.events.extend(tx.events)
        self.state = tx.state
        for effect in tx.effects:
            self._perform(effect)

    def _perform(self, effect: object) -> None:
        assert self.state is not None
        state = self.state
        match effect:
            case InvokeWork():
                self.invocations.append(effect)
                outcome = self.handlers[effect.step_id](effect.args)
                if outcome is None:
                    self.pending.append(effect)
                else:
                    self._take(
                        decide.on_result(state, self.env(), effect.step_id, effect.token, outcome)
                    )
            case Compensate():
                self.compensations.append(effect)
                kind, error = self.comp_handler(effect)
                self._take(
                    decide.on_comp_result(
                        state, self.env(), effect.step_id, effect.token, kind, error
                    )
                )
            case ArmRetry():
                self._arm(
                    effect.at,
                    lambda e=effect: decide.on_retry_timer(
                        self.state, self.env(), e.step_id, e.token
                    ),
                )  # type: ignore[misc]
            case ArmCompRetry():
                self._arm(
                    effect.at,
                    lambda e=effect: decide.on_comp_timer(
                        self.state, self.env(), e.step_id, e.token
                    ),
                )  # type: ignore[misc]
            case ArmDeadline():
                self._arm(
                    effect.at,
                    lambda e=effect: decide.on_deadline(self.state, self.env(), e.step_id),
                )  # type: ignore[misc]
            case ArmDispatch():
                self._arm(
                    effect.at,
                    lambda e=effect: decide.on_dispatch(self.state, self.env(), e.step_id),
                )  # type: ignore[misc]
            case MemoPut():
                key = repr((effect.step.id, sorted(effect.inputs.items())))
                self.memo[key] = effect.outputs

    def _arm(self, at: datetime, fn: Callable[[], Tx]) -> None:
        self.timers.append((at, next(self._seq), fn))

    def start(self, flow_id: str = "wf") -> Sim:
        self._take(decide.start(self.env(), flow_id, self.plan, self.init))
        return self

    def complete(self, step_id: str, outcome: Outcome) -> None:
        """Deliver a result for the oldest pending invocation of ``step_id``."""
        assert self.state is not None
        effect = next(p for p in self.pending if p.step_id == step_id)
        self.pending.remove(effect)
        self._take(decide.on_result(self.state, self.env(), step_id, effect.token, outcome))

    def advance(self, ms: int) -> None:
        """Move the clock and fire due timers in time order."""
        target = self.now + timedelta(milliseconds=ms)
        while True:
            due = sorted(t for t in self.timers if t[0] <= target)
            if not due:
                break
            at, _seq, fn = due[0]
            self.timers.remove(due[0])
            self.now = max(self.now, at)
            self._take(fn())
        self.now = target

    def run_timers(self, limit_ms: int = 3_600_000) -> None:
        self.advance(limit_ms)

    # inspection ------------------------------------------------------------

    @property
    def types(self) -> list[str]:
        return [type(e).TYPE for e in self.events]

    def of(self, cls: type[ev.Payload]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    @property
    def status(self) -> str:
        assert self.state is not None
        return self.state.status

    def step_status(self, step_id: str) -> str:
        assert self.state is not None
        return self.state.executions[step_id].status

    @property
    def deactivated(self) -> bool:
        assert self.state is not None
        return self.state.deactivated_at.year > 1
