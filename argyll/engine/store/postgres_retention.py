"""Retention for ``PostgresStore``: delete old terminal flows in small transactions.

One transaction per call over at most ``limit`` root flows (and their
children). Candidate rows are locked with ``FOR UPDATE SKIP LOCKED``, so
engines sharing the database can sweep at the same time without waiting on
each other. Positions come from ``event_head``, so deleting events never
lets a position be handed out again.
"""

from __future__ import annotations

from typing import Any

from argyll.engine.store.index import aggregate_key

__all__ = ["delete_flows_before"]

_CANDIDATES = (
    "SELECT flow_id FROM flow_index WHERE is_child = false AND grp = 1 AND timestamp_ns < $1"
    " ORDER BY timestamp_ns, flow_id LIMIT $2 FOR UPDATE SKIP LOCKED"
)
_FAMILY = "SELECT flow_id, grp FROM flow_index WHERE flow_id > $1 AND flow_id < $2"
_DELETE_EVENTS = "DELETE FROM events WHERE aggregate = $1 OR (aggregate > $2 AND aggregate < $3)"
_DELETE_INDEX = "DELETE FROM flow_index WHERE flow_id = ANY($1::text[])"


async def delete_flows_before(conn: Any, cutoff_ns: int, limit: int) -> list[str]:
    """Delete up to ``limit`` terminal root flows indexed before ``cutoff_ns``.

    ``conn`` is an asyncpg connection with the store's schema on its path.
    """
    deleted: list[str] = []
    async with conn.transaction():
        roots = [row[0] for row in await conn.fetch(_CANDIDATES, cutoff_ns, limit)]
        for root in roots:
            # Child IDs are "<root>:<step>:<token>": strictly between "<root>:"
            # and "<root>;" in code-point order (the "C" collation).
            children = await conn.fetch(_FAMILY, root + ":", root + ";")
            if any(row[1] == 0 for row in children):
                continue  # an active child: keep the whole family for now
            family = [root, *(row[0] for row in children)]
            key = aggregate_key(("flow", root))
            await conn.execute(_DELETE_EVENTS, key, key + ":", key + ";")
            await conn.execute(_DELETE_INDEX, family)
            deleted.extend(family)
    return deleted
