"""This engine as one node of a cluster on a shared (PostgreSQL) store.

Several engines started on one database form a cluster; each serves every
request. What keeps them consistent:

- **One order of events.** The store numbers every committed event with a
  global position. Each node tails that order (:class:`Tail`) and is the
  only publisher on its own bus, in position order: WebSocket subscribers
  on any node see every node's events, in order. Tailed events also keep
  the node's projections current: catalog and cluster events of other nodes
  are applied (a catalog change is visible everywhere within milliseconds:
  the tail is woken by the store's LISTEN/NOTIFY, and polls each second),
  and a cached flow that another node wrote is dropped and re-read.
- **One driver per flow.** The node that starts a flow owns it (the store
  records the owner with ``flow_started``); only the owner dispatches its
  work and fires its timers. A webhook that reaches another node is
  forwarded to the owner.
- **Failover by lease.** Nodes heartbeat into the store every quarter
  lease. When a node's heartbeat is older than the lease (default 10 s),
  the survivors claim its active flows with row locks (``SKIP LOCKED``, so
  two survivors split the work) and recover them: pending retries are
  re-armed, in-flight work is re-invoked with the same receipt token, and
  awaited webhooks complete on the new owner.
- **Optimistic concurrency everywhere else.** Catalog and health writes
  from several nodes meet at the aggregate's expected sequence; a loser
  catches up from the store and decides again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from argyll.engine.background import Background
from argyll.engine.bus import EventBus, StoredEvent
from argyll.engine.eventlog import decode_payload
from argyll.engine.execute.forward import ForwardFailed
from argyll.engine.repository import Projection, Repository
from argyll.errors import EngineError

__all__ = ["ClusterStore", "Membership", "NodeView", "Tail"]

log = logging.getLogger("argyll.cluster")

_TAIL_BATCH = 1000
_TAIL_IDLE_S = 1.0
_CLAIM_BATCH = 200


class NodeView(Protocol):
    """A node as the store reports it (``store.postgres_cluster.NodeRecord``)."""

    node_id: str
    address: str
    started: datetime
    heartbeat: datetime
    alive: bool


class ClusterStore(Protocol):
    """What a shared store offers beyond ``EventStore`` (PostgreSQL)."""

    node_id: str

    async def read_committed(self, after: int, limit: int) -> list[StoredEvent]: ...

    async def last_position(self) -> int: ...

    async def wait_committed(self, after: int, timeout: float) -> int: ...

    async def join(self, address: str) -> None: ...

    async def heartbeat(self, address: str) -> None: ...

    async def leave(self) -> None: ...

    async def nodes(self, lease_s: float) -> list[Any]: ...

    async def flow_owner(self, flow_id: str) -> str | None: ...

    async def owned_flows(self) -> list[str]: ...

    async def claim_orphans(self, lease_s: float, limit: int) -> list[str]: ...

    async def claim_flow(self, flow_id: str, lease_s: float) -> bool: ...


class Tail:
    """Follows the store's global order: keeps projections current, publishes in order.

    Args:
        store: The shared store.
        repository: Whose flow cache is invalidated by other nodes' writes.
        bus: Where every committed event is published, once, in position order.
        projections: The always-loaded projections by aggregate (catalog, cluster).
        on_projection: Called after a projection changed through the tail.
    """

    def __init__(
        self,
        store: ClusterStore,
        repository: Repository,
        bus: EventBus,
        projections: dict[tuple[str, ...], Projection],
        on_projection: Callable[[tuple[str, ...]], None] = lambda _: None,
    ) -> None:
        self.store = store
        self.repository = repository
        self.bus = bus
        self.projections = projections
        self.on_projection = on_projection
        self.position = 0
        self._loop = Background(self._run)
        self._resync: set[tuple[str, ...]] = set()

    async def mark(self) -> None:
        """Start after everything committed so far (call before loading projections)."""
        self.position = await self.store.last_position()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            try:
                got = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the store's event order failed")
                got = 0
            if got < _TAIL_BATCH:
                # Woken by this node's commits and (LISTEN/NOTIFY) every other
                # node's; the timeout is only a fallback.
                try:
                    await self.store.wait_committed(self.position, _TAIL_IDLE_S)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    await asyncio.sleep(_TAIL_IDLE_S)

    async def step(self) -> int:
        """Read and handle one batch; returns how many events it held."""
        events = await self.store.read_committed(self.position, _TAIL_BATCH)
        if not events:
            return 0
        self.position = events[-1].position
        for event in events:
            self._observe(event)
        for aggregate in list(self._resync):
            await self.repository.catch_up(aggregate, self.projections[aggregate])
            self._resync.discard(aggregate)
            self.on_projection(aggregate)
        self.bus.publish(events)
        return len(events)

    def _observe(self, event: StoredEvent) -> None:
        agg = event.aggregate_id
        projection = self.projections.get(agg)
        if projection is not None:
            if event.sequence == projection.next_sequence:
                projection.apply(decode_payload(event), event.timestamp)
                self.on_projection(agg)
            elif event.sequence > projection.next_sequence:
                self._resync.add(agg)  # a gap: read what is missing from the store
            return
        if len(agg) == 2 and agg[0] == "flow":
            entry = self.repository.cached_flow(agg[1])
            if entry is not None and event.sequence >= entry.next_sequence:
                self.repository.forget_flow(agg[1])


class Membership:
    """Heartbeats, the live node list, and taking over the flows of dead nodes.

    Args:
        store: The shared store.
        address: Where other nodes reach this one (``http://host:port``).
        lease_s: How long a node may be silent before its flows are taken.
        recover: Recovers one flow that this node now owns.
    """

    def __init__(
        self,
        store: ClusterStore,
        address: str,
        lease_s: float,
        recover: Callable[[str], Awaitable[None]],
    ) -> None:
        self.store = store
        self.node_id = store.node_id
        self.address = address
        self.lease_s = lease_s
        self.recover = recover
        self.nodes: list[Any] = []
        self._loop = Background(self._run)

    async def join(self) -> list[str]:
        """Register this node and take what it should drive; the flows to recover."""
        await self.store.join(self.address)
        owned = await self.store.owned_flows()  # this node's, from before a restart
        claimed = await self.store.claim_orphans(self.lease_s, 1_000_000)
        self.nodes = await self.store.nodes(self.lease_s)
        return sorted(set(owned) | set(claimed))

    def start(self) -> None:
        self._loop.start()

    async def stop(self, *, leave: bool = True) -> None:
        await self._loop.stop()
        if leave:
            try:
                await self.store.leave()
            except Exception:
                log.warning("could not mark node %s as gone", self.node_id)

    async def _run(self) -> None:
        interval = max(0.05, self.lease_s / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cluster heartbeat failed")

    async def beat(self) -> list[str]:
        """One heartbeat: refresh the node list, take over orphaned flows."""
        await self.store.heartbeat(self.address)
        self.nodes = await self.store.nodes(self.lease_s)
        claimed = await self.store.claim_orphans(self.lease_s, _CLAIM_BATCH)
        for flow_id in claimed:
            log.warning("node %s took over flow %s", self.node_id, flow_id)
            try:
                await self.recover(flow_id)
            except Exception:
                log.exception("recovering flow %s failed", flow_id)
        return claimed

    async def route(self, flow_id: str, send: Callable[[str], Awaitable[None]]) -> bool:
        """Deliver a flow's request to its driver: True when ``send`` delivered it to
        the live owner's address; False when this node drives the flow (it is
        ours, not active, or taken over here from a dead owner).

        Raises:
            EngineError: 503 when the owner is unreachable but not yet known
                to be gone (the sender retries), or the owner's refusal.
        """
        owner = await self.store.flow_owner(flow_id)
        if owner is None or owner in ("", self.node_id):
            return False  # not active (late results are recorded anywhere) or ours
        node = self.alive(owner)
        if node is not None:
            try:
                await send(node.address)
                return True
            except ForwardFailed as exc:
                log.warning("forwarding to node %s for flow %s failed: %s", owner, flow_id, exc)
        if await self.store.claim_flow(flow_id, self.lease_s):
            await self.recover(flow_id)
            return False
        raise EngineError(f"flow {flow_id} is driven by node {owner}, which is unreachable", 503)

    def alive(self, node_id: str) -> Any | None:
        """The live node ``node_id`` as last seen, or ``None``."""
        for node in self.nodes:
            if node.node_id == node_id and node.alive:
                return node
        return None

    @property
    def role(self) -> str:
        """``leader`` for the longest-running live node, else ``follower``."""
        live = sorted((n.started, n.node_id) for n in self.nodes if n.alive)
        if not live or live[0][1] == self.node_id:
            return "leader"
        return "follower"
