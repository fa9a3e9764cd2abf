"""Conversions between JSON values and Ale values (SCRIPT-2, SCRIPT-3).

JSON values are already Ale values (vectors are lists, objects are dicts with
string keys), so inputs pass through unchanged unless they hold something that
is not JSON, which becomes its ``str``. Results are converted as the reference
``aleToJSON`` does, with two documented leniencies: lazy sequences are realised
(an empty one is null) and integers beyond int64 become decimal strings.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .budget import AleError, AleLimit, tick
from .values import Cons, FunctionType, Keyword, LazySeq, iter_seq, to_str

__all__ = ["from_json", "to_json"]

_INT64 = 1 << 63


def from_json(value: Any) -> Any:
    """Return ``value`` as an Ale value, copying only where something is not JSON."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list:
        converted = [from_json(item) for item in value]
        if all(a is b for a, b in zip(converted, value, strict=True)):
            return value
        return converted
    if kind is tuple:
        return [from_json(item) for item in value]
    if kind is dict:
        changed = False
        result: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = key if type(key) is str else str(key)
            new_item = from_json(item)
            changed = changed or new_key is not key or new_item is not item
            result[new_key] = new_item
        return result if changed else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


class _Caps:
    __slots__ = ("items", "max_depth")

    def __init__(self, max_depth: int, max_items: int) -> None:
        self.max_depth = max_depth
        self.items = max_items


def to_json(value: Any, max_depth: int, max_items: int) -> Any:
    """Convert an Ale result to a JSON-compatible value (SCRIPT-3).

    Raises:
        AleLimit: The result is nested deeper than ``max_depth`` or holds more
            than ``max_items`` values.
        AleError: The result holds a NaN or infinite float.
    """
    return _convert(value, _Caps(max_depth, max_items), 0)


def _convert(value: Any, caps: _Caps, depth: int) -> Any:
    caps.items -= 1
    if caps.items < 0:
        raise AleLimit("size")
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return value if -_INT64 <= value < _INT64 else str(value)
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            raise AleError(f"result is not a valid JSON number: {to_str(value)}")
        return value
    if kind is Keyword:
        return value.name
    if depth >= caps.max_depth:
        raise AleLimit("depth")
    if kind is list:
        return [_convert(item, caps, depth + 1) for item in value]
    if kind is dict:
        return {_key(key): _convert(item, caps, depth + 1) for key, item in value.items()}
    if kind is Cons:
        if value.size < 0:
            return to_str(value)
        return [_convert(item, caps, depth + 1) for item in iter_seq(value)]
    if kind is LazySeq:
        items = []
        for item in iter_seq(value):
            tick()
            items.append(_convert(item, caps, depth + 1))
        return items or None
    if kind is Fraction or kind is FunctionType:
        return to_str(value)
    return to_str(value)


def _key(key: Any) -> str:
    if type(key) is str:
        return key
    if type(key) is Keyword:
        return key.name
    return to_str(key)
