"""The store-independent rules of argyll.engine.store.index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_helpers import deactivated, event, started

import argyll.engine.store as store_package
from argyll.engine.store import FlowIndexEntry, FlowIndexQuery, IndexCursor, NewEvent
from argyll.engine.store.index import (
    IndexChange,
    aggregate_key,
    commit_ns,
    from_micros,
    from_ns,
    index_change,
    is_child,
    order_key,
    query_entries,
    to_micros,
    to_ns,
)
from argyll.errors import StoreError


def test_package_exports() -> None:
    assert store_package.__all__ == sorted(store_package.__all__)
    for name in store_package.__all__:
        assert hasattr(store_package, name)


def test_aggregate_keys() -> None:
    assert aggregate_key(("flow", "a:b:c")) == "flow\x1fa:b:c"
    assert aggregate_key(("catalog",)) == "catalog"
    for bad in [(), ("flow", "a\x1fb")]:
        with pytest.raises(ValueError):
            aggregate_key(bad)


@given(st.datetimes(timezones=st.just(UTC)))
def test_microsecond_round_trip(ts: datetime) -> None:
    assert from_micros(to_micros(ts)) == ts
    assert from_ns(to_ns(ts)) == ts


def test_timestamps_of_other_zones_and_naive_ones() -> None:
    aware = datetime(2026, 5, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3)))
    assert from_micros(to_micros(aware)) == aware
    assert from_micros(to_micros(aware)).tzinfo is UTC
    naive = datetime(2026, 5, 1, 12, 0, 0, 5)
    assert from_micros(to_micros(naive)) == naive.replace(tzinfo=UTC)


@given(st.integers(min_value=0, max_value=2**62))
def test_commit_time_is_whole_microseconds_and_round_trips(clock_ns: int) -> None:
    ns = commit_ns(clock_ns, 0)
    assert ns % 1000 == 0 and clock_ns - 1000 < ns <= clock_ns
    entry = FlowIndexEntry("f", "active", from_ns(ns))
    assert entry.cursor == IndexCursor(0, ns, "f")  # what API-23 cursors carry
    assert commit_ns(clock_ns, ns + 5000) == ns + 5000  # never backwards


def test_index_changes() -> None:
    assert index_change(("flow", "f"), event("step_started")) is None
    assert index_change(("flow", "f"), started("f", {"a": "b"})) == IndexChange(
        "f", "active", {"a": "b"}
    )
    assert index_change(("flow", "f"), started("f")) == IndexChange("f", "active", {})
    assert index_change(("flow", "f"), deactivated("f", "failed")) == IndexChange(
        "f", "failed", None
    )
    # flow_id defaults to the flow aggregate's ID
    no_id = NewEvent("flow_started", b"{}", datetime.now(UTC))
    assert index_change(("flow", "g"), no_id) == IndexChange("g", "active", {})


@pytest.mark.parametrize(
    ("aggregate", "new"),
    [
        (("flow", "f"), NewEvent("flow_started", b"{", datetime.now(UTC))),
        (("flow", "f"), NewEvent("flow_started", b'{"labels": {"a": 1}}', datetime.now(UTC))),
        (("catalog",), NewEvent("flow_started", b"{}", datetime.now(UTC))),
        (("flow", "f"), NewEvent("flow_deactivated", b'{"flow_id": "f"}', datetime.now(UTC))),
        (("flow", "f"), deactivated("f", "active")),
    ],
)
def test_unindexable_events(aggregate: tuple[str, ...], new: NewEvent) -> None:
    with pytest.raises(StoreError, match="cannot index"):
        index_change(aggregate, new)


def test_changes_compose() -> None:
    start = IndexChange("f", "active", {"a": "b"})
    stop = IndexChange("f", "completed", None)
    assert start.then(stop) == IndexChange("f", "completed", {"a": "b"})
    assert stop.then(start) == start


def test_children() -> None:
    assert is_child("p:step:token") and not is_child("p")


def test_order_key_and_cursor_positions() -> None:
    early = order_key(1, 10, "b", descending=False)
    late = order_key(1, 20, "a", descending=False)
    assert order_key(0, 99, "z", False) < early < late
    assert order_key(1, 20, "a", True) < order_key(1, 10, "b", True)
    assert order_key(1, 10, "a", True) < order_key(1, 10, "b", True)  # ties by ID


def test_query_entries_pages_after_a_cursor() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [
        FlowIndexEntry("c", "active", t0),
        FlowIndexEntry("a", "completed", t0 + timedelta(seconds=1)),
        FlowIndexEntry("b", "failed", t0 + timedelta(seconds=1)),
        FlowIndexEntry("d:x:y", "active", t0),
    ]
    page, total = query_entries(entries, FlowIndexQuery(limit=2))
    assert ([e.flow_id for e in page], total) == (["c", "a"], 3)
    page, total = query_entries(entries, FlowIndexQuery(after=page[-1].cursor))
    assert ([e.flow_id for e in page], total) == (["b"], 3)
