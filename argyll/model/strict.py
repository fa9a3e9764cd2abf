"""Strict decoding of the bodies a user writes: unknown fields are errors (CONV-6).

The model structs stay lenient, because the same types also read what
machines write (stored events, engine answers read by the SDK). Request
bodies are decoded into the target type and, when that succeeds, decoded
again to builtins and walked against the type for keys it does not declare. The error names the
dotted path of the first unknown key (keys in document order):
``unknown field: atributes``, ``unknown field: attributes.n.defualt``.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

__all__ = ["decode_strict", "unknown_field"]

T = TypeVar("T")

_decoder = msgspec.json.Decoder()


class _Shape:
    """What a JSON value at one position may contain: struct fields, map or list items."""

    __slots__ = ("fields", "items", "values")

    def __init__(self) -> None:
        self.fields: dict[str, _Shape] | None = None  # a struct: its wire names
        self.values: _Shape | None = None  # a map of str -> ...
        self.items: _Shape | None = None  # a list of ...


_OPEN = _Shape()  # scalars and Any: nothing to check


def _shape(info: mi.Type, seen: dict[type, _Shape]) -> _Shape:
    if isinstance(info, mi.UnionType):
        nested = [t for t in info.types if not isinstance(t, mi.NoneType)]
        return _shape(nested[0], seen) if len(nested) == 1 else _OPEN
    if isinstance(info, mi.StructType):
        if info.cls in seen:
            return seen[info.cls]
        shape = seen[info.cls] = _Shape()
        shape.fields = {f.encode_name: _shape(f.type, seen) for f in info.fields}
        return shape
    if isinstance(info, mi.DictType):
        values = _shape(info.value_type, seen)
        if values is _OPEN:
            return _OPEN
        shape = _Shape()
        shape.values = values
        return shape
    if isinstance(info, mi.ListType):
        items = _shape(info.item_type, seen)
        if items is _OPEN:
            return _OPEN
        shape = _Shape()
        shape.items = items
        return shape
    return _OPEN


@cache
def _shape_of(type_: Any) -> _Shape:
    return _shape(mi.type_info(type_), {})


def _walk(value: Any, shape: _Shape, path: str) -> str | None:
    if shape.fields is not None and type(value) is dict:
        for key, child in value.items():
            sub = shape.fields.get(key)
            here = f"{path}.{key}" if path else key
            if sub is None:
                return here
            if sub is not _OPEN and (found := _walk(child, sub, here)) is not None:
                return found
    elif shape.values is not None and type(value) is dict:
        for key, child in value.items():
            here = f"{path}.{key}" if path else key
            if (found := _walk(child, shape.values, here)) is not None:
                return found
    elif shape.items is not None and type(value) is list:
        for i, child in enumerate(value):
            if (found := _walk(child, shape.items, f"{path}[{i}]")) is not None:
                return found
    return None


def unknown_field(data: Any, type_: Any) -> str | None:
    """The dotted path of the first key in ``data`` that ``type_`` does not declare."""
    return _walk(data, _shape_of(type_), "")


def decode_strict(body: bytes, type_: type[T]) -> T:
    """Decode JSON into ``type_``, rejecting unknown fields at any depth.

    Raises:
        msgspec.DecodeError: The body is not JSON.
        msgspec.ValidationError: ``unknown field: <path>``, a field has the
            wrong JSON type (msgspec's text), or ``JSON nested too deeply``.
    """
    try:
        # Typed first: wrong types and malformed JSON fail fast (also deep
        # nesting where no ``Any`` is expected); then the keys are walked.
        value = msgspec.json.decode(body, type=type_)
        path = unknown_field(_decoder.decode(body), type_)
    except RecursionError:
        raise msgspec.ValidationError("JSON nested too deeply") from None
    if path is not None:
        raise msgspec.ValidationError(f"unknown field: {path}")
    return value
