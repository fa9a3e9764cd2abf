"""The event bus: committed batches reach every subscriber in commit order."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from argyll.engine.bus import EventBus
from argyll.engine.store.base import StoredEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def event(seq: int, flow: str = "wf") -> StoredEvent:
    return StoredEvent(("flow", flow), seq, T0, "attribute_set", b"{}", position=seq + 1)


def test_every_subscriber_gets_each_batch_in_publish_order() -> None:
    bus = EventBus()
    first: list[list[int]] = []
    second: list[list[int]] = []
    bus.subscribe(lambda batch: first.append([e.sequence for e in batch]))
    bus.subscribe(lambda batch: second.append([e.sequence for e in batch]))
    bus.publish([event(0), event(1)])
    bus.publish([event(2)])
    assert first == second == [[0, 1], [2]]


def test_unsubscribe_stops_delivery_and_is_idempotent() -> None:
    bus = EventBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(lambda batch: seen.extend(e.sequence for e in batch))
    bus.publish([event(0)])
    unsubscribe()
    unsubscribe()
    bus.publish([event(1)])
    assert seen == [0]


def test_a_failing_subscriber_is_logged_and_the_others_still_get_the_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(_: list[StoredEvent]) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(lambda batch: seen.extend(e.sequence for e in batch))
    with caplog.at_level(logging.ERROR, logger="argyll.bus"):
        bus.publish([event(0)])
    assert seen == [0]
    assert "event subscriber failed" in caplog.text


def test_a_subscriber_may_unsubscribe_while_a_batch_is_delivered() -> None:
    bus = EventBus()
    seen: list[str] = []
    unsubscribes: list[object] = []

    def once(batch: list[StoredEvent]) -> None:
        seen.append("once")
        unsub = unsubscribes[0]
        assert callable(unsub)
        unsub()

    unsubscribes.append(bus.subscribe(once))
    bus.subscribe(lambda batch: seen.append("always"))
    bus.publish([event(0)])
    bus.publish([event(1)])
    assert seen == ["once", "always", "always"]
