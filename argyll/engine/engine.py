"""The composition root and facade: wires the parts and offers the engine's use cases.

It owns no business rules: validation lives in argyll.model, planning in
engine/plan, flow decisions in engine/flow, invocation in engine/execute.
Here we build the parts, load state at start-up (REC-2), serialize catalog
writes (CAT-8) and translate requests into decisions. It knows nothing of
HTTP: ``server/`` owns the application, every route and the WebSocket hub,
and talks only to this facade.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any, cast

import msgspec

from argyll.engine.bus import EventBus, StoredEvent, Subscriber
from argyll.engine.catalog import Catalog
from argyll.engine.cluster import ClusterStore, Membership, Tail
from argyll.engine.config import Config
from argyll.engine.eventlog import rest_events
from argyll.engine.execute.bounds import ResultBounds
from argyll.engine.execute.egress import EgressPolicy
from argyll.engine.execute.executor import Executor
from argyll.engine.execute.forward import FORWARDED_HEADER, Forwarder
from argyll.engine.execute.memo import MemoCache
from argyll.engine.execute.runner import FlowRunner, RunnerSettings
from argyll.engine.execute.subflow import Subflows
from argyll.engine.execute.webhook import webhook_decision
from argyll.engine.flows import (
    FlowPage,
    check_init_types,
    check_start_request,
    encode_cursor,
    index_query,
    query_response,
    summaries,
)
from argyll.engine.plan import build_plan
from argyll.engine.plan.cache import PlanCache
from argyll.engine.repository import Projection, Repository, flow_aggregate
from argyll.engine.scheduler import Clock, Scheduler, SystemClock
from argyll.engine.store.base import AggregateId, EventStore, FlowIndexQuery, IndexCursor
from argyll.errors import (
    BadRequestError,
    InternalError,
    InvalidStepError,
    NotFoundError,
    ScriptCompileError,
    ScriptError,
)
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.ids import sanitize_id
from argyll.model.plan import ExecutionPlan
from argyll.model.requests import FlowQuery, FlowStartRequest
from argyll.model.step import Step

__all__ = ["FORWARDED_HEADER", "Engine", "Snapshot"]

log = logging.getLogger("argyll.engine")

_CATALOG: AggregateId = ("catalog",)
_CLUSTER: AggregateId = ("cluster",)

#: A subscriber's starting point: the aggregate's state and its next sequence.
Snapshot = tuple[Any, int]


class Engine:
    """One engine process: its parts, wired, and the use cases they serve.

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
        from argyll.engine.execute.webhook_auth import WebhookSigner
        from argyll.engine.health_monitor import HealthMonitor
        from argyll.engine.scripts import ScriptLimits, Scripts
        from argyll.engine.store import open_store

        self.config = config
        self.store: EventStore = store if store is not None else open_store(config)
        self.clock: Clock = clock or SystemClock()
        self.bus = EventBus()
        self.repository = Repository(self.store, self.bus, config.timebox_cache_size)
        self.scripts = Scripts(
            dataclasses.replace(
                ScriptLimits.from_env(), max_result_bytes=config.guards.result_bytes
            )
        )
        self.scheduler = Scheduler(self.clock)
        self.memo = MemoCache(config.memo_cache_size)
        self.egress = EgressPolicy(
            config.guards.step_allowed_hosts,
            config.guards.step_denied_hosts,
            engine_host=config.host,
            engine_port=config.port,
        )
        self.http = HTTPInvoker(
            default_timeout_ms=config.step_timeout_ms,
            max_body=config.guards.result_bytes,
            max_depth=config.guards.max_depth,
            policy=self.egress,
        )
        self.bounds = ResultBounds.of(config.guards)
        self.webhooks = WebhookSigner()
        self.catalog = Catalog(config.retry)
        self.plans = PlanCache()
        self.health = HealthMonitor(
            self.repository,
            self.catalog,
            self.http,
            self.scripts,
            self.compile_check,
            self.clock,
            node_id=config.node_id,
            interval=config.health_interval_ms / 1000,
        )
        self.runner = FlowRunner(
            self.repository,
            self.scheduler,
            self.clock,
            RunnerSettings(
                retry=config.retry,
                webhook_base_url=config.webhook_base_url,
                max_work_items=config.limits.work_items,
                webhook_url=self.webhooks.url,
                token_key=secrets.token_bytes(32),
            ),
            scripts=self.scripts,
            memo=self.memo,
            unhealthy=self.health.unhealthy,
            on_deferred=self.health.deferred,
        )
        self.runner.effects = Executor(
            self.scripts, self.http, Subflows(self.runner), bounds=self.bounds
        )
        self._catalog_lock = asyncio.Lock()
        self.tail: Tail | None = None
        self.membership: Membership | None = None
        self.forwarder: Forwarder | None = None
        if getattr(self.store, "shared", False):  # a cluster node (cluster.py)
            shared = cast(ClusterStore, self.store)
            projections: dict[AggregateId, Projection] = {
                _CATALOG: self.catalog,
                _CLUSTER: self.health.cluster,
            }
            self.tail = Tail(shared, self.repository, self.bus, projections)
            # The tail publishes every commit, this node's too, in the store's
            # order; the store's commit signal wakes it.
            self.repository.on_commit = _publish_nothing
            self.membership = Membership(
                shared, config.node_address, config.cluster_lease_ms / 1000, self._take_over
            )
            self.forwarder = Forwarder(config.node_id)

    @property
    def role(self) -> str:
        """This node's role (API-1 ``X-Argyll-Raft-State``): a single node leads; in a
        cluster, the longest-running live node leads and the others follow."""
        return "leader" if self.membership is None else self.membership.role

    def work_in_flight(self) -> int:
        """Invocations and compensations running now (back-pressure, MAX_WORK_IN_FLIGHT)."""
        return self.runner.in_flight

    # lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Open the store, replay the catalog and recover active flows (REC-2)."""
        await self.store.open()
        await self.webhooks.load(self.store)  # ASYNC-1: before recovery re-invokes items
        if self.tail is not None:
            await self.tail.mark()  # what others commit from here on is tailed
        await self.repository.replay(_CATALOG, self.catalog)
        await self.health.load()  # REC-2: health gates dispatch during recovery
        if self.membership is not None:
            active = await self.membership.join()  # own flows and orphans only
        else:
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
        if self.tail is not None and self.membership is not None:
            self.tail.start()
            self.membership.start()

    async def _take_over(self, flow_id: str) -> None:
        """A dead node's flow is now this node's: drive it from its events (REC-3)."""
        self.repository.forget_flow(flow_id)
        await self.runner.recover(flow_id)

    async def stop(self) -> None:
        """Stop timers and background work, then close the store (idempotent)."""
        if self.membership is not None:
            await self.membership.stop()  # survivors take this node's flows at once
        await self.health.stop()
        await self.scheduler.close()
        await self.runner.close()
        if self.tail is not None:
            await self.tail.stop()
        if self.forwarder is not None:
            await self.forwarder.close()
        await self.http.close()
        self.scripts.close()
        await self.store.close()

    # subscriptions ---------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive every committed batch of events, in commit order; returns the remover."""
        return self.bus.subscribe(subscriber)

    async def snapshot(self, aggregate: AggregateId) -> Snapshot | None:
        """A subscriber's starting point for ``aggregate`` (WS-4).

        Catalog and cluster are read without awaiting, so no commit can fall
        between the state and its sequence. A flow is folded from committed
        events only; ``None`` when it does not exist. Other aggregates have
        no state: ``(None, 0)``.
        """
        if aggregate == _CATALOG:
            return self.catalog_state(), self.catalog.next_sequence
        if aggregate == _CLUSTER:
            return self.health.cluster_state(), self.health.cluster.next_sequence
        if len(aggregate) == 2 and aggregate[0] == "flow":
            entry = await self.repository.committed_flow(aggregate[1])
            return None if entry is None else (entry.state, entry.next_sequence)
        return None, 0

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

    # catalog -------------------------------------------------------------

    async def _catalog_write(self, decide: Callable[[], ev.Payload | None]) -> None:
        """Decide against the catalog and commit, one write at a time (CAT-8)."""

        def events() -> list[ev.Payload]:
            payload = decide()
            return [] if payload is None else [payload]

        async with self._catalog_lock:
            written = await self.repository.decide_and_commit(
                _CATALOG, self.catalog, events, self.clock.now
            )
            for payload in written:
                await self._reset_health(payload)

    async def register_step(self, step: Step) -> Step:
        """API-12 / CAT-2: returns the submitted step with its sanitized ID."""
        step = msgspec.structs.replace(step, id=sanitize_id(step.id))
        self._check_egress(step)
        await self._catalog_write(lambda: self.catalog.decide_register(step, self.compile_check))
        return step

    async def update_step(self, path_id: str, step: Step) -> Step:
        """API-13 / CAT-3."""
        step = msgspec.structs.replace(step, id=sanitize_id(step.id))
        if sanitize_id(path_id) != step.id:
            raise BadRequestError("Step ID in URL does not match step ID in body")
        self._check_egress(step)
        await self._catalog_write(lambda: self.catalog.decide_update(step, self.compile_check))
        return step

    def _check_egress(self, step: Step) -> None:
        """STEP_ALLOWED_HOSTS / STEP_DENIED_HOSTS at registration (literal hosts)."""
        reason = self.egress.check_step(step.http)
        if reason:
            raise InvalidStepError(reason)

    async def _reset_health(self, payload: ev.Payload) -> None:
        """CAT-5 / HEALTH-3: reset the local health of a registered or updated step."""
        if isinstance(payload, ev.StepRegistered | ev.StepUpdated):
            try:
                await self.health.reset(payload.step)
            except Exception:
                log.exception("resetting health of step %s failed", payload.step.id)

    async def unregister_step(self, step_id: str) -> None:
        """API-14 / CAT-4."""
        await self._catalog_write(lambda: self.catalog.decide_unregister(step_id))

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
        return rest_events(await self.repository.read(_CATALOG))

    def engine_state(self) -> dict[str, Any]:
        """API-2: catalog plus per-node health with every step filled in."""
        state = self.catalog.to_wire()
        cluster = self.health.cluster
        state["last_updated"] = max(self.catalog.last_updated, cluster.last_updated)
        state["health"] = cluster.nodes_wire(self.catalog.steps)
        return state

    def store_status(self) -> dict[str, object]:
        """Informational store status (API-1 ``details.backend``)."""
        return self.store.status()

    def cluster_state(self, filled: bool = False) -> dict[str, Any]:
        """API-5 (``filled=False``) or API-15 (every catalog step per node).

        A cluster node adds ``members``: every node the store knows, with its
        address, start and last heartbeat times and whether it is alive.
        """
        state = self.health.cluster_state(filled)
        if self.membership is not None:
            state["members"] = [
                {
                    "node_id": n.node_id,
                    "address": n.address,
                    "started": n.started,
                    "heartbeat": n.heartbeat,
                    "alive": n.alive,
                }
                for n in self.membership.nodes
            ]
        return state

    async def cluster_events(self) -> dict[str, Any]:
        """API-6."""
        return await self.health.events()

    def resolved_health(self, step_id: str) -> Any:
        """API-16: a catalog step's health merged over nodes and resolved.

        Raises:
            NotFoundError: no such step.
        """
        resolved = self.health.resolved(step_id)
        if resolved is None:
            raise NotFoundError(f"Health not found for step: {step_id}")
        return resolved

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

    async def start_flow_request(self, req: FlowStartRequest) -> tuple[str, bool]:
        """API-21 / FLOW-1..9: (sanitized flow ID, True if newly started) once durable."""
        flow_id = check_start_request(req, self.config.limits)
        plan = self._plan(req.goals, req.init, preview=False)
        missing = [n for n in plan.required if not req.init.get(n)]
        if missing:
            raise BadRequestError(f"required inputs not provided: [{' '.join(missing)}]")
        check_init_types(req.init, self.catalog.graph.declared_types)  # FLOW-2 (revised)
        started = await self.runner.start(flow_id, plan, req.init, labels=req.labels)
        return flow_id, started

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
        events = await self.repository.read(flow_aggregate(flow_id))
        if not events:
            raise NotFoundError(f"flow not found: {flow_id}")
        return rest_events(events)

    async def list_flows(self, limit: int = 0, after: IndexCursor | None = None) -> FlowPage:
        """API-22: active first, then terminal; most recent first; ties by ID.

        With ``limit`` > 0, at most that many summaries and the cursor of the
        next page (empty when none remain).
        """
        query = FlowIndexQuery(descending=True, limit=limit + 1 if limit else 0, after=after)
        entries, _ = await self.store.query_flows(query)
        more = limit > 0 and len(entries) > limit
        page = entries[:limit] if more else entries
        return FlowPage(summaries(page), encode_cursor(page[-1]) if more else "")

    async def query_flows(self, body: FlowQuery) -> Any:
        """API-23."""
        query = index_query(body, self.config.limits)
        page = dataclasses.replace(query, limit=query.limit + 1) if query.limit else query
        entries, total = await self.store.query_flows(page)
        return query_response(entries, total, query.limit)

    # results ---------------------------------------------------------------

    async def record_webhook(
        self,
        flow_id: str,
        step_id: str,
        token: str,
        content_type: str,
        body: bytes,
        *,
        path: str = "",
        forwarded: bool = False,
        sig: str = "",
    ) -> None:
        """API-40: record an async work item's result delivered by webhook.

        In a cluster, a result for a flow another live node drives is
        forwarded to that node (``path`` is the request's path and query); a
        flow whose driver is gone is taken over first.

        Raises:
            BadRequestError: unknown flow, step execution or token, or an
                invalid body (ASYNC-4, ASYNC-5).
            EngineError: the owner node refused the result, or (503) could
                not be reached and is not yet known to be gone.
        """
        if self.membership is not None and self.forwarder is not None and not forwarded:
            forwarder = self.forwarder

            async def send(address: str) -> None:
                await forwarder.webhook(address, path, content_type, body)

            if await self.membership.route(flow_id, send):
                return
        decision = webhook_decision(
            step_id,
            token,
            content_type,
            body,
            authorized=lambda: self.webhooks.verify(flow_id, step_id, token, sig),
            bound=self.bounds.apply,
        )
        if await self.runner.write(flow_id, decision) is None:
            raise BadRequestError("Flow not found")


def _publish_nothing(_: list[StoredEvent]) -> None:
    """A cluster node's commits are published by its ``Tail``, in the store's order."""
