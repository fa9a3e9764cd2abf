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
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from argyll.engine.eventlog import decode_payload, encode_payload
from argyll.engine.execute.tokens import TokenSource
from argyll.engine.flow import decide
from argyll.engine.flow.state import apply, new_state
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
from argyll.engine.store.base import AppendBatch
from argyll.model import events as ev
from argyll.model.flow import FlowState

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["FlowRunner"]

log = logging.getLogger("argyll.runner")

Decision = Callable[[FlowState, Env], Tx]


@dataclass
class _Entry:
    state: FlowState
    next_sequence: int


class _Slot:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


def _apply_results(batch: list[tuple[str, str, decide.Outcome]], state: FlowState, env: Env) -> Tx:
    return decide.on_results(state, env, batch)


class FlowRunner:
    """Serializes each flow's writes and performs their effects."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._cache_size = engine.config.timebox_cache_size
        self._slots: dict[str, _Slot] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tokens = TokenSource()
        self._results: dict[str, list[tuple[str, str, decide.Outcome]]] = {}

    # state ---------------------------------------------------------------

    def env(self) -> Env:
        """A decision environment at the current clock time."""
        e = self.engine
        return Env(
            now=e.clock.now(),
            scripts=e.scripts,
            new_token=self._tokens,
            retry=e.config.retry,
            webhook_base_url=e.config.webhook_base_url,
            healthy=e.dispatchable,
            health_error=e.health.gate_error,
            memo_get=e.memo.get,
            max_work_items=e.config.limits.work_items,
        )

    async def _load(self, flow_id: str) -> _Entry | None:
        entry = self._cache.get(flow_id)
        if entry is not None:
            self._cache.move_to_end(flow_id)
            return entry
        stored = await self.store.read(("flow", flow_id))
        if not stored:
            return None
        state = new_state()
        for event in stored:
            apply(state, decode_payload(event), event.timestamp)
        entry = _Entry(state, len(stored))
        self._remember(flow_id, entry)
        return entry

    def _remember(self, flow_id: str, entry: _Entry) -> None:
        self._cache[flow_id] = entry
        self._cache.move_to_end(flow_id)
        while len(self._cache) > self._cache_size:
            oldest = next(iter(self._cache))
            if oldest in self._slots:  # being written: keep it
                self._cache.move_to_end(oldest)
                break
            del self._cache[oldest]

    async def cached_state(self, flow_id: str) -> FlowState | None:
        """The state of a flow if it is in the projection cache; never reads the store."""
        entry = self._cache.get(flow_id)
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

    # writes --------------------------------------------------------------

    async def write(self, flow_id: str, fn: Decision) -> Tx | None:
        """Run ``fn`` on the flow's state under its lock and commit its events.

        Returns ``None`` when the flow does not exist. Exceptions raised by
        ``fn`` before any event propagate (used for request validation).
        """
        slot = self._slots.get(flow_id)
        if slot is None:
            slot = self._slots[flow_id] = _Slot()
        slot.users += 1
        try:
            async with slot.lock:
                entry = await self._load(flow_id)
                if entry is None:
                    return None
                tx = fn(entry.state, self.env())
                if tx.events:
                    await self._commit(flow_id, entry, tx)
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
        entry = _Entry(tx.state, 0)
        await self._commit(flow_id, entry, tx)
        self._remember(flow_id, entry)
        self._perform(flow_id, tx)

    async def _commit(self, flow_id: str, entry: _Entry, tx: Tx) -> None:
        now = tx.env.now
        batch = AppendBatch(
            ("flow", flow_id), entry.next_sequence, [encode_payload(p, now) for p in tx.events]
        )
        try:
            stored = await self.store.append(batch)
        except BaseException:
            self._cache.pop(flow_id, None)  # the working state ran ahead of the log
            raise
        entry.next_sequence += len(stored)
        self.engine.bus.publish(stored)

    # effects -------------------------------------------------------------

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
        scheduler = self.engine.scheduler
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
                    self.engine.memo.put(effect.step, effect.inputs, effect.outputs)
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
        for payload in tx.events:
            if isinstance(payload, ev.FlowDeactivated) and "parent_flow_id" in tx.state.metadata:
                self.spawn(self.engine.subflows.propagate(tx.state))

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

    async def record(self, flow_id: str, step_id: str, token: str, outcome: decide.Outcome) -> None:
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

    async def _invoke(self, flow_id: str, effect: InvokeWork) -> None:
        state = await self._working_state(flow_id)
        if state is None:
            return
        step = state.plan.steps[effect.step_id]
        outcome = await self.engine.invoke(state, step, effect)
        if outcome is not None:
            await self.record(flow_id, effect.step_id, effect.token, outcome)

    async def _compensate(self, flow_id: str, effect: Compensate) -> None:
        state = await self._working_state(flow_id)
        if state is None:
            return
        step = state.plan.steps[effect.step_id]
        item = state.executions[effect.step_id].work_items[effect.token]
        inputs = dict(state.executions[effect.step_id].inputs or {})
        inputs.update(item.inputs or {})
        metadata = dict(state.metadata)
        metadata.update(flow_id=flow_id, step_id=step.id, receipt_token=effect.token)
        result = await self.engine.http.compensate(step, inputs, item.outputs, metadata)
        await self.write(
            flow_id,
            lambda s, e: decide.on_comp_result(
                s, e, effect.step_id, effect.token, result.kind, result.error
            ),
        )

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
