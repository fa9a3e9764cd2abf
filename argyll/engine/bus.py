"""In-process fan-out of committed events to subscribers (WebSocket, waiters)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from argyll.engine.store.base import AggregateId, StoredEvent

__all__ = ["AggregateId", "EventBus", "StoredEvent", "Subscriber"]

log = logging.getLogger("argyll.bus")

Subscriber = Callable[[list[StoredEvent]], None]


class EventBus:
    """Delivers each committed batch, in commit order, to every subscriber.

    Subscribers are called synchronously on the event loop and must not block:
    they enqueue and return (WS-5 needs commit order, not a slow engine).
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, events: list[StoredEvent]) -> None:
        """Deliver committed events; a failing subscriber is logged, never fatal."""
        for subscriber in list(self._subscribers):
            try:
                subscriber(events)
            except Exception:
                log.exception("event subscriber failed")
