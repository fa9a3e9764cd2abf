"""Watching one flow over the engine's WebSocket (SPEC 13), minus the I/O.

``FlowWatch`` speaks the protocol for ``FlowClient.watch`` (websockets'
sync client) and ``AsyncFlowClient.watch`` (its asyncio client): it builds
the subscription, turns each server message into what the iterator yields
(first a ``FlowSnapshot`` of the current state, then ``FlowEvent``s), and
says when the watch is over (the flow is terminal, or deactivated when asked).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from argyll.errors import FlowError
from argyll.sdk.results import FlowEvent, FlowSnapshot, FlowState

__all__ = ["FlowWatch", "WatchItem"]

#: What ``watch()`` yields.
WatchItem = FlowSnapshot | FlowEvent

_SUB_ID = "argyll-sdk-watch"


def _null() -> msgspec.Raw:
    return msgspec.Raw(b"null")


class _Item(msgspec.Struct):
    id: list[str]
    data: msgspec.Raw = msgspec.field(default_factory=_null)
    sequence: int = 0


class _Message(msgspec.Struct):
    """Any server message (WS-4, WS-5, WS-7, errors); unknown fields ignored."""

    type: str
    sub_id: str = ""
    items: list[_Item] | None = None
    data: dict[str, Any] | None = None
    id: list[str] | None = None
    timestamp: int = 0
    sequence: int = 0
    error: str = ""


_decode = msgspec.json.Decoder(_Message).decode


class FlowWatch:
    """The state of one flow watch.

    Args:
        flow_id: The flow to watch.
        deactivated: End at ``flow_deactivated`` (no work active or
            compensating) instead of at ``flow_completed``/``flow_failed``.
    """

    def __init__(self, flow_id: str, *, deactivated: bool = False) -> None:
        self.flow_id = flow_id
        self.deactivated = deactivated
        self.done = False
        self._next_sequence = 0

    def subscribe(self) -> str:
        """The ``subscribe`` message: this flow's events, with its current state (WS-2)."""
        data = {
            "sub_id": _SUB_ID,
            "aggregate_ids": [["flow", self.flow_id]],
            "include_state": True,
        }
        return msgspec.json.encode({"type": "subscribe", "data": data}).decode()

    def _finished(self, state: FlowState) -> bool:
        return state.terminal and (not self.deactivated or state.deactivated)

    def feed(self, raw: str | bytes) -> list[WatchItem]:
        """What to yield for one server message; sets ``done`` after the last one.

        Raises:
            FlowError: The server answered an error message.
        """
        try:
            message = _decode(raw)
        except msgspec.DecodeError:
            return []
        if message.type == "error":
            raise FlowError(f"watching flow {self.flow_id}: {message.error or 'server error'}")
        if message.sub_id != _SUB_ID:
            return []
        if message.type == "subscribed":
            return self._snapshot(message.items or [])
        if message.type == "unsubscribed" or message.id != ["flow", self.flow_id]:
            return []
        if message.sequence < self._next_sequence:
            return []  # already in the snapshot (WS-6 makes this rare)
        self._next_sequence = message.sequence + 1
        event = FlowEvent(
            type=message.type,
            sequence=message.sequence,
            timestamp=datetime.fromtimestamp(message.timestamp / 1000, UTC),
            aggregate_id=list(message.id),
            data=message.data or {},
        )
        if self.deactivated:
            self.done = event.type == "flow_deactivated"
        else:
            self.done = event.terminal
        return [event]

    def _snapshot(self, items: list[_Item]) -> list[WatchItem]:
        for item in items:
            if item.id == ["flow", self.flow_id] and bytes(item.data) != b"null":
                state = msgspec.json.decode(item.data, type=FlowState)
                self._next_sequence = item.sequence
                self.done = self._finished(state)
                return [FlowSnapshot(state=state, sequence=item.sequence)]
        return []  # the flow does not exist yet: its flow_started event will come
