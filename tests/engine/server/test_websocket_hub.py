"""The WebSocket hub in-process, with commits placed exactly inside the snapshot window.

A fake socket stands in for uvicorn; events are committed to an in-memory
store and published on the bus the way the runner does. This pins down the
races an end-to-end test can only sample: a commit published while a flow
snapshot is being read, one committed before but published after it (WS-4,
WS-5, WS-6), and a client that stops reading (WS-8, slow consumers).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

import argyll.engine.server.websocket as websocket
from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.eventlog import encode_payload
from argyll.engine.server.websocket import WebSocketHub
from argyll.engine.server.ws_protocol import covering, event_parts, unix_ms
from argyll.engine.store import MemoryStore
from argyll.engine.store.base import AggregateId, AppendBatch, StoredEvent
from argyll.model import events as ev
from argyll.model.plan import ExecutionPlan

FLOW = "wf-1"
AGG: AggregateId = ("flow", FLOW)


class FakeSocket:
    """The part of starlette's ``WebSocket`` the hub uses."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.blocked = False
        self.hub: WebSocketHub | None = None
        self.closed: tuple[int, str] | None = None
        self.closed_event = asyncio.Event()

    async def accept(self) -> None:
        pass

    async def receive(self) -> dict[str, Any]:
        return await self.inbound.get()

    async def send(self, message: dict[str, Any]) -> None:
        if self.blocked:
            await asyncio.Event().wait()  # a client that never reads
        self.outbound.put_nowait(json.loads(message["text"]))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)
        self.closed_event.set()

    def say(self, kind: str, **data: Any) -> None:
        text = json.dumps({"type": kind, "data": data})
        self.inbound.put_nowait({"type": "websocket.receive", "text": text})

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.outbound.get(), 5)

    async def wait_closed(self) -> tuple[int, str] | None:
        await asyncio.wait_for(self.closed_event.wait(), 5)
        return self.closed


# Per engine: the test is this aggregate's only writer.
_next_seq: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


async def commit(engine: Engine, payloads: list[ev.Payload], publish: bool = True) -> list[Any]:
    """Append to the flow like the runner does; publish unless told not to (yet)."""
    seq = _next_seq.get(engine, 0)
    _next_seq[engine] = seq + len(payloads)
    now = engine.clock.now()
    stored = await engine.store.append(
        AppendBatch(AGG, seq, [encode_payload(p, now) for p in payloads])
    )
    if publish:
        engine.bus.publish(stored)
    return stored


def attr(value: int) -> ev.Payload:
    return ev.AttributeSet(flow_id=FLOW, step_id="a", key="k", value=value)


async def with_hub(body: Callable[[Engine, FakeSocket], Awaitable[None]]) -> None:
    engine = Engine(Config(data_dir=None), store=MemoryStore())
    await engine.start()
    await engine.health.stop()
    sock = FakeSocket()
    sock.hub = WebSocketHub(engine)
    task = asyncio.ensure_future(sock.hub.endpoint(sock))  # type: ignore[arg-type]
    try:
        await commit(engine, [ev.FlowStarted(flow_id=FLOW, plan=ExecutionPlan(), init={})])
        await commit(engine, [attr(1), attr(2)])
        await body(engine, sock)
    finally:
        sock.inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(task, 5)
        await engine.stop()


def values(state: dict[str, Any]) -> list[int]:
    return [a["value"] for a in state["attributes"].get("k", [])]


def patch_read(
    engine: Engine, before: Callable[[], Awaitable[None]], after: Callable[[], Awaitable[None]]
) -> None:
    real = engine.store.read

    async def read(aggregate_id: AggregateId, from_sequence: int = 0) -> list[StoredEvent]:
        if aggregate_id != AGG:
            return await real(aggregate_id, from_sequence)
        await before()
        events = await real(aggregate_id, from_sequence)
        await after()
        return events

    engine.store.read = read  # type: ignore[method-assign]


async def nothing() -> None:
    pass


def test_commit_published_during_the_read_is_not_sent_twice() -> None:  # WS-5, WS-6
    async def body(engine: Engine, sock: FakeSocket) -> None:
        patch_read(engine, lambda: commit(engine, [attr(3)]), nothing)  # type: ignore[arg-type,return-value]
        sock.say("subscribe", sub_id="s", aggregate_ids=[list(AGG)], include_state=True)
        reply = await sock.next()
        (item,) = reply["items"]
        assert item["sequence"] == 4 and values(item["data"]) == [1, 2, 3]
        await commit(engine, [attr(4)])
        event = await sock.next()  # attr(3) was held back and dropped as stale
        assert (event["sequence"], event["data"]["value"]) == (4, 4)

    asyncio.run(with_hub(body))


def test_commit_after_the_read_follows_the_reply() -> None:  # WS-4, WS-5
    async def body(engine: Engine, sock: FakeSocket) -> None:
        patch_read(engine, nothing, lambda: commit(engine, [attr(3)]))  # type: ignore[arg-type,return-value]
        sock.say("subscribe", sub_id="s", aggregate_ids=[list(AGG)], include_state=True)
        reply = await sock.next()
        (item,) = reply["items"]
        assert item["sequence"] == 3 and values(item["data"]) == [1, 2]
        event = await sock.next()
        assert (event["type"], event["sequence"], event["sub_id"]) == ("attribute_set", 3, "s")

    asyncio.run(with_hub(body))


def test_committed_but_published_late_is_suppressed() -> None:  # WS-6
    async def body(engine: Engine, sock: FakeSocket) -> None:
        late = await commit(engine, [attr(3)], publish=False)
        sock.say("subscribe", sub_id="s", aggregate_ids=[["flow"], list(AGG)], include_state=True)
        reply = await sock.next()
        assert [i["sequence"] for i in reply["items"]] == [0, 4]
        engine.bus.publish(late)
        await commit(engine, [attr(4)])
        event = await sock.next()
        assert event["sequence"] == 4

    asyncio.run(with_hub(body))


def test_a_client_that_stops_reading_is_closed_not_waited_for(  # WS-8
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(websocket, "MAX_QUEUED_MESSAGES", 50)
    monkeypatch.setattr(websocket, "SLOW_REASON", "slow consumer: more than 50 messages queued")

    async def body(engine: Engine, sock: FakeSocket) -> None:
        sock.say("subscribe", sub_id="s", aggregate_ids=[["flow"]])
        await sock.next()
        sock.blocked = True
        for i in range(60):  # every commit's publish returns at once; one of them overflows
            await commit(engine, [attr(10 + i)])
        assert await sock.wait_closed() == (1008, "slow consumer: more than 50 messages queued")
        assert sock.hub is not None and sock.hub.clients == 0

    asyncio.run(with_hub(body))


def test_a_stuck_write_times_out(monkeypatch: pytest.MonkeyPatch) -> None:  # WS-8
    monkeypatch.setattr(websocket, "WRITE_TIMEOUT_S", 0.1)

    async def body(engine: Engine, sock: FakeSocket) -> None:
        sock.say("subscribe", sub_id="s", aggregate_ids=[["flow"]])
        await sock.next()
        sock.blocked = True
        await commit(engine, [attr(3)])
        assert await sock.wait_closed() == (1008, "write timeout")

    asyncio.run(with_hub(body))


def test_overlapping_prefixes_and_type_filter_deliver_each_event_once() -> None:  # WS-3
    async def body(engine: Engine, sock: FakeSocket) -> None:
        sock.say(
            "subscribe",
            sub_id="s",
            aggregate_ids=[["flow"], list(AGG), ["flow"]],
            event_types=["attribute_set"],
        )
        await sock.next()
        await commit(engine, [ev.DispatchDeferred(flow_id=FLOW, step_id="a"), attr(3), attr(4)])
        first, second = await sock.next(), await sock.next()
        assert (first["sequence"], second["sequence"]) == (4, 5)  # seq 3 filtered by type
        sock.say("unsubscribe", sub_id="s")
        assert await sock.next() == {"type": "unsubscribed", "sub_id": "s"}

    asyncio.run(with_hub(body))


def test_subscriptions_per_connection_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(websocket, "MAX_SUBSCRIPTIONS", 2)

    async def body(engine: Engine, sock: FakeSocket) -> None:
        for sub_id in ("a", "b", "a", "c"):  # replacing "a" does not count twice
            sock.say("subscribe", sub_id=sub_id)
        replies = [await sock.next() for _ in range(4)]
        assert [r["type"] for r in replies] == ["subscribed"] * 3 + ["error"]
        assert "too many subscriptions: maximum is 2" in replies[3]["error"]

    asyncio.run(with_hub(body))


def test_covering_prefixes() -> None:  # WS-3
    assert covering([]) == ((),)
    assert covering([("flow", "a"), ("flow",), ("catalog",), ("flow",)]) == (
        ("flow",),
        ("catalog",),
    )
    assert covering([("flow", "a"), ("flow", "ab")]) == (("flow", "a"), ("flow", "ab"))
    assert covering([(), ("catalog",)]) == ((),)


def test_envelope_timestamp_is_unix_milliseconds() -> None:  # WS-5
    ts = datetime(2025, 1, 30, 15, 23, 45, 123999, tzinfo=UTC)
    assert unix_ms(ts) == 1738250625123
    event = StoredEvent(AGG, 7, ts, "flow_failed", b'{"flow_id":"wf-1","error":"x"}')
    head, tail = event_parts(event)
    assert json.loads(head + '"s"' + tail) == {
        "type": "flow_failed",
        "sub_id": "s",
        "data": {"flow_id": "wf-1", "error": "x"},
        "id": ["flow", "wf-1"],
        "timestamp": 1738250625123,
        "sequence": 7,
    }


def test_unknown_message_types_such_as_ping_are_ignored() -> None:  # WS-2
    async def body(engine: Engine, sock: FakeSocket) -> None:
        sock.say("ping")
        sock.say("dance", step="left")
        sock.say("subscribe", sub_id="after", aggregate_ids=[["catalog"]])
        reply = await sock.next()  # nothing was answered to ping or dance
        assert reply == {"type": "subscribed", "sub_id": "after", "items": []}
        assert sock.closed is None

    asyncio.run(with_hub(body))
