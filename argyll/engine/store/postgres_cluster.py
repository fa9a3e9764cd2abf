"""Cluster membership and flow ownership on the PostgreSQL store (schema version 2).

Every engine on one database is a node. A node heartbeats into ``nodes``
(database time, so node clocks never matter); a node whose heartbeat is
older than the lease is dead. Every active flow has an owner
(``flow_index.owner``): the node that started it, or the node that took it
over. Only the owner drives a flow (dispatches work, fires its timers);
other nodes forward a flow's webhooks to it.

Taking over is a row-locking ``UPDATE``: ``SELECT ... FOR UPDATE SKIP
LOCKED`` picks active flows whose owner is dead (or unknown), so two
survivors claiming at once split the orphans instead of both taking each.
There is no consensus protocol of our own: PostgreSQL's row locks decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["SQL", "NodeRecord"]


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One engine of a cluster as the store knows it."""

    node_id: str
    address: str
    started: datetime
    heartbeat: datetime
    alive: bool


class SQL:
    """The statements (``$n`` parameters, asyncpg)."""

    HEARTBEAT = (
        "INSERT INTO nodes (node_id, address) VALUES ($1, $2)"
        " ON CONFLICT (node_id) DO UPDATE SET address = excluded.address, heartbeat = now()"
    )
    #: A node starting again under its ID: a new ``started`` time.
    JOIN = (
        "INSERT INTO nodes (node_id, address) VALUES ($1, $2)"
        " ON CONFLICT (node_id) DO UPDATE SET address = excluded.address,"
        " heartbeat = now(), started = now()"
    )
    LEAVE = "UPDATE nodes SET heartbeat = '-infinity' WHERE node_id = $1"
    NODES = (
        "SELECT node_id, address, started, heartbeat,"
        " heartbeat > now() - make_interval(secs => $1) FROM nodes ORDER BY node_id"
    )
    OWNER = "SELECT owner FROM flow_index WHERE flow_id = $1 AND grp = 0"
    OWNED = "SELECT flow_id FROM flow_index WHERE grp = 0 AND owner = $1 ORDER BY flow_id"
    CLAIM_ORPHANS = (
        "WITH orphans AS ("
        " SELECT f.flow_id FROM flow_index f LEFT JOIN nodes n ON n.node_id = f.owner"
        " WHERE f.grp = 0 AND f.owner <> $1"
        " AND (n.node_id IS NULL OR n.heartbeat <= now() - make_interval(secs => $2))"
        " ORDER BY f.flow_id LIMIT $3 FOR UPDATE OF f SKIP LOCKED)"
        " UPDATE flow_index SET owner = $1 FROM orphans"
        " WHERE flow_index.flow_id = orphans.flow_id RETURNING flow_index.flow_id"
    )
    CLAIM_ONE = (
        "UPDATE flow_index f SET owner = $1 FROM flow_index g"
        " LEFT JOIN nodes n ON n.node_id = g.owner"
        " WHERE f.flow_id = $2 AND g.flow_id = f.flow_id AND f.grp = 0"
        " AND (f.owner = $1 OR n.node_id IS NULL"
        " OR n.heartbeat <= now() - make_interval(secs => $3))"
        " RETURNING f.flow_id"
    )


def node_record(row: Any) -> NodeRecord:
    """A ``nodes`` row (``SQL.NODES`` columns) as a record."""
    node_id, address, started, heartbeat, alive = row
    return NodeRecord(str(node_id), str(address), started, heartbeat, bool(alive))
