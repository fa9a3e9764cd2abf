"""Prometheus metrics at ``GET /metrics``, derived from the event bus at the edge.

Flow, step, work and compensation counts and durations come from the
committed events the engine publishes on its bus (``argyll.engine.bus``), so
nothing in the flow core knows about metrics. Script run time and store
append latency are measured by wrapping ``engine.scripts.run`` and
``engine.store.append`` on the instance; request counts and webhook
results come from the access-log middleware; WebSocket connections and step
health are read at scrape time.

Label values are bounded: step IDs (at most ``MAX_STEP_LABELS`` distinct
values, then ``"other"``), outcomes, methods and status codes; never flow IDs
or tokens. Each engine gets its own registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from argyll.engine.engine import Engine
    from argyll.engine.store.base import StoredEvent

__all__ = ["MAX_STEP_LABELS", "Metrics", "metrics_routes"]

# No "_created" series: they double the output and say little.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: Distinct step IDs used as label values; later ones are counted as "other".
MAX_STEP_LABELS = 1000

_DURATIONS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_HEALTH = ("healthy", "unhealthy", "unknown")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "WS"})

_STEP_OUTCOMES = {
    "step_completed": "completed",
    "step_failed": "failed",
    "step_skipped": "skipped",
}
_WORK_OUTCOMES = {
    "work_succeeded": "succeeded",
    "work_failed": "failed",
    "work_not_completed": "not_completed",
    "work_skipped": "skipped",
}
_COMP_OUTCOMES = {
    "comp_started": "started",
    "comp_succeeded": "succeeded",
    "comp_failed": "failed",
    "comp_retry_scheduled": "retried",
}
_STEP_EVENTS = frozenset(
    {
        *_STEP_OUTCOMES,
        *_WORK_OUTCOMES,
        *_COMP_OUTCOMES,
        "step_started",
        "work_started",
        "work_retry_scheduled",
        "dispatch_deferred",
    }
)


class _StepRef(msgspec.Struct):
    """The few payload fields metrics need (other fields are skipped unread)."""

    step_id: str = ""
    duration: int = 0
    cached: bool = False


_decode_ref = msgspec.json.Decoder(_StepRef).decode


class _ScrapeTime(Collector):
    """Values read when scraped: step health, WebSocket clients, store commits."""

    def __init__(self, engine: Engine, websocket_clients: Callable[[], int]) -> None:
        self.engine = engine
        self.websocket_clients = websocket_clients

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = self.engine
        health = GaugeMetricFamily(
            "argyll_step_health",
            "1 for the step's current health status (merged over nodes), else 0",
            labels=["step_id", "status"],
        )
        for step_id in sorted(engine.catalog.steps)[:MAX_STEP_LABELS]:
            state = engine.health.resolved(step_id)
            current = state.status if state is not None else "unknown"
            for status in _HEALTH:
                health.add_metric([step_id, status], 1.0 if status == current else 0.0)
        yield health
        yield GaugeMetricFamily(
            "argyll_websocket_connections",
            "Open WebSocket connections",
            value=self.websocket_clients(),
        )
        commits = engine.store_status().get("transactions")
        if isinstance(commits, int):
            yield GaugeMetricFamily(
                "argyll_store_commits", "Store transactions committed since start", value=commits
            )


class Metrics:
    """The engine's metrics registry, fed by the bus, wrappers and the access log."""

    def __init__(self, engine: Engine, websocket_clients: Callable[[], int] = lambda: 0) -> None:
        self.engine = engine
        self.registry = CollectorRegistry()
        r = self.registry
        self._steps_seen: set[str] = set()
        # Labelled children by (metric, label values): prometheus_client's
        # labels() validates and locks on every call, which showed in profiles.
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._started: dict[str, datetime] = {}
        self._active: set[str] = set()
        self.flows_started = Counter("argyll_flows_started", "Flows started", registry=r)
        self.flows_completed = Counter("argyll_flows_completed", "Flows completed", registry=r)
        self.flows_failed = Counter("argyll_flows_failed", "Flows failed", registry=r)
        self.flows_active = Gauge("argyll_flows_active", "Active flows", registry=r)
        self.flows_active.set_function(lambda: len(self._active))
        self.flow_seconds = Histogram(
            "argyll_flow_duration_seconds",
            "Flow start to completion or failure",
            ["status"],
            buckets=_DURATIONS,
            registry=r,
        )
        self.steps_started = Counter(
            "argyll_steps_started", "Steps started", ["step_id"], registry=r
        )
        self.steps = Counter(
            "argyll_steps", "Finished steps by outcome", ["step_id", "outcome"], registry=r
        )
        self.step_seconds = Histogram(
            "argyll_step_duration_seconds",
            "Step start to completion",
            ["step_id"],
            buckets=_DURATIONS,
            registry=r,
        )
        self.work_started = Counter(
            "argyll_work_started", "Work item invocations started", ["step_id"], registry=r
        )
        self.work = Counter(
            "argyll_work_items",
            "Work item results by outcome (succeeded, cached, failed, not_completed, skipped)",
            ["step_id", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "argyll_work_retries", "Work item retries scheduled", ["step_id"], registry=r
        )
        self.deferred = Counter(
            "argyll_dispatch_deferred",
            "Dispatches deferred because the step was unhealthy",
            ["step_id"],
            registry=r,
        )
        self.compensations = Counter(
            "argyll_compensations",
            "Compensation events by outcome (started, succeeded, failed, retried)",
            ["step_id", "outcome"],
            registry=r,
        )
        self.script_seconds = Histogram(
            "argyll_script_duration_seconds",
            "Step script run time",
            ["language"],
            buckets=_FAST,
            registry=r,
        )
        self.webhooks = Counter(
            "argyll_webhooks", "Webhook results (accepted, rejected)", ["result"], registry=r
        )
        self.append_seconds = Histogram(
            "argyll_store_append_duration_seconds",
            "Time from an append call to its durable commit (group commit included)",
            buckets=_FAST,
            registry=r,
        )
        self.append_events = Histogram(
            "argyll_store_append_events",
            "Events per append call",
            buckets=_SIZES,
            registry=r,
        )
        self.requests = Counter(
            "argyll_http_requests",
            "HTTP requests by method and status",
            ["method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "argyll_http_request_duration_seconds",
            "HTTP request handling time",
            ["method"],
            buckets=_FAST,
            registry=r,
        )
        r.register(_ScrapeTime(engine, websocket_clients))

    # wiring ----------------------------------------------------------------

    def install(self) -> Callable[[], None]:
        """Subscribe to the bus and wrap the store and scripts; returns the undo."""
        engine = self.engine
        unsubscribe = engine.bus.subscribe(self.on_events)
        store, scripts = engine.store, engine.scripts
        append = store.append
        run = scripts.run

        async def timed_append(batch: Any) -> Any:
            start = time.perf_counter()
            try:
                return await append(batch)
            finally:
                self.append_seconds.observe(time.perf_counter() - start)
                self.append_events.observe(len(batch.events))

        async def timed_run(language: str, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await run(language, *args, **kwargs)
            finally:
                self._child(self.script_seconds, language).observe(time.perf_counter() - start)

        setattr(store, "append", timed_append)  # noqa: B010 - instance wrapper
        setattr(scripts, "run", timed_run)  # noqa: B010

        def undo() -> None:
            unsubscribe()
            vars(store).pop("append", None)
            vars(scripts).pop("run", None)

        return undo

    async def seed(self) -> None:
        """Count the flows already active (recovered at start-up)."""
        self._active.update(await self.engine.store.active_flow_ids())

    def _child(self, metric: Counter | Histogram, *values: str) -> Any:
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def _bounded(self, step_id: str) -> str:
        if step_id in self._steps_seen:
            return step_id
        if len(self._steps_seen) >= MAX_STEP_LABELS:
            return "other"
        self._steps_seen.add(step_id)
        return step_id

    # feeds -------------------------------------------------------------------

    def on_events(self, events: list[StoredEvent]) -> None:
        """A committed batch from the bus."""
        for event in events:
            agg = event.aggregate_id
            if len(agg) != 2 or agg[0] != "flow":
                continue
            kind = event.type
            if kind in _STEP_EVENTS:
                self._on_step_event(kind, _decode_ref(event.data))
            elif kind == "flow_started":
                self.flows_started.inc()
                self._started[agg[1]] = event.timestamp
                self._active.add(agg[1])
            elif kind in ("flow_completed", "flow_failed"):
                status = "completed" if kind == "flow_completed" else "failed"
                (self.flows_completed if status == "completed" else self.flows_failed).inc()
                began = self._started.pop(agg[1], None)
                if began is not None:
                    seconds = (event.timestamp - began).total_seconds()
                    self._child(self.flow_seconds, status).observe(max(seconds, 0.0))
            elif kind == "flow_deactivated":
                self._active.discard(agg[1])
                self._started.pop(agg[1], None)

    def _on_step_event(self, kind: str, ref: _StepRef) -> None:
        step = self._bounded(ref.step_id)
        if kind == "step_started":
            self._child(self.steps_started, step).inc()
        elif kind == "work_started":
            self._child(self.work_started, step).inc()
        elif kind == "work_retry_scheduled":
            self._child(self.retries, step).inc()
        elif kind == "dispatch_deferred":
            self._child(self.deferred, step).inc()
        elif kind in _STEP_OUTCOMES:
            self._child(self.steps, step, _STEP_OUTCOMES[kind]).inc()
            if kind == "step_completed":
                self._child(self.step_seconds, step).observe(ref.duration / 1000)
        elif kind in _WORK_OUTCOMES:
            outcome = "cached" if ref.cached else _WORK_OUTCOMES[kind]
            self._child(self.work, step, outcome).inc()
        elif kind in _COMP_OUTCOMES:
            self._child(self.compensations, step, _COMP_OUTCOMES[kind]).inc()

    def on_request(self, method: str, path: str, status: int, seconds: float) -> None:
        """An answered request (from the access-log middleware)."""
        method = method if method in _METHODS else "other"  # clients choose methods
        self._child(self.requests, method, str(status)).inc()
        self._child(self.request_seconds, method).observe(seconds)
        if method == "POST" and path.startswith("/webhook/"):
            self._child(self.webhooks, "accepted" if 200 <= status < 300 else "rejected").inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


def metrics_routes(metrics: Metrics) -> list[Route]:
    """``GET /metrics``."""

    async def scrape(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"])]
