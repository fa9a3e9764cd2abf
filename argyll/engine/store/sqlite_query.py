"""SQL for flow-index queries (API-22, API-23) over ``SQLiteStore``'s tables.

Mirrors ``index.query_entries``: filters by ID prefix (plain text, no LIKE
wildcards), labels (AND) and statuses; order ``(grp, time, flow_id)`` with
time ascending (``timestamp_ns``) or descending (``neg_ns`` ascending), so
both orders and the "strictly after the cursor" test are one row-value range
over an index. Reads only ``flow_index`` and ``flow_labels``, never events.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from argyll.engine.store.base import FlowIndexEntry, FlowIndexQuery
from argyll.engine.store.index import from_ns, group_of

__all__ = ["index_entry", "prefix_end", "query_index"]

_LABEL_FILTER = "flow_id IN (SELECT flow_id FROM flow_labels WHERE key = ? AND value = ?)"

# Up to this many ID-prefix matches, a query reads them by ID and sorts them.
_SORT_BY_ID_MAX = 2000

_labels_decoder = msgspec.json.Decoder(dict[str, str])


def prefix_end(prefix: str) -> str | None:
    """The least string above every string starting with ``prefix`` (None: no bound)."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:  # surrogates cannot be stored: skip them
            last = 0xE000
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def _where(query: FlowIndexQuery, *, by_id: bool) -> tuple[str, list[Any]]:
    """The WHERE clause of a query; ``by_id`` scans an ID-prefix range of the table."""
    # "+is_child" keeps SQLite from walking the order index instead of the range.
    clauses = ["+is_child = 0" if by_id else "is_child = 0"]
    params: list[Any] = []
    statuses = sorted(set(query.statuses))
    if statuses:
        clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
        params.extend(statuses)
        groups = {group_of(s) for s in statuses}
        if len(groups) == 1 and not by_id:  # lets the order index narrow the scan
            clauses.append("grp = ?")
            params.append(groups.pop())
    if query.id_prefix:
        # substr, not LIKE: a prefix is plain text, "%" and "_" included.
        clauses.append("substr(flow_id, 1, ?) = ?")
        params.extend((len(query.id_prefix), query.id_prefix))
        if by_id:
            end = prefix_end(query.id_prefix)
            clauses.append("flow_id >= ?")
            params.append(query.id_prefix)
            if end is not None:
                clauses.append("flow_id < ?")
                params.append(end)
    for key, value in sorted(query.labels.items()):
        clauses.append(_LABEL_FILTER)
        params.extend((key, value))
    return " AND ".join(clauses), params


def index_entry(flow_id: str, status: str, ns: int, labels: str) -> FlowIndexEntry:
    """An index entry from a ``flow_index`` row."""
    return FlowIndexEntry(flow_id, status, from_ns(ns), _labels_decoder.decode(labels))


def query_index(
    conn: sqlite3.Connection, query: FlowIndexQuery
) -> tuple[list[FlowIndexEntry], int]:
    """Run ``query`` on ``conn``: the page in index order and the total before paging.

    Call inside one read transaction so the count and the page agree.
    """
    total: int | None = None
    by_id = False
    if query.id_prefix:
        # Count the prefix range first: few matches are read by ID and
        # sorted; many are better read in order from the order index.
        where, params = _where(query, by_id=True)
        (total,) = conn.execute(f"SELECT count(*) FROM flow_index WHERE {where}", params).fetchone()
        by_id = total <= _SORT_BY_ID_MAX
    where, params = _where(query, by_id=by_id)
    # The same order and "strictly after" test as index.order_key.
    time_column = "neg_ns" if query.descending else "timestamp_ns"
    sql = f"SELECT flow_id, status, timestamp_ns, labels FROM flow_index WHERE {where}"
    page_params = list(params)
    if query.after is not None:
        after = query.after
        sql += f" AND (grp, {time_column}, flow_id) > (?, ?, ?)"
        recent = -after.recent_ns if query.descending else after.recent_ns
        page_params.extend((after.group, recent, after.flow_id))
    sql += f" ORDER BY grp, {time_column}, flow_id LIMIT ?"
    page_params.append(query.limit if query.limit > 0 else -1)
    rows = conn.execute(sql, page_params).fetchall()
    if total is None:
        if query.after is None and (query.limit <= 0 or len(rows) < query.limit):
            total = len(rows)  # the page holds every match
        else:
            count = f"SELECT count(*) FROM flow_index WHERE {where}"
            (total,) = conn.execute(count, params).fetchone()
    return [index_entry(*row) for row in rows], int(total)
