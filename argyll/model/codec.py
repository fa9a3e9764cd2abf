"""JSON encoding shared by SDK and engine: msgspec encoders and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

__all__ = [
    "ZERO_TIME",
    "decode",
    "dumps",
    "encoder",
    "is_zero_time",
    "json_equal",
    "loads",
    "to_builtins",
    "zero_time",
]

T = TypeVar("T")

#: The zero timestamp, serialized as ``"0001-01-01T00:00:00Z"`` (CONV-1).
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)

encoder = msgspec.json.Encoder()
_any_decoder = msgspec.json.Decoder()


def zero_time() -> datetime:
    """Default factory for always-serialized timestamps (CONV-1)."""
    return ZERO_TIME


def is_zero_time(ts: datetime) -> bool:
    """True for the zero timestamp ("not set")."""
    return ts == ZERO_TIME


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` (structs, dicts, lists, scalars) as compact JSON bytes."""
    return encoder.encode(obj)


def loads(data: bytes | str) -> Any:
    """Decode JSON into builtins."""
    return _any_decoder.decode(data)


def decode(data: bytes | str, type: type[T]) -> T:
    """Decode and validate JSON into ``type``; raises ``msgspec.ValidationError``."""
    return msgspec.json.decode(data, type=type)


def to_builtins(obj: Any) -> Any:
    """Convert structs to plain dicts/lists (timestamps become strings)."""
    return msgspec.to_builtins(obj)


def json_equal(a: Any, b: Any) -> bool:
    """Value equality for JSON values, treating ``5`` and ``5.0`` as equal (CONV-7).

    Booleans never equal numbers (``True != 1`` here, unlike Python).
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
