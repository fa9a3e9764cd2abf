"""Step health as data: the cluster aggregate and the health rules. No I/O.

- :class:`ClusterState` is the projection of the ``["cluster"]`` aggregate
  (EVT-11) and knows when an update is a change worth an event (HEALTH-2).
- :func:`default_health` is a step's health right after it is registered or
  updated (HEALTH-3).
- :func:`merge_nodes` reduces per-node records to one cluster-wide view,
  worst first (API-16).
- :class:`HealthResolver` derives flow-step health from the plan of the flow
  step's goals (HEALTH-5).

Recording, probing and dispatch gating live in ``health_monitor``; this
module only computes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import msgspec

from argyll.model import events as ev
from argyll.model.codec import ZERO_TIME
from argyll.model.plan import ExecutionPlan
from argyll.model.step import Step

__all__ = [
    "HEALTHY",
    "UNKNOWN",
    "ClusterState",
    "HealthResolver",
    "HealthState",
    "NodeHealth",
    "default_health",
    "merge_nodes",
]


class HealthState(msgspec.Struct, frozen=True, omit_defaults=True):
    """One step's health on one node (API-53 HealthState)."""

    status: str
    """``healthy``, ``unhealthy`` or ``unknown`` (HEALTH-1)."""
    error: str = ""
    """Why the step is not healthy; omitted on the wire when empty."""


HEALTHY: Final = HealthState("healthy")
UNKNOWN: Final = HealthState("unknown")

_RANK: Final = {"healthy": 0, "unknown": 1, "unhealthy": 2}


class NodeHealth(msgspec.Struct):
    """A node in the cluster projection: ``{"last_seen", "health"}`` (API-5)."""

    last_seen: datetime = ZERO_TIME
    """Time of the node's last ``step_health_changed`` event (zero if none)."""
    health: dict[str, HealthState] = msgspec.field(default_factory=dict)
    """Recorded health by step ID."""


class ClusterState:
    """The cluster aggregate ``["cluster"]`` (EVT-11).

    Args:
        node_ids: Nodes configured for this engine; they are always present,
            with empty health until they report (EVT-11, API-5).

    Attributes:
        nodes: Per-node health records.
        last_updated: Time of the last cluster event (zero if none).
        next_sequence: The sequence the next cluster event will get (EVT-3).
    """

    def __init__(self, node_ids: Iterable[str] = ()) -> None:
        self.nodes: dict[str, NodeHealth] = {n: NodeHealth() for n in node_ids}
        self.last_updated: datetime = ZERO_TIME
        self.next_sequence = 0

    def apply(self, payload: ev.Payload, ts: datetime) -> None:
        """Apply one cluster event (EVT-11); other payloads only advance the sequence."""
        if isinstance(payload, ev.StepHealthChanged):
            node = self.nodes.get(payload.node_id)
            if node is None:
                node = self.nodes[payload.node_id] = NodeHealth()
            node.last_seen = ts
            node.health[payload.step_id] = HealthState(payload.status, payload.error)
            self.last_updated = ts
        self.next_sequence += 1

    def record(self, node_id: str, step_id: str) -> HealthState | None:
        """The recorded health of a step on a node, or ``None`` if never reported."""
        node = self.nodes.get(node_id)
        return node.health.get(step_id) if node is not None else None

    def change(self, node_id: str, step_id: str, health: HealthState) -> ev.Payload | None:
        """HEALTH-2: the event for an update, or ``None`` when nothing differs.

        A step with no record yet always gets an event, even for ``unknown``.
        """
        if self.record(node_id, step_id) == health:
            return None
        return ev.StepHealthChanged(
            node_id=node_id, step_id=step_id, status=health.status, error=health.error
        )

    def to_wire(self, fill: Iterable[str] = ()) -> dict[str, Any]:
        """``{"last_updated", "nodes"}`` (API-5).

        Args:
            fill: Step IDs every node must list; steps a node never reported
                appear as ``{"status": "unknown"}`` (API-2, API-15).
        """
        return {"last_updated": self.last_updated, "nodes": self.nodes_wire(fill)}

    def nodes_wire(self, fill: Iterable[str] = ()) -> dict[str, NodeHealth]:
        """The ``nodes`` map of :meth:`to_wire`, detached from the projection."""
        wanted = list(fill)
        out: dict[str, NodeHealth] = {}
        for node_id, node in self.nodes.items():
            health = dict(node.health)
            for step_id in wanted:
                health.setdefault(step_id, UNKNOWN)
            out[node_id] = NodeHealth(last_seen=node.last_seen, health=health)
        return out


CompileError = Callable[[Step], str | None]
"""A script step's compile error text, or ``None`` when it compiles."""


def default_health(step: Step, compile_error: CompileError) -> HealthState:
    """HEALTH-3: ``script`` by compile result; every other type ``unknown``."""
    if step.type == "script" and step.script is not None:
        err = compile_error(step)
        return HealthState("unhealthy", err) if err else HEALTHY
    return UNKNOWN


def _annotate(node_id: str, health: HealthState) -> HealthState:
    if not health.error:
        return health
    return HealthState(health.status, f"node {node_id}: {health.error}")


def merge_nodes(nodes: Mapping[str, NodeHealth]) -> dict[str, HealthState]:
    """Per-step health over all nodes, worst first (API-16).

    ``unhealthy`` beats ``unknown`` beats ``healthy``; among equals the first
    node (by ID) with an error wins. Error texts are prefixed ``node <id>: ``.
    """
    merged: dict[str, HealthState] = {}
    for node_id in sorted(nodes):
        for step_id, raw in sorted(nodes[node_id].health.items()):
            health = _annotate(node_id, raw)
            current = merged.get(step_id)
            if current is None:
                merged[step_id] = health
                continue
            rank, was = _RANK.get(health.status, 1), _RANK.get(current.status, 1)
            if rank > was or (rank == was and not current.error and health.error):
                merged[step_id] = health
    return merged


PlanGoals = Callable[[list[str]], ExecutionPlan]
"""Builds a strict plan of the given goals with empty init (raises on failure)."""


def _flow_step_health(step_id: str, health: HealthState) -> HealthState:
    if health.error:
        return HealthState(health.status, f"step {step_id}: {health.error}")
    return HealthState(health.status, f"step {step_id} {health.status}")


class HealthResolver:
    """Resolves step health over a catalog (HEALTH-5).

    One resolver answers for one moment: it caches plans and results, so
    build a new one whenever the catalog or the records change.

    Args:
        steps: The catalog's steps by ID.
        base: Recorded health by step ID (the local node's records, or the
            merged cluster view for API-16).
        plan_goals: Builds the strict plan of a flow step's goals.
        compile_error: The compile check behind script defaults (HEALTH-3).
    """

    def __init__(
        self,
        steps: Mapping[str, Step],
        base: Mapping[str, HealthState],
        plan_goals: PlanGoals,
        compile_error: CompileError,
    ) -> None:
        self.steps = steps
        self.base = base
        self.plan_goals = plan_goals
        self.compile_error = compile_error
        self._cache: dict[str, HealthState] = {}
        self._visiting: set[str] = set()

    def resolve(self, step_id: str) -> HealthState:
        """The resolved health of a step (HEALTH-5).

        A flow step with goals is always derived from the plan of its goals
        (its own record is only the last derivation); any other step is its
        record unless that is a plain ``unknown``, else its type's default.
        """
        cached = self._cache.get(step_id)
        if cached is not None:
            return cached
        health = self._resolve(step_id)
        self._cache[step_id] = health
        return health

    def _resolve(self, step_id: str) -> HealthState:
        step = self.steps.get(step_id)
        if step is None:
            return HealthState("unknown", f"step not found: {step_id}")
        goals = list(step.flow.goals) if step.type == "flow" and step.flow is not None else []
        if not goals:
            recorded = self.base.get(step_id)
            if recorded is not None and (recorded.status != "unknown" or recorded.error):
                return recorded
            return default_health(step, self.compile_error)
        if step_id in self._visiting:
            return HealthState("unknown", f"flow health cycle at step {step_id}")
        self._visiting.add(step_id)
        try:
            return self._derive(step_id, goals)
        finally:
            self._visiting.discard(step_id)

    def _derive(self, step_id: str, goals: list[str]) -> HealthState:
        try:
            plan = self.plan_goals(goals)
        except Exception as exc:
            return HealthState("unknown", f"flow preview failed for {step_id}: {exc}")
        unknown: HealthState | None = None
        for member in sorted(plan.steps):
            health = self.resolve(member)
            if health.status == "unhealthy":
                return _flow_step_health(member, health)
            if health.status == "unknown" and health.error and unknown is None:
                unknown = _flow_step_health(member, health)
        return unknown if unknown is not None else HEALTHY

    def flow_steps(self) -> dict[str, HealthState]:
        """Resolved health of every ``flow`` step in the catalog (HEALTH-4)."""
        return {sid: self.resolve(sid) for sid, s in self.steps.items() if s.type == "flow"}

    def all(self, step_ids: Sequence[str] | None = None) -> dict[str, HealthState]:
        """Resolved health of the given steps (default: every catalog step)."""
        ids = list(self.steps) if step_ids is None else step_ids
        return {sid: self.resolve(sid) for sid in ids}
