"""Retention for ``SQLiteStore``: delete old terminal flows in small transactions.

Runs as a job of the group-commit writer (``GroupCommitWriter.submit_job``):
one transaction over at most ``limit`` flows (and their children) between
two append groups, on the writer's own connection. A second writing
connection would wait for the writer's lock, and under load SQLite's busy
handler starves it. Freed pages are reused by later appends, so under
steady load with retention on the file stops growing.
"""

from __future__ import annotations

import sqlite3

from argyll.engine.store.index import aggregate_key

__all__ = ["delete_flows_before"]

_CANDIDATES = (
    "SELECT flow_id FROM flow_index WHERE is_child = 0 AND grp = 1 AND timestamp_ns < ?"
    " ORDER BY timestamp_ns, flow_id LIMIT ?"
)
_FAMILY = "SELECT flow_id, grp FROM flow_index WHERE flow_id > ? AND flow_id < ?"
_LAST_POSITION = "SELECT max(position) FROM events"
_FAMILY_LAST_POSITION = (
    "SELECT max(position) FROM events WHERE aggregate = ? OR (aggregate > ? AND aggregate < ?)"
)
_DELETE_EVENTS = "DELETE FROM events WHERE aggregate = ?"
_DELETE_CHILD_EVENTS = "DELETE FROM events WHERE aggregate > ? AND aggregate < ?"
_DELETE_INDEX = "DELETE FROM flow_index WHERE flow_id = ?"
_DELETE_LABELS = "DELETE FROM flow_labels WHERE flow_id = ?"


def _child_range(flow_id: str) -> tuple[str, str]:
    # Child IDs are "<flow_id>:<step>:<token>": the keys strictly between
    # "<flow_id>:" and "<flow_id>;" (";" follows ":" in code point order).
    return flow_id + ":", flow_id + ";"


def delete_flows_before(conn: sqlite3.Connection, cutoff_ns: int, limit: int) -> list[str]:
    """Delete up to ``limit`` terminal root flows indexed before ``cutoff_ns``.

    Runs inside the caller's transaction on the writer's connection.
    """
    deleted: list[str] = []
    roots = [row[0] for row in conn.execute(_CANDIDATES, (cutoff_ns, limit))]
    # The writer numbers positions from the largest stored one: the event that
    # holds it stays, or a deleted position could be handed out again.
    (last,) = conn.execute(_LAST_POSITION).fetchone()
    for root in roots:
        low, high = _child_range(root)
        children = conn.execute(_FAMILY, (low, high)).fetchall()
        if any(grp == 0 for _, grp in children):
            continue  # an active child: keep the whole family for now
        family = [root, *(flow_id for flow_id, _ in children)]
        key = aggregate_key(("flow", root))
        (top,) = conn.execute(_FAMILY_LAST_POSITION, (key, key + ":", key + ";")).fetchone()
        if top is not None and top == last:
            continue  # deleted by a later sweep, once newer events exist
        conn.execute(_DELETE_EVENTS, (key,))
        conn.execute(_DELETE_CHILD_EVENTS, (key + ":", key + ";"))
        conn.executemany(_DELETE_INDEX, [(f,) for f in family])
        conn.executemany(_DELETE_LABELS, [(f,) for f in family])
        deleted.extend(family)
    return deleted
