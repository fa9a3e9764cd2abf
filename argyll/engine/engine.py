"""The engine facade: wires store, catalog, planner, runner and effects together.

It owns no business rules: validation lives in argyll.model, planning in
engine/plan, flow decisions in engine/flow. Here we load state at start-up
(REC-2), serialize catalog writes (CAT-8), and translate requests into
decisions and decisions into commits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import msgspec
from starlette.routing import BaseRoute

from argyll.engine.bus import EventBus
from argyll.engine.catalog import Catalog
from argyll.engine.config import Config
from argyll.engine.eventlog import decode_payload, encode_payload, rest_events
from argyll.engine.execute.memo import MemoCache
from argyll.engine.execute.runner import FlowRunner
from argyll.engine.execute.subflow import Subflows
from argyll.engine.flow import decide
from argyll.engine.flow.tx import InvokeWork, Tx
from argyll.engine.flow.work import TooManyWorkItems
from argyll.engine.flows import (
    check_init_types,
    check_start_request,
    index_query,
    query_response,
    same_start,
    summaries,
)
from argyll.engine.plan import build_plan
from argyll.engine.plan.cache import PlanCache
from argyll.engine.scheduler import Clock, Scheduler, SystemClock
from argyll.engine.store.base import AppendBatch, EventStore, FlowIndexQuery
from argyll.errors import (
    BadRequestError,
    ConcurrencyError,
    ConflictError,
    InternalError,
    NotFoundError,
    ScriptCompileError,
    ScriptError,
)
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.ids import sanitize_id
from argyll.model.plan import ExecutionPlan
from argyll.model.requests import FlowQuery, FlowStartRequest
from argyll.model.step import Step, output_inner_names, step_arg_names

__all__ = ["Engine"]

log = logging.getLogger("argyll.engine")


class Engine:
    """One engine process: state, writers and effects.

    Args:
        config: Validated configuration.
        store: The event store (default: SQLite in ``config.data_dir``, or
            memory when ``data_dir`` is ``None``).
        clock: The engine clock (tests inject one).
    """

    def __init__(
        self, config: Config, store: EventStore | None = None, clock: Clock | None = None
    ) -> None:
        from argyll.engine.execute.http import HTTPInvoker
        from argyll.engine.health_monitor import HealthMonitor
        from argyll.engine.scripts import ScriptLimits, Scripts
        from argyll.engine.server.websocket import WebSocketHub
        from argyll.engine.store import open_store

        self.config = config
        self.store: EventStore = store if store is not None else open_store(config)
        self.scripts = Scripts(ScriptLimits.from_env())
        self.clock: Clock = clock or SystemClock()
        self.scheduler = Scheduler(self.clock)
        self.bus = EventBus()
        self.memo = MemoCache(config.memo_cache_size)
        self.http = HTTPInvoker(default_timeout_ms=config.step_timeout_ms)
        self.catalog = Catalog(config.retry)
        self.plans = PlanCache()
        self.runner = FlowRunner(self)
        self.subflows = Subflows(self)
        self.websocket_clients = 0
        self.health = HealthMonitor(self)
        self.websockets = WebSocketHub(self)
        self._catalog_lock = asyncio.Lock()
        self._routes: list[BaseRoute] = []

    # lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Open the store, replay the catalog and recover active flows (REC-2)."""
        await self.store.open()
        for event in await self.store.read(("catalog",)):
            self.catalog.apply(decode_payload(event), event.timestamp)
        await self.health.load()  # REC-2: health gates dispatch during recovery
        active = await self.store.active_flow_ids()
        for flow_id in active:
            try:
                await self.runner.recover(flow_id)
            except Exception:
                log.exception("recovering flow %s failed", flow_id)
        log.info(
            "engine started: %d steps, %d active flows recovered",
            len(self.catalog.steps),
            len(active),
        )
        self.health.start()  # REC-2: the checker starts after recovery

    async def stop(self) -> None:
        """Stop timers and background work, then close the store (idempotent)."""
        await self.health.stop()
        await self.scheduler.close()
        await self.runner.close()
        await self.http.close()
        self.scripts.close()
        await self.store.close()

    def extra_routes(self) -> list[BaseRoute]:
        """Routes contributed by optional features (webhooks, WebSocket)."""
        from argyll.engine.server.routes_health import health_routes
        from argyll.engine.server.routes_webhook import webhook_routes
        from argyll.engine.server.websocket import websocket_routes

        return [
            *webhook_routes(self),
            *health_routes(self),
            *websocket_routes(self.websockets),
            *self._routes,
        ]

    # scripts and health ----------------------------------------------------

    def compile_check(
        self, language: str, source: str, arg_names: Sequence[str], purpose: str
    ) -> str | None:
        """VAL-1 stage 7/8: the compiler's error text, or ``None``."""
        try:
            self.scripts.check(language, source, arg_names, purpose)  # type: ignore[arg-type,unused-ignore]
        except ScriptCompileError as exc:
            return exc.message
        return None

    def dispatchable(self, step_id: str) -> bool:
        """HEALTH-6: may work for ``step_id`` be dispatched on this node."""
        return self.health.dispatchable(step_id)

    def step_health(self, step: Step) -> dict[str, str]:
        """A catalog step's health merged over nodes and resolved (API-16, HEALTH-5)."""
        health = self.health.resolved(step.id)
        if health is None:
            return {"status": "unknown"}
        wire: dict[str, str] = msgspec.to_builtins(health)
        return wire

    # catalog -------------------------------------------------------------

    async def _append_catalog(self, payload: ev.Payload) -> None:
        now = self.clock.now()
        batch = AppendBatch(
            ("catalog",), self.catalog.next_sequence, [encode_payload(payload, now)]
        )
        stored = await self.store.append(batch)
        self.catalog.apply(payload, now)
        self.bus.publish(stored)

    async def register_step(self, step: Step) -> Step:
        """API-12 / CAT-2: returns the submitted step with its sanitized ID."""
        step = msgspec.structs.replace(step, id=sanitize_id(step.id))
        async with self._catalog_lock:
            payload = self.catalog.decide_register(step, self.compile_check)
            if payload is not None:
                await self._append_catalog(payload)
                await self._reset_health(payload)
        return step

    async def update_step(self, path_id: str, step: Step) -> Step:
        """API-13 / CAT-3."""
        step = msgspec.structs.replace(step, id=sanitize_id(step.id))
        if sanitize_id(path_id) != step.id:
            raise BadRequestError("Step ID in URL does not match step ID in body")
        async with self._catalog_lock:
            payload = self.catalog.decide_update(step, self.compile_check)
            if payload is not None:
                await self._append_catalog(payload)
                await self._reset_health(payload)
        return step

    async def _reset_health(self, payload: ev.Payload) -> None:
        """CAT-5 / HEALTH-3: reset the local health of a registered or updated step."""
        if isinstance(payload, ev.StepRegistered | ev.StepUpdated):
            try:
                await self.health.reset(payload.step)
            except Exception:
                log.exception("resetting health of step %s failed", payload.step.id)

    async def unregister_step(self, step_id: str) -> None:
        """API-14 / CAT-4."""
        async with self._catalog_lock:
            await self._append_catalog(self.catalog.decide_unregister(step_id))

    def list_steps(self) -> list[Step]:
        """API-10: stored steps sorted by ID."""
        return self.catalog.sorted_steps()

    def get_step(self, step_id: str) -> Step:
        """API-11."""
        step = self.catalog.steps.get(step_id)
        if step is None:
            raise NotFoundError(f"step not found: {step_id}")
        return step

    def catalog_state(self) -> dict[str, Any]:
        """API-3."""
        return self.catalog.to_wire()

    async def catalog_events(self) -> dict[str, Any]:
        """API-4."""
        return rest_events(await self.store.read(("catalog",)))

    def engine_state(self) -> dict[str, Any]:
        """API-2: catalog plus per-node health with every step filled in."""
        state = self.catalog.to_wire()
        cluster = self.health.cluster
        state["last_updated"] = max(self.catalog.last_updated, cluster.last_updated)
        state["health"] = cluster.nodes_wire(self.catalog.steps)
        return state

    def service_health(self) -> dict[str, Any]:
        """API-1."""
        return {
            "service": "argyll-engine",
            "status": "healthy",
            "details": {
                "websocket": {"clients": self.websocket_clients},
                "backend": self.store.status(),
            },
        }

    # plans and flows -------------------------------------------------------

    def _plan(self, goals: list[str], init: dict[str, list[Any]], preview: bool) -> ExecutionPlan:
        graph = self.catalog.graph
        try:
            return self.plans.get(
                graph,
                goals,
                init,
                preview,
                lambda: build_plan(graph, goals, init, preview=preview, match=self.scripts.match),
            )
        except (BadRequestError, NotFoundError):
            raise
        except (InternalError, ScriptError) as exc:
            raise InternalError(f"failed to create execution plan: {exc}") from exc

    def preview_plan(self, goals: list[str], init: dict[str, list[Any]]) -> ExecutionPlan:
        """API-20: a preview plan (PLAN-12)."""
        if not goals:
            raise BadRequestError("At least one goal step ID is required")
        return self._plan(goals, init, preview=True)

    async def start_flow(self, req: FlowStartRequest) -> str:
        """API-21 / FLOW-1..9: returns the sanitized flow ID once durable."""
        flow_id, _ = await self.start_flow_request(req)
        return flow_id

    async def start_flow_request(self, req: FlowStartRequest) -> tuple[str, bool]:
        """API-21 / FLOW-1..9: (sanitized flow ID, True if newly started) once durable."""
        flow_id = check_start_request(req, self.config.limits)
        plan = self._plan(req.goals, req.init, preview=False)
        missing = [n for n in plan.required if not req.init.get(n)]
        if missing:
            raise BadRequestError(f"required inputs not provided: [{' '.join(missing)}]")
        check_init_types(req.init, self.catalog.graph.declared_types)  # FLOW-2 (revised)
        started = await self.start_planned(flow_id, plan, req.init, labels=req.labels)
        return flow_id, started

    async def existing_start(self, flow_id: str) -> ev.FlowStarted | None:
        """The ``flow_started`` payload of an existing flow, if any."""
        state = await self.runner.state(flow_id)
        if state is None:
            return None
        first = await self.store.read(("flow", flow_id))
        payload = decode_payload(first[0])
        assert isinstance(payload, ev.FlowStarted)
        return payload

    async def start_planned(
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
        cached = await self.runner.cached_state(flow_id)
        if cached is None:
            # Optimistic: a new flow's first append expects sequence 0, so an
            # existing flow shows up as a conflict without a read per start.
            tx = self._decide_start(flow_id, plan, init, labels, metadata)
            try:
                await self.runner.create(flow_id, tx)
                return True
            except ConcurrencyError:
                pass
        existing = await self.existing_start(flow_id)
        if existing is not None and same_start(existing, plan.goals, init):
            return False
        raise ConflictError(f"flow exists with different plan or init: {flow_id}")

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
            return decide.start(
                self.runner.env(), flow_id, plan, init, labels=labels, metadata=metadata
            )
        except TooManyWorkItems as exc:  # FLOW-9: a request problem, not an engine fault
            log.warning("flow %s not started: %s", flow_id, exc)
            raise InternalError(f"failed to start flow: {exc}") from exc
        except Exception as exc:
            log.exception("failed to start flow %s", flow_id)
            raise InternalError(f"failed to start flow: {exc}") from exc

    async def get_flow(self, flow_id: str) -> FlowState:
        """API-24."""
        state = await self.runner.state(flow_id)
        if state is None:
            raise NotFoundError(f"flow not found: {flow_id}")
        return state

    async def flow_status(self, flow_id: str) -> dict[str, str]:
        """API-25: the indexed status (TERM-8)."""
        entry = await self.store.flow_entry(flow_id)
        if entry is None:
            raise NotFoundError(f"flow not found: {flow_id}")
        return {"id": flow_id, "status": entry.status}

    async def flow_events(self, flow_id: str) -> dict[str, Any]:
        """API-26."""
        events = await self.store.read(("flow", flow_id))
        if not events:
            raise NotFoundError(f"flow not found: {flow_id}")
        return rest_events(events)

    async def list_flows(self) -> list[Any]:
        """API-22: active first, then terminal; most recent first; ties by ID."""
        entries, _ = await self.store.query_flows(FlowIndexQuery(descending=True))
        return list(summaries(entries))

    async def query_flows(self, body: FlowQuery) -> Any:
        """API-23."""
        query = index_query(body, self.config.limits)
        page = dataclasses.replace(query, limit=query.limit + 1) if query.limit else query
        entries, total = await self.store.query_flows(page)
        return query_response(entries, total, query.limit)

    # invocation ------------------------------------------------------------

    async def invoke(
        self, state: FlowState, step: Step, effect: InvokeWork
    ) -> decide.Outcome | None:
        """Run one work item by step type (TYPE-1); ``None`` when the result comes later."""
        if step.type == "script" and step.script is not None:
            names = step_arg_names(step)
            args = {n: effect.args.get(n) for n in names}
            try:
                outputs = await self.scripts.run(
                    step.script.language, step.script.script, names, args, output_inner_names(step)
                )
            except ScriptError as exc:
                return decide.Outcome("permanent", error=exc.message)  # SCRIPT-5
            return decide.Outcome("success", outputs)
        if step.type in ("sync", "async"):
            result = await self.http.invoke(step, effect.args, effect.metadata)
            if step.type == "async" and result.kind == "success":
                return None  # ASYNC-2: the webhook completes it
            return decide.Outcome(result.kind, result.outputs, result.error)
        if step.type == "flow":
            return await self.subflows.start_child(state, step, effect)
        return decide.Outcome("permanent", error=f"invalid step type: {step.type}")
