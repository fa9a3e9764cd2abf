"""Property test: random concurrent appends keep logs and the flow index true to a model."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import (
    FakeClock,
    deactivated,
    event,
    make_store,
    one_loop,
    pg_schema,
    require_postgres,
    run,
    started,
)

from argyll.engine.store import (
    AppendBatch,
    ConcurrencyError,
    EventStore,
    FlowIndexQuery,
    NewEvent,
    StoredEvent,
)

FLOWS = ["a", "ab", "b", "a:s:1", "b:s:2"]  # two children (DATA-5)
LABELS = st.dictionaries(st.sampled_from(["env", "team"]), st.sampled_from(["x", "y"]))


@st.composite
def operation(draw: st.DrawFn) -> tuple[str, NewEvent]:
    flow_id = draw(st.sampled_from(FLOWS))
    kind = draw(st.sampled_from(["start", "deactivate", "other"]))
    if kind == "start":
        return flow_id, started(flow_id, draw(LABELS))
    if kind == "deactivate":
        return flow_id, deactivated(flow_id, draw(st.sampled_from(["completed", "failed"])))
    return flow_id, event()


# A round is appended concurrently (one coroutine per operation, all expecting
# the model's next sequence): per flow exactly one wins, the rest conflict.
ROUNDS = st.lists(st.lists(operation(), min_size=1, max_size=6), min_size=1, max_size=8)
QUERIES = st.builds(
    FlowIndexQuery,
    id_prefix=st.sampled_from(["", "a", "ab", "c"]),
    labels=LABELS,
    statuses=st.lists(st.sampled_from(["active", "completed", "failed"]), max_size=2).map(tuple),
    descending=st.booleans(),
)


@dataclass
class Model:
    sequences: dict[str, int] = field(default_factory=dict)
    index: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def apply(self, flow_id: str, new: NewEvent) -> None:
        self.sequences[flow_id] = self.sequences.get(flow_id, 0) + 1
        payload = json.loads(new.data)
        if new.type == "flow_started":
            self.index[flow_id] = ("active", payload.get("labels", {}))
        elif new.type == "flow_deactivated":
            # A deactivation keeps the labels (none for a flow never started).
            self.index[flow_id] = (payload["status"], self.index.get(flow_id, ("", {}))[1])

    def matches(self, query: FlowIndexQuery) -> set[str]:
        return {
            f
            for f, (status, labels) in self.index.items()
            if ":" not in f
            and f.startswith(query.id_prefix)
            and (not query.statuses or status in query.statuses)
            and all(labels.get(k) == v for k, v in query.labels.items())
        }


async def check(
    store: EventStore, rounds: list[list[tuple[str, NewEvent]]], query: FlowIndexQuery
) -> None:
    model = Model()
    for ops in rounds:
        expected = {f: model.sequences.get(f, 0) for f, _ in ops}
        results = await asyncio.gather(
            *(store.append(AppendBatch(("flow", f), expected[f], [e])) for f, e in ops),
            return_exceptions=True,
        )
        for flow_id in expected:
            won = [
                (e, r)
                for (f, e), r in zip(ops, results, strict=True)
                if f == flow_id and not isinstance(r, BaseException)
            ]
            lost = [r for (f, _), r in zip(ops, results, strict=True) if f == flow_id]
            assert len(won) == 1, results
            assert all(isinstance(r, ConcurrencyError | list) for r in lost)
            new, stored = won[0]
            assert isinstance(stored, list) and isinstance(stored[0], StoredEvent)
            assert stored[0].sequence == expected[flow_id]
            model.apply(flow_id, new)

    for flow_id in FLOWS:
        events = await store.read(("flow", flow_id))
        assert [e.sequence for e in events] == list(range(model.sequences.get(flow_id, 0)))
        entry = await store.flow_entry(flow_id)
        if flow_id in model.index:
            assert entry is not None
            assert (entry.status, entry.labels) == model.index[flow_id]
        else:
            assert entry is None
    assert await store.active_flow_ids() == sorted(
        f for f, (status, _) in model.index.items() if status == "active"
    )
    entries, total = await store.query_flows(query)
    assert {e.flow_id for e in entries} == model.matches(query)
    assert total == len(entries)
    keys = [
        (e.group, -e.cursor.recent_ns if query.descending else e.cursor.recent_ns, e.flow_id)
        for e in entries
    ]
    assert keys == sorted(keys)


@pytest.mark.parametrize(("kind", "examples"), [("memory", 150), ("sqlite", 30), ("postgres", 15)])
def test_index_matches_model(kind: str, examples: int) -> None:
    if kind == "postgres":
        require_postgres()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(rounds=ROUNDS, query=QUERIES)
    def prop(rounds: list[list[tuple[str, NewEvent]]], query: FlowIndexQuery) -> None:
        with tempfile.TemporaryDirectory() as tmp, one_loop(), contextlib.ExitStack() as stack:
            url = stack.enter_context(pg_schema()) if kind == "postgres" else ""

            async def main() -> None:
                store = make_store(kind, Path(tmp), FakeClock(), url)
                await store.open()
                try:
                    await check(store, rounds, query)
                finally:
                    await store.close()

            run(main())

    prop()
