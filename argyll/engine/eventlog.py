"""Translation between payload structs and stored events.

Payloads are encoded once with msgspec when raised and decoded with a cached
typed decoder per event type when read back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from argyll.engine.store.base import NewEvent, StoredEvent
from argyll.model.events import EVENT_PAYLOADS, Event, Payload

__all__ = ["decode_payload", "encode_payload", "rest_event", "rest_events"]

_encoder = msgspec.json.Encoder()
_decoders: dict[str, msgspec.json.Decoder[Any]] = {
    name: msgspec.json.Decoder(cls) for name, cls in EVENT_PAYLOADS.items()
}
_raw_decoder = msgspec.json.Decoder()


def encode_payload(payload: Payload, timestamp: datetime) -> NewEvent:
    """A new event for the store from a payload raised at ``timestamp``."""
    return NewEvent(type=type(payload).TYPE, data=_encoder.encode(payload), timestamp=timestamp)


def decode_payload(event: StoredEvent) -> Payload:
    """The typed payload of a stored event."""
    decoder = _decoders.get(event.type)
    if decoder is None:
        raise ValueError(f"unknown event type: {event.type}")
    payload: Payload = decoder.decode(event.data)
    return payload


def rest_event(event: StoredEvent) -> Event:
    """The REST form of a stored event (EVT-2); the payload is passed through raw."""
    return Event(
        sequence=event.sequence,
        timestamp=event.timestamp,
        type=event.type,
        aggregate_id=list(event.aggregate_id),
        data=msgspec.Raw(event.data),
    )


def rest_events(events: list[StoredEvent]) -> dict[str, Any]:
    """``{"events": [...], "count": n}`` (API-4, API-6, API-26)."""
    return {"events": [rest_event(e) for e in events], "count": len(events)}
