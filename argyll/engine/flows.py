"""Flow start and read operations (SPEC 5, API-21..26): request checks and queries.

Pure helpers used by the engine facade: request limits in API-21 order,
duplicate-start comparison (FLOW-3) and query validation and cursors (API-23).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import msgspec

from argyll.engine.config import Limits
from argyll.engine.store.base import FlowIndexEntry, FlowIndexQuery, IndexCursor
from argyll.errors import BadRequestError
from argyll.model.codec import json_equal
from argyll.model.events import FlowStarted
from argyll.model.flow import FlowSummary
from argyll.model.ids import is_valid_id_text, sanitize_id
from argyll.model.requests import FlowListResponse, FlowQuery, FlowStartRequest

__all__ = [
    "FlowPage",
    "check_init_types",
    "check_start_request",
    "decode_cursor",
    "encode_cursor",
    "index_query",
    "list_page",
    "query_response",
    "same_start",
    "summaries",
]

_STATUSES = ("active", "completed", "failed")


def check_start_request(req: FlowStartRequest, limits: Limits) -> str:
    """API-21 checks in order on the sanitized request; returns the sanitized ID.

    Raises:
        BadRequestError: the first failed check.
    """
    flow_id = sanitize_id(req.id)
    if not flow_id:
        raise BadRequestError("flow ID empty")
    if len(flow_id) > limits.flow_id:
        raise BadRequestError(f"flow ID too long: maximum is {limits.flow_id}")
    if not req.goals:
        raise BadRequestError("at least one goal step is required")
    if len(req.goals) > limits.goals:
        raise BadRequestError(f"too many goals: maximum is {limits.goals}")
    if len(req.init) > limits.init_keys:
        raise BadRequestError(f"too many init keys: maximum is {limits.init_keys}")
    if len(req.labels) > limits.labels:
        raise BadRequestError(f"too many labels: maximum is {limits.labels}")
    return flow_id


_JSON_TYPES: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
    type(None): "null",
}


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``string``, ``number``, ...)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def check_init_types(
    init: dict[str, list[Any]], declared: Callable[[str], Mapping[str, int]]
) -> None:
    """FLOW-2 (revised): init values must have the type the catalog declares.

    ``declared(name)`` counts the catalog's declarations of ``name`` by type
    (``""`` = untyped). A name declared with exactly one type other than
    untyped and ``any`` is checked; any other name accepts every value.

    Raises:
        BadRequestError: ``invalid init value for <name>: expected <type>, got <JSON type>``.
    """
    for name in sorted(init):
        types = [t for t in declared(name) if t]
        if len(types) != 1 or types[0] == "any":
            continue
        expected = types[0]
        for value in init[name]:
            got = json_type(value)
            if got != expected:
                raise BadRequestError(
                    f"invalid init value for {name}: expected {expected}, got {got}"
                )


def same_start(existing: FlowStarted, goals: list[str], init: dict[str, list[Any]]) -> bool:
    """FLOW-3: same goal list (same order) and equal init (CONV-7 value equality)."""
    return existing.plan.goals == goals and json_equal(existing.init, init)


class FlowPage(NamedTuple):
    """One page of API-22: the summaries and the next page's cursor (empty when none)."""

    flows: list[FlowSummary]
    next_cursor: str


def summaries(entries: list[FlowIndexEntry]) -> list[FlowSummary]:
    """Index entries as API summaries."""
    return [FlowSummary(id=e.flow_id, status=e.status, timestamp=e.timestamp) for e in entries]


class _Cursor(msgspec.Struct):
    id: str
    group: int
    recent: int


def encode_cursor(entry: FlowIndexEntry) -> str:
    """API-23: unpadded base64url of ``{"id", "group", "recent": <unix ns>}``."""
    position = entry.cursor
    raw = msgspec.json.encode(
        _Cursor(id=position.flow_id, group=position.group, recent=position.recent_ns)
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str) -> IndexCursor:
    """Parse a cursor; anything undecodable is a 400 ``invalid flow cursor``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = msgspec.json.decode(raw, type=_Cursor)
    except (ValueError, msgspec.DecodeError) as exc:
        raise BadRequestError(f"invalid flow cursor: {exc}") from None
    return IndexCursor(group=cursor.group, recent_ns=cursor.recent, flow_id=cursor.id)


def index_query(q: FlowQuery, limits: Limits) -> FlowIndexQuery:
    """Validate an API-23 query body into a store query.

    Raises:
        BadRequestError: with the API-23 messages.
    """
    if q.id_prefix and not is_valid_id_text(q.id_prefix):
        raise BadRequestError("Invalid ID prefix")
    if any(not k or not v for k, v in q.labels.items()):
        raise BadRequestError("Invalid labels")
    if any(s not in _STATUSES for s in q.statuses):
        raise BadRequestError("Invalid statuses")
    if q.sort not in ("", "recent_asc", "recent_desc"):
        raise BadRequestError("Invalid sort")
    if not 0 <= q.limit <= limits.query_limit:
        raise BadRequestError(f"Limit must be between 0 and {limits.query_limit}")
    return FlowIndexQuery(
        id_prefix=q.id_prefix,
        labels=dict(q.labels),
        statuses=tuple(dict.fromkeys(q.statuses)),
        descending=q.sort == "recent_desc",
        limit=q.limit,
        after=decode_cursor(q.cursor) if q.cursor else None,
    )


def list_page(params: Mapping[str, str], limits: Limits) -> tuple[int, IndexCursor | None]:
    """API-22 query parameters ``limit`` (1..query limit) and ``cursor``; 0 = no limit.

    Raises:
        BadRequestError: a malformed or out-of-range ``limit``, or a bad ``cursor``.
    """
    text = params.get("limit")
    limit = 0
    if text is not None:
        if not text.isdigit() or not 1 <= int(text) <= limits.query_limit:
            raise BadRequestError(f"limit must be an integer between 1 and {limits.query_limit}")
        limit = int(text)
    cursor = params.get("cursor")
    return limit, (decode_cursor(cursor) if cursor else None)


def query_response(entries: list[FlowIndexEntry], total: int, limit: int) -> FlowListResponse:
    """API-23 answer from a store page fetched with ``limit + 1`` entries.

    The extra entry only tells whether more follow (``has_more``,
    ``next_cursor`` of the last returned entry); it is not returned.
    """
    has_more = limit > 0 and len(entries) > limit
    page = entries[:limit] if has_more else entries
    flows = summaries(page)
    return FlowListResponse(
        flows=flows,
        count=len(flows),
        total=total,
        has_more=has_more,
        next_cursor=encode_cursor(page[-1]) if has_more else "",
    )
