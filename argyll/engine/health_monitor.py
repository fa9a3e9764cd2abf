"""Step health on this node: records, resets, dispatch gating and the periodic checker.

The rules are in ``health`` (pure); this module performs them. Health records
are ``step_health_changed`` events in the ``["cluster"]`` aggregate, written
only when something changed (HEALTH-2) and replayed at start-up before any
flow is recovered, because they gate dispatch (REC-2, HEALTH-6).

The checker (HEALTH-4) runs once at start-up and then every
``HEALTH_CHECK_INTERVAL`` milliseconds (default 30,000): script steps get a
compile check, each HTTP step with a ``health_check`` URL gets a ``GET``
with a 3 s timeout on the engine's shared HTTP pool, the probes spread
evenly over the interval, and flow steps are re-derived (HEALTH-5) whenever
a record changed.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final

from argyll.engine.background import Background
from argyll.engine.catalog import Catalog
from argyll.engine.config import int_setting
from argyll.engine.eventlog import rest_events
from argyll.engine.health import (
    ClusterState,
    HealthResolver,
    HealthState,
    default_health,
    merge_nodes,
)
from argyll.engine.plan import build_plan
from argyll.engine.repository import Repository
from argyll.engine.scheduler import Clock
from argyll.model import events as ev
from argyll.model.plan import ExecutionPlan
from argyll.model.step import Step, step_arg_names
from argyll.model.validate import CompileCheck

if TYPE_CHECKING:
    from argyll.engine.execute.http import HTTPInvoker
    from argyll.engine.flow.tx import ScriptEvaluator

__all__ = [
    "DEFAULT_INTERVAL_MS",
    "PROBE_TIMEOUT_S",
    "HealthMonitor",
    "interval_from_env",
    "probe_offsets",
]

log = logging.getLogger("argyll.health")

#: HEALTH-4 / CFG-3: the checker's period and the probe timeout.
DEFAULT_INTERVAL_MS: Final = 30_000
PROBE_TIMEOUT_S: Final = 3.0
_MAX_INTERVAL_MS: Final = 86_400_000
_CLUSTER: Final = ("cluster",)


def interval_from_env(env: Mapping[str, str] | None = None) -> float:
    """``HEALTH_CHECK_INTERVAL`` (ms, default 30000) in seconds, validated as CFG-1.

    Raises:
        ConfigError: not an integer in ``[1, 86400000]``.
    """
    env = os.environ if env is None else env
    return int_setting(env, "HEALTH_CHECK_INTERVAL", DEFAULT_INTERVAL_MS, _MAX_INTERVAL_MS) / 1000


def probe_offsets(count: int, interval: float) -> list[float]:
    """When each of ``count`` probes starts within one interval: evenly spread (HEALTH-4)."""
    if count <= 0:
        return []
    return [i * interval / count for i in range(count)]


class HealthMonitor:
    """The local node's health records and the periodic checker.

    Args:
        repository: Where cluster events are read and committed.
        catalog: The step catalog (read only).
        http: The shared outbound HTTP pool (probes).
        scripts: Match evaluation for flow-step plans (HEALTH-5).
        compile_check: The VAL-1 compile check (script steps' health).
        clock: The engine clock.
        node_id: This node's ID.
        interval: Checker period in seconds.
    """

    def __init__(
        self,
        repository: Repository,
        catalog: Catalog,
        http: HTTPInvoker,
        scripts: ScriptEvaluator,
        compile_check: CompileCheck,
        clock: Clock,
        *,
        node_id: str,
        interval: float,
    ) -> None:
        self.repository = repository
        self.catalog = catalog
        self.http = http
        self.scripts = scripts
        self.compile_check = compile_check
        self.clock = clock
        self.node_id = node_id
        self.cluster = ClusterState([self.node_id])
        self.interval = interval
        self._local = self.cluster.nodes[self.node_id].health
        self._unhealthy: Mapping[str, str] = {}
        self._lock = asyncio.Lock()
        self._checker = Background(self._run)
        self._probes: set[asyncio.Task[None]] = set()
        self._reprobing: set[str] = set()

    # records ---------------------------------------------------------------

    async def load(self) -> None:
        """Replay the cluster aggregate (REC-1); call before recovering flows (REC-2)."""
        await self.repository.replay(_CLUSTER, self.cluster)
        self._refresh_unhealthy()

    def _refresh_unhealthy(self) -> None:
        # A new mapping per change: decisions hold a snapshot that never moves.
        self._unhealthy = {
            sid: h.error for sid, h in self._local.items() if h.status == "unhealthy"
        }

    def unhealthy(self) -> Mapping[str, str]:
        """HEALTH-6: the steps whose local record is ``unhealthy``, with their errors."""
        return self._unhealthy

    def deferred(self, step_id: str) -> None:
        """A flow is holding work back for ``step_id``: re-probe it soon (HEALTH-6)."""
        if step_id in self._unhealthy:
            self._kick_reprobe(step_id)

    def dispatchable(self, step_id: str) -> bool:
        """HEALTH-6: work may be dispatched unless the local record is ``unhealthy``.

        A gated HTTP step with a health check gets a quick re-probe
        (:meth:`_reprobe`) rather than waiting for the next round.
        """
        health = self._local.get(step_id)
        if health is None or health.status != "unhealthy":
            return True
        self._kick_reprobe(step_id)
        return False

    async def record(self, updates: Mapping[str, HealthState]) -> bool:
        """Record local health for several steps in one commit; True if anything changed.

        Only changes raise events (HEALTH-2). The projection changes after
        the commit and the events are published on the bus right away. In a
        cluster, another node's health commit in between means catching up
        and comparing again.
        """
        async with self._lock:

            def changes() -> list[ev.Payload]:
                return [
                    p
                    for sid, h in updates.items()
                    if (p := self.cluster.change(self.node_id, sid, h)) is not None
                ]

            written = await self.repository.decide_and_commit(
                _CLUSTER, self.cluster, changes, self.clock.now
            )
            if not written:
                return False
            self._refresh_unhealthy()
            return True

    async def reset(self, step: Step) -> None:
        """HEALTH-3 / CAT-5: the health of a step just registered or updated.

        An HTTP step with a health check is probed at once (HEALTH-6), in
        the background so the registration does not wait for it.
        """
        await self.record({step.id: default_health(step, self._compile_error)})
        if _has_probe(step) and self._checker.running:
            self._spawn(self._probe(step))

    # views -----------------------------------------------------------------

    def _compile_error(self, step: Step) -> str | None:
        assert step.script is not None
        script = step.script
        return self.compile_check(script.language, script.script, step_arg_names(step), "script")

    def _plan_goals(self, goals: list[str]) -> ExecutionPlan:
        return build_plan(self.catalog.graph, goals, {}, preview=False, match=self.scripts.match)

    def resolver(self, base: Mapping[str, HealthState] | None = None) -> HealthResolver:
        """A HEALTH-5 resolver over the current catalog (default base: local records)."""
        return HealthResolver(
            self.catalog.steps,
            self._local if base is None else base,
            self._plan_goals,
            self._compile_error,
        )

    def resolved(self, step_id: str) -> HealthState | None:
        """API-16: merged over nodes and resolved; ``None`` if not in the catalog."""
        if step_id not in self.catalog.steps:
            return None
        return self.resolver(merge_nodes(self.cluster.nodes)).resolve(step_id)

    def cluster_state(self, filled: bool = False) -> dict[str, Any]:
        """API-5 (``filled=False``) or API-15 (every catalog step per node)."""
        return self.cluster.to_wire(self.catalog.steps if filled else ())

    async def events(self) -> dict[str, Any]:
        """API-6: every cluster event."""
        return rest_events(await self.repository.read(_CLUSTER))

    # checker ---------------------------------------------------------------

    def start(self) -> None:
        """Start the periodic checker (after recovery, REC-2); idempotent."""
        self._checker.start()

    async def stop(self) -> None:
        """Stop the checker and the quick probes, and wait for them; idempotent."""
        probes, self._probes = self._probes, set()
        self._reprobing.clear()
        for t in probes:
            t.cancel()
        await self._checker.stop()
        await asyncio.gather(*probes, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    def _kick_reprobe(self, step_id: str) -> None:
        if not self._checker.running or step_id in self._reprobing:
            return
        step = self.catalog.steps.get(step_id)
        if step is None or not _has_probe(step):
            return
        self._reprobing.add(step_id)
        self._spawn(self._reprobe(step))

    async def _reprobe(self, step: Step) -> None:
        """HEALTH-6: re-probe a gated step after 1 s, doubling up to the interval."""
        delay = 1.0
        try:
            while not self.dispatchable_now(step.id):
                await asyncio.sleep(min(delay, self.interval))
                if self.catalog.steps.get(step.id) is not step:
                    return
                await self._probe(step)
                delay *= 2
        finally:
            self._reprobing.discard(step.id)

    def dispatchable_now(self, step_id: str) -> bool:
        """Like :meth:`dispatchable`, without scheduling a re-probe."""
        health = self._local.get(step_id)
        return health is None or health.status != "unhealthy"

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.check_once(started)
            except Exception:
                log.exception("health check round failed")
            await asyncio.sleep(max(0.0, started + self.interval - loop.time()))

    async def check_once(self, started: float | None = None) -> None:
        """One HEALTH-4 round: scripts, flow steps, then the HTTP probes spread over the interval.

        Args:
            started: Loop time the round's schedule counts from (default: now).
        """
        loop = asyncio.get_running_loop()
        started = loop.time() if started is None else started
        steps = list(self.catalog.steps.values())
        scripts = {
            s.id: default_health(s, self._compile_error) for s in steps if s.type == "script"
        }
        await self.record(scripts)
        await self._update_flow_steps()
        probed = [s for s in steps if _has_probe(s)]
        probes: list[asyncio.Task[None]] = []
        try:
            for step, offset in zip(probed, probe_offsets(len(probed), self.interval), strict=True):
                delay = started + offset - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                # Each probe is its own task, so slow probes (up to 3 s) never
                # push the later ones off their slots.
                probes.append(loop.create_task(self._probe(step)))
            await asyncio.gather(*probes)
        finally:
            for task in probes:
                task.cancel()

    async def _probe(self, step: Step) -> None:
        assert step.http is not None
        try:
            status, error = await self.http.probe(step.http.health_check, PROBE_TIMEOUT_S)
            if self.catalog.steps.get(step.id) is not step:
                return  # updated or unregistered meanwhile: this result is stale
            if await self.record({step.id: HealthState(status, error)}):
                await self._update_flow_steps()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("health probe of step %s failed", step.id)

    async def _update_flow_steps(self) -> None:
        """Re-derive and record every flow step's health (HEALTH-4, HEALTH-5)."""
        derived = self.resolver().flow_steps()
        if derived:
            await self.record(derived)


def _has_probe(step: Step) -> bool:
    """An HTTP step with a ``health_check`` URL (HEALTH-4)."""
    return step.type in ("sync", "async") and step.http is not None and bool(step.http.health_check)
