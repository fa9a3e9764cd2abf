"""The flow runner: one writer per flow, events appended atomically, effects after commit.

``write(flow_id, decide_fn)`` takes the flow's lock, loads its state (from a
bounded in-memory projection cache, or by folding its events), calls the
pure decision, appends the decision's events in one batch at the expected
sequence and only then performs its effects: invocations, compensations and
timers (ARCHITECTURE principles 1-4, FLOW-10, EVT-4).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from argyll.engine.eventlog import decode_payload
from argyll.engine.flow import decide
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.tx import (
    ArmCompRetry,
    ArmDeadline,
    ArmDispatch,
    ArmRetry,
    Compensate,
    Env,
    InvokeWork,
    MemoPut,
    ScriptEvaluator,
    Tx,
    unsigned_webhook_url,
)
from argyll.engine.flow.work import TooManyWorkItems
from argyll.engine.flows import same_start
from argyll.engine.repository import COMMIT_ATTEMPTS, FlowEntry, Repository, flow_aggregate
from argyll.engine.scheduler import Clock, Scheduler
from argyll.errors import ConcurrencyError, ConflictError, InternalError
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.plan import ExecutionPlan
from argyll.model.step import Step, WorkConfig

__all__ = ["Effects", "FlowRunner", "MemoStore", "RunnerSettings"]

log = logging.getLogger("argyll.runner")


Decision = Callable[[FlowState, Env], Tx]


class Effects(Protocol):
    """What the runner asks of the outside world after a commit (``execute.executor``)."""

    async def invoke(self, state: FlowState, step: Step, effect: InvokeWork) -> Outcome | None:
        """Run one work item; ``None`` when its result arrives later (webhook, child)."""

    async def compensate(self, state: FlowState, step: Step, effect: Compensate) -> Outcome:
        """Undo one succeeded work item (COMP-3)."""

    async def child_finished(self, child: FlowState) -> None:
        """A child flow was deactivated: report to its parent (SUB-5)."""


class MemoStore(Protocol):
    """The memo cache as the runner uses it: read in decisions, written after commits."""

    def get(self, step: Step, inputs: dict[str, Any]) -> dict[str, Any] | None: ...

    def put(self, step: Step, inputs: dict[str, Any], outputs: dict[str, Any] | None) -> None: ...


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """The configuration values decisions need (from ``Config``)."""

    retry: WorkConfig
    webhook_base_url: str
    max_work_items: int
    token_key: bytes
    #: Builds an async item's webhook URL with its credential (ASYNC-1).
    webhook_url: Callable[[str, str, str, str], str] = unsigned_webhook_url


class _Slot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


def _apply_results(batch: list[tuple[str, str, Outcome]], state: FlowState, env: Env) -> Tx:
    return decide.on_results(state, env, batch)


class FlowRunner:
    """Serializes each flow's writes and performs their effects."""

    def __init__(
        self,
        repository: Repository,
        scheduler: Scheduler,
        clock: Clock,
        settings: RunnerSettings,
        *,
        scripts: ScriptEvaluator,
        memo: MemoStore,
        unhealthy: Callable[[], Mapping[str, str]],
        on_deferred: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.repository = repository
        self.scheduler = scheduler
        self.clock = clock
        self.settings = settings
        self.scripts = scripts
        self.memo = memo
        self.unhealthy = unhealthy
        self.on_deferred = on_deferred
        #: Set by the composition root before the first write.
        self.effects: Effects | None = None
        self._slots: dict[str, _Slot] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._results: dict[str, list[tuple[str, str, Outcome]]] = {}

    # state ---------------------------------------------------------------

    def env(self) -> Env:
        """A decision environment: the clock reading and snapshots of health and memo."""
        settings = self.settings
        return Env(
            now=self.clock.now(),
            scripts=self.scripts,
            retry=settings.retry,
            token_key=settings.token_key,
            webhook_base_url=settings.webhook_base_url,
            unhealthy=self.unhealthy(),
            memo=self.memo,
            max_work_items=settings.max_work_items,
            webhook_url=settings.webhook_url,
        )

    async def _load(self, flow_id: str) -> FlowEntry | None:
        return await self.repository.load_flow(flow_id, self._slots)

    async def cached_state(self, flow_id: str) -> FlowState | None:
        """The state of a flow if it is in the projection cache; never reads the store."""
        entry = self.repository.cached_flow(flow_id)
        return entry.state if entry is not None else None

    async def state(self, flow_id: str) -> FlowState | None:
        """The committed state of a flow (shared; callers must not mutate it).

        A decision mutates the cached state in place before its events are
        durable (``write``), so this waits for a write in progress on the
        flow: readers never see a state that a crash could still take back
        (REC-6), e.g. a flow shown deactivated before its last events commit.
        """
        slot = self._slots.get(flow_id)
        if slot is None:
            entry = await self._load(flow_id)
        else:
            slot.users += 1
            try:
                async with slot.lock:
                    entry = await self._load(flow_id)
            finally:
                slot.users -= 1
                if slot.users == 0:
                    del self._slots[flow_id]
        return entry.state if entry is not None else None

    async def _working_state(self, flow_id: str) -> FlowState | None:
        # Effects only need the plan and committed item data; no need to wait.
        entry = await self._load(flow_id)
        return entry.state if entry is not None else None

    # starts ----------------------------------------------------------------

    async def start(
        self,
        flow_id: str,
        plan: ExecutionPlan,
        init: dict[str, list[Any]],
        *,
        labels: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> bool:
        """Start a planned flow (FLOW-3 duplicates included); True if newly started.

        Raises:
            ConflictError: a different flow with this ID exists (409).
            InternalError: preparing the initial steps failed (FLOW-9).
        """
        if self.repository.cached_flow(flow_id) is None:
            # Optimistic: a new flow's first append expects sequence 0, so an
            # existing flow shows up as a conflict without a read per start.
            tx = self._decide_start(flow_id, plan, init, labels, metadata)
            try:
                await self.create(flow_id, tx)
                return True
            except ConcurrencyError:
                pass
        existing = await self.started_with(flow_id)
        if existing is not None and same_start(existing, plan.goals, init):
            return False
        raise ConflictError(f"flow exists with different plan or init: {flow_id}")

    async def started_with(self, flow_id: str) -> ev.FlowStarted | None:
        """The ``flow_started`` payload of an existing flow, if any."""
        if await self.state(flow_id) is None:
            return None
        first = await self.repository.read(flow_aggregate(flow_id))
        payload = decode_payload(first[0])
        return payload if isinstance(payload, ev.FlowStarted) else None

    def _decide_start(
        self,
        flow_id: str,
        plan: ExecutionPlan,
        init: dict[str, list[Any]],
        labels: dict[str, str] | None,
        metadata: dict[str, Any] | None,
    ) -> Tx:
        """FLOW-6/FLOW-9: the start decision; a work-item overflow is a 500."""
        try:
            return decide.start(self.env(), flow_id, plan, init, labels=labels, metadata=metadata)
        except TooManyWorkItems as exc:  # FLOW-9: a request problem, not an engine fault
            log.warning("flow %s not started: %s", flow_id, exc)
            raise InternalError(f"failed to start flow: {exc}") from exc
        except Exception as exc:
            log.exception("failed to start flow %s", flow_id)
            raise InternalError(f"failed to start flow: {exc}") from exc

    # writes --------------------------------------------------------------

    async def write(self, flow_id: str, fn: Decision) -> Tx | None:
        """Run ``fn`` on the flow's state under its lock and commit its events.

        Returns ``None`` when the flow does not exist. Exceptions raised by
        ``fn`` before any event propagate (used for request validation).
        When another writer (a cluster node) committed first, the flow is
        read again and ``fn`` decides again, up to ``COMMIT_ATTEMPTS`` times.
        """
        slot = self._slots.get(flow_id)
        if slot is None:
            slot = self._slots[flow_id] = _Slot()
        slot.users += 1
        try:
            async with slot.lock:
                for attempt in range(1, COMMIT_ATTEMPTS + 1):
                    entry = await self._load(flow_id)
                    if entry is None:
                        return None
                    tx = fn(entry.state, self.env())
                    if not tx.events:
                        break
                    try:
                        await self._commit(flow_id, entry, tx)
                        break
                    except ConcurrencyError:
                        if attempt == COMMIT_ATTEMPTS:
                            raise
                        log.info("flow %s changed under this write; deciding again", flow_id)
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[flow_id]
        self._perform(flow_id, tx)
        return tx

    async def create(self, flow_id: str, tx: Tx) -> None:
        """Commit a new flow's first write (``flow_started`` ...) at sequence 0.

        Raises:
            ConcurrencyError: the flow already exists.
        """
        entry = FlowEntry(tx.state, 0)
        await self._commit(flow_id, entry, tx)
        self.repository.remember_flow(flow_id, entry, self._slots)
        self._perform(flow_id, tx)

    async def _commit(self, flow_id: str, entry: FlowEntry, tx: Tx) -> None:
        await self.repository.commit_flow(flow_id, entry, tx.events, tx.env.now)

    # effects -------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Background work running now: invocations, compensations, propagations."""
        return len(self._tasks)

    def spawn(self, coro: Awaitable[Any]) -> None:
        """Run a background task owned by the runner (awaited at shutdown)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    def _perform(self, flow_id: str, tx: Tx) -> None:
        scheduler = self.scheduler
        terminal = tx.terminal
        if any(isinstance(p, ev.FlowCompleted | ev.FlowFailed) for p in tx.events):
            scheduler.cancel_flow(flow_id)  # TERM-5
        for effect in tx.effects:
            match effect:
                case InvokeWork():
                    self.spawn(self._invoke(flow_id, effect))
                case Compensate():
                    self.spawn(self._compensate(flow_id, effect))
                case MemoPut():
                    self.memo.put(effect.step, effect.inputs, effect.outputs)
                case ArmCompRetry():
                    scheduler.arm(
                        ("comp", flow_id, effect.step_id, effect.token),
                        effect.at,
                        self._comp_timer(flow_id, effect.step_id, effect.token),
                    )
                case ArmRetry() if not terminal:
                    scheduler.arm(
                        ("retry", flow_id, effect.step_id, effect.token),
                        effect.at,
                        self._retry_timer(flow_id, effect.step_id, effect.token),
                    )
                case ArmDeadline() if not terminal:
                    scheduler.arm(
                        ("deadline", flow_id, effect.step_id),
                        effect.at,
                        self._decision_timer(flow_id, effect.step_id, decide.on_deadline),
                    )
                case ArmDispatch() if not terminal:
                    scheduler.arm(
                        ("dispatch", flow_id, effect.step_id),
                        effect.at,
                        self._decision_timer(flow_id, effect.step_id, decide.on_dispatch),
                    )
                    self.on_deferred(effect.step_id)  # HEALTH-6: held back; re-probe soon
        for payload in tx.events:
            if isinstance(payload, ev.FlowDeactivated):
                if "parent_flow_id" in tx.state.metadata:
                    self.spawn(self._child_finished(tx.state))
                if flow_id not in self._slots:
                    # Finished flows cost no memory (nor collector time); a
                    # later read folds the flow from the store again.
                    self.repository.forget_flow(flow_id)

    def _retry_timer(self, flow_id: str, step_id: str, token: str) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            await self.write(flow_id, lambda s, e: decide.on_retry_timer(s, e, step_id, token))

        return fire

    def _comp_timer(self, flow_id: str, step_id: str, token: str) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            await self.write(flow_id, lambda s, e: decide.on_comp_timer(s, e, step_id, token))

        return fire

    def _decision_timer(
        self, flow_id: str, step_id: str, fn: Callable[[FlowState, Env, str], Tx]
    ) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            await self.write(flow_id, lambda s, e: fn(s, e, step_id))

        return fire

    async def record(self, flow_id: str, step_id: str, token: str, outcome: Outcome) -> None:
        """Record a work outcome (WORK-7) in the flow's next write.

        Outcomes that arrive while the flow's results are being written queue
        up and are applied together in the following write (one decision, one
        commit), so a fan-out does not pay a commit per item. The first
        caller drains the queue; the others return at once. An outcome lost
        to a failed write is repeated by recovery (the item is re-invoked with
        the same token, REC-4).
        """
        item = (step_id, token, outcome)
        queue = self._results.get(flow_id)
        if queue is not None:
            queue.append(item)
            return
        queue = self._results[flow_id] = [item]
        try:
            while queue:
                batch = list(queue)
                queue.clear()
                await self.write(flow_id, functools.partial(_apply_results, batch))
        finally:
            del self._results[flow_id]

    def _effects(self) -> Effects:
        if self.effects is None:
            raise RuntimeError("FlowRunner.effects is not set")
        return self.effects

    async def _invoke(self, flow_id: str, effect: InvokeWork) -> None:
        state = await self._working_state(flow_id)
        if state is None:
            return
        step = state.plan.steps[effect.step_id]
        outcome = await self._effects().invoke(state, step, effect)
        if outcome is not None:
            await self.record(flow_id, effect.step_id, effect.token, outcome)

    async def _compensate(self, flow_id: str, effect: Compensate) -> None:
        state = await self._working_state(flow_id)
        if state is None:
            return
        step = state.plan.steps[effect.step_id]
        result = await self._effects().compensate(state, step, effect)
        await self.write(
            flow_id,
            lambda s, e: decide.on_comp_result(
                s, e, effect.step_id, effect.token, result.kind, result.error
            ),
        )

    async def _child_finished(self, child: FlowState) -> None:
        await self._effects().child_finished(child)

    async def recover(self, flow_id: str) -> None:
        """REC-3: resume one flow after a restart."""
        state = await self.state(flow_id)
        if state is None:
            return
        meta = state.metadata
        parents = [
            k in meta for k in ("parent_flow_id", "parent_step_id", "parent_work_item_token")
        ]
        if any(parents) and not all(parents):
            log.error("flow %s has partial parent metadata; not recovered", flow_id)
            return
        await self.write(flow_id, decide.recover)

    async def close(self) -> None:
        """Cancel background work and wait for it."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
