"""SQL for flow-index queries (API-22, API-23) over ``PostgresStore``'s tables.

Mirrors ``index.query_entries`` and ``sqlite_query``: filters by ID prefix
(plain text: ``starts_with`` plus a range the primary key can scan), labels
(``labels @> filter``, one GIN look-up for every label at once) and
statuses; order ``(grp, time, flow_id)`` with time ascending
(``timestamp_ns``) or descending (``neg_ns`` ascending), so both orders and
the "strictly after the cursor" test are one row-value range. ``flow_id`` is
in the ``"C"`` collation, so ties break in code-point order as elsewhere.
"""

from __future__ import annotations

from typing import Any

import msgspec

from argyll.engine.store.base import FlowIndexEntry, FlowIndexQuery
from argyll.engine.store.index import from_ns, group_of
from argyll.engine.store.sqlite_query import prefix_end

__all__ = ["ENTRY_COLUMNS", "index_entry", "query_index"]

ENTRY_COLUMNS = "flow_id, status, timestamp_ns, labels::text"

_labels_decoder = msgspec.json.Decoder(dict[str, str])
_labels_encoder = msgspec.json.Encoder()


def index_entry(row: Any) -> FlowIndexEntry:
    """An index entry from a row of ``ENTRY_COLUMNS``."""
    flow_id, status, ns, labels = row
    return FlowIndexEntry(flow_id, status, from_ns(ns), _labels_decoder.decode(labels))


def _where(query: FlowIndexQuery) -> tuple[str, list[Any]]:
    clauses = ["NOT is_child"]
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    statuses = sorted(set(query.statuses))
    if statuses:
        clauses.append(f"status = ANY({param(statuses)}::text[])")
        groups = {group_of(s) for s in statuses}
        if len(groups) == 1:  # lets the order index narrow the scan
            clauses.append(f"grp = {param(groups.pop())}::smallint")
    if query.id_prefix:
        clauses.append(f"starts_with(flow_id, {param(query.id_prefix)}::text)")
        clauses.append(f"flow_id >= {param(query.id_prefix)}::text")
        end = prefix_end(query.id_prefix)
        if end is not None:
            clauses.append(f"flow_id < {param(end)}::text")
    if query.labels:
        clauses.append(f"labels @> {param(_labels_encoder.encode(query.labels).decode())}::jsonb")
    return " AND ".join(clauses), params


async def query_index(conn: Any, query: FlowIndexQuery) -> tuple[list[FlowIndexEntry], int]:
    """Run ``query`` on an asyncpg connection: the page in index order, the total.

    Call inside one repeatable-read transaction so the count and the page agree.
    """
    where, params = _where(query)
    time_column = "neg_ns" if query.descending else "timestamp_ns"
    sql = f"SELECT {ENTRY_COLUMNS} FROM flow_index WHERE {where}"
    page_params = list(params)
    if query.after is not None:
        after = query.after
        recent = -after.recent_ns if query.descending else after.recent_ns
        n = len(page_params)
        sql += f" AND (grp, {time_column}, flow_id) > (${n + 1}::smallint, ${n + 2}, ${n + 3})"
        page_params.extend((after.group, recent, after.flow_id))
    sql += f" ORDER BY grp, {time_column}, flow_id"
    if query.limit > 0:
        page_params.append(query.limit)
        sql += f" LIMIT ${len(page_params)}"
    rows = await conn.fetch(sql, *page_params)
    if query.after is None and (query.limit <= 0 or len(rows) < query.limit):
        total = len(rows)  # the page holds every match
    else:
        total = int(await conn.fetchval(f"SELECT count(*) FROM flow_index WHERE {where}", *params))
    return [index_entry(row) for row in rows], total
