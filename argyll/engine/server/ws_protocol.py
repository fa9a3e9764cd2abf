"""The WebSocket wire protocol as data (SPEC 13): client messages, replies, envelopes.

No I/O: decoding what clients send (WS-2), encoding what the server sends
(WS-4, WS-5, WS-7 and error replies) and normalizing subscription prefixes
(WS-3). ``websocket`` does the sending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from argyll.engine.bus import AggregateId, StoredEvent

__all__ = [
    "Item",
    "Subscribe",
    "Unsubscribe",
    "covering",
    "decode_message",
    "encode_state",
    "error_message",
    "event_parts",
    "subscribed_message",
    "unix_ms",
    "unsubscribed_message",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MS: Final = timedelta(milliseconds=1)
_encode = msgspec.json.Encoder().encode

#: Any JSON value (a message that is not an object is the caller's to reject).
decode_message = msgspec.json.Decoder().decode


class Subscribe(msgspec.Struct, forbid_unknown_fields=False):
    """``subscribe`` data (WS-2); unknown fields are ignored, wrong types rejected."""

    sub_id: str = ""
    aggregate_ids: list[list[str]] | None = None
    event_types: list[str] | None = None
    include_state: bool = False


class Unsubscribe(msgspec.Struct, forbid_unknown_fields=False):
    """``unsubscribe`` data (WS-2)."""

    sub_id: str = ""


class Item(msgspec.Struct):
    """One aggregate's state in a ``subscribed`` reply (WS-4)."""

    id: list[str]
    data: msgspec.Raw
    """The projection, encoded when its sequence was read."""
    sequence: int
    """The sequence of the aggregate's next event."""


class _Subscribed(msgspec.Struct, kw_only=True):
    type: str = "subscribed"
    sub_id: str
    items: list[Item]


def subscribed_message(sub_id: str, items: list[Item]) -> str:
    """``{"type": "subscribed", "sub_id", "items"}`` (WS-4; ``items`` never null)."""
    return _encode(_Subscribed(sub_id=sub_id, items=items)).decode()


def unsubscribed_message(sub_id: str) -> str:
    """``{"type": "unsubscribed", "sub_id"}`` (WS-7)."""
    return _encode({"type": "unsubscribed", "sub_id": sub_id}).decode()


def error_message(text: str) -> str:
    """``{"type": "error", "error"}``: the answer to a message the server cannot use."""
    return _encode({"type": "error", "error": text}).decode()


def encode_state(value: Any) -> bytes:
    """A projection as JSON, for :class:`Item` ``data``."""
    return _encode(value)


def unix_ms(ts: datetime) -> int:
    """WS-5 ``timestamp``: whole Unix milliseconds (naive times are UTC)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _MS


def event_parts(event: StoredEvent) -> tuple[str, str]:
    """The WS-5 envelope around the ``sub_id`` value, shared by every subscription.

    ``head + <sub_id as JSON> + tail`` is the whole message; the payload is
    passed through as stored, never re-encoded.
    """
    head = '{"type":' + _encode(event.type).decode() + ',"sub_id":'
    tail = (
        ',"data":'
        + event.data.decode()
        + ',"id":'
        + _encode(event.aggregate_id).decode()
        + f',"timestamp":{unix_ms(event.timestamp)},"sequence":{event.sequence}}}'
    )
    return head, tail


def covering(ids: list[AggregateId]) -> tuple[AggregateId, ...]:
    """WS-3 prefixes without those another prefix already covers (``()`` = all).

    With no prefix inside another, an event matches at most one prefix of a
    subscription, so a prefix index never delivers it twice.
    """
    if not ids:
        return ((),)
    kept: list[AggregateId] = []
    for agg in sorted(dict.fromkeys(ids), key=len):
        if not any(agg[: len(k)] == k for k in kept):
            kept.append(agg)
    return tuple(kept)
