"""Flow start and query helpers (argyll/engine/flows.py): pure request checks,
init type checks, duplicate-start comparison and index cursors."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from argyll.engine.config import Limits
from argyll.engine.flows import (
    check_init_types,
    check_start_request,
    decode_cursor,
    encode_cursor,
    index_query,
    json_type,
    query_response,
    same_start,
    summaries,
)
from argyll.engine.store.base import FlowIndexEntry
from argyll.errors import BadRequestError
from argyll.model.events import FlowStarted
from argyll.model.plan import ExecutionPlan
from argyll.model.requests import FlowQuery, FlowStartRequest

LIMITS = Limits(flow_id=8, goals=2, init_keys=2, labels=1, query_limit=10)
T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def start(**fields: object) -> FlowStartRequest:
    return FlowStartRequest(**{"id": "Order 1", "goals": ["g"], **fields})  # type: ignore[arg-type]


def problem(call: object) -> str:
    with pytest.raises(BadRequestError) as info:
        assert callable(call)
        call()
    return info.value.message


def test_start_request_returns_the_sanitized_id() -> None:  # API-21, DATA-1
    assert check_start_request(start(), LIMITS) == "order-1"


def test_start_request_checks_run_in_order() -> None:  # API-21
    # every check fails: the first one is reported, and so on down the list
    everything_wrong = {
        "id": "x" * 9,
        "goals": ["a", "b", "c"],
        "init": {"a": [1], "b": [1], "c": [1]},
        "labels": {"a": "1", "b": "2"},
    }
    expected = [
        ("id", "@@@", "flow ID empty"),
        ("id", "x" * 9, "flow ID too long: maximum is 8"),
        ("goals", [], "at least one goal step is required"),
        ("goals", ["a", "b", "c"], "too many goals: maximum is 2"),
        ("init", {"a": [1], "b": [1], "c": [1]}, "too many init keys: maximum is 2"),
        ("labels", {"a": "1", "b": "2"}, "too many labels: maximum is 1"),
    ]
    fields = list(everything_wrong)
    for field, bad, message in expected:
        # this field is bad and so is every field checked after it
        later = {k: v for k, v in everything_wrong.items() if fields.index(k) > fields.index(field)}
        req = start(**{**later, field: bad})
        assert problem(lambda req=req: check_start_request(req, LIMITS)) == message


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("s", "string"),
        (1, "number"),
        (1.5, "number"),
        (True, "boolean"),
        ({}, "object"),
        ([], "array"),
        (None, "null"),
    ],
)
def test_json_type_names(value: object, name: str) -> None:
    assert json_type(value) == name


def test_init_types_are_checked_only_for_one_declared_type() -> None:  # FLOW-2
    declared = {
        "amount": Counter({"number": 2}),
        "mixed": Counter({"number": 1, "string": 1}),
        "loose": Counter({"any": 1}),
        "untyped": Counter({"": 1}),
        "half": Counter({"": 1, "string": 1}),
    }

    def lookup(name: str) -> Counter[str]:
        return declared.get(name, Counter())

    check_init_types(
        {"amount": [1, 2.5], "mixed": ["x", 1], "loose": [{}], "untyped": [None], "other": [[]]},
        lookup,
    )
    assert (
        problem(lambda: check_init_types({"amount": [1, "2"]}, lookup))
        == "invalid init value for amount: expected number, got string"
    )
    # a name declared once typed and once untyped still has one type to check
    assert (
        problem(lambda: check_init_types({"half": [True]}, lookup))
        == "invalid init value for half: expected string, got boolean"
    )
    # names are checked in sorted order: the first bad name is reported
    assert "for amount:" in problem(
        lambda: check_init_types({"half": [1], "amount": ["x"]}, lookup)
    )


def test_same_start_compares_goal_order_and_init_values() -> None:  # FLOW-3, CONV-7
    started = FlowStarted(
        flow_id="wf", plan=ExecutionPlan(goals=["a", "b"]), init={"n": [5], "s": ["x"]}
    )
    assert same_start(started, ["a", "b"], {"n": [5.0], "s": ["x"]})
    assert not same_start(started, ["b", "a"], {"n": [5], "s": ["x"]})
    assert not same_start(started, ["a", "b"], {"n": [6], "s": ["x"]})
    assert not same_start(started, ["a", "b"], {"n": [5]})
    assert not same_start(started, ["a", "b"], {"n": [True], "s": ["x"]})


def entry(flow_id: str, status: str = "active", ts: datetime = T0) -> FlowIndexEntry:
    return FlowIndexEntry(flow_id=flow_id, status=status, timestamp=ts, labels={"k": "v"})


def test_cursor_round_trips_the_exact_position() -> None:  # API-23
    for e in (entry("wf-1"), entry("wf-2", "completed"), entry("wf-3", "failed")):
        cursor = encode_cursor(e)
        assert "=" not in cursor  # unpadded base64url
        assert decode_cursor(cursor) == e.cursor
        assert decode_cursor(cursor).group == (0 if e.status == "active" else 1)


@pytest.mark.parametrize("text", ["!!!", "e30", "bm90IGpzb24"])
def test_undecodable_cursors_are_a_400(text: str) -> None:
    assert problem(lambda: decode_cursor(text)).startswith("invalid flow cursor: ")


def test_index_query_validates_in_order_and_translates() -> None:  # API-23
    q = index_query(
        FlowQuery(
            id_prefix="wf-",
            labels={"k": "v"},
            statuses=["failed", "active", "failed"],
            limit=10,
            sort="recent_desc",
            cursor=encode_cursor(entry("wf-9")),
        ),
        LIMITS,
    )
    assert q.id_prefix == "wf-" and q.labels == {"k": "v"}
    assert q.statuses == ("failed", "active")  # duplicates dropped, order kept
    assert q.descending and q.limit == 10
    assert q.after == entry("wf-9").cursor
    assert not index_query(FlowQuery(sort="recent_asc"), LIMITS).descending
    bad = [
        (FlowQuery(id_prefix="WF!"), "Invalid ID prefix"),
        (FlowQuery(labels={"": "v"}), "Invalid labels"),
        (FlowQuery(labels={"k": ""}), "Invalid labels"),
        (FlowQuery(statuses=["running"]), "Invalid statuses"),
        (FlowQuery(sort="oldest"), "Invalid sort"),
        (FlowQuery(limit=11), "Limit must be between 0 and 10"),
        (FlowQuery(limit=-1), "Limit must be between 0 and 10"),
        (FlowQuery(cursor="!!!"), "invalid flow cursor"),
    ]
    for query, message in bad:
        assert problem(lambda query=query: index_query(query, LIMITS)).startswith(message)


def test_query_response_pages_with_one_extra_entry() -> None:  # API-23
    entries = [entry(f"wf-{i}") for i in range(3)]
    page = query_response(entries, total=7, limit=2)
    assert [f.id for f in page.flows] == ["wf-0", "wf-1"]
    assert page.count == 2 and page.total == 7 and page.has_more
    assert decode_cursor(page.next_cursor) == entries[1].cursor
    last = query_response(entries[:2], total=2, limit=2)
    assert not last.has_more and last.next_cursor == "" and last.count == 2
    unlimited = query_response(entries, total=3, limit=0)
    assert unlimited.count == 3 and not unlimited.has_more


def test_summaries_carry_id_status_and_time() -> None:
    [summary] = summaries([entry("wf", "completed")])
    assert (summary.id, summary.status, summary.timestamp) == ("wf", "completed", T0)
