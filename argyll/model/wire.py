"""``Wire``: the base of every wire struct, readable like the JSON dict it encodes.

The original SDK handed out plain dicts (``state["status"]``,
``state["attributes"]["n"][0]["value"]``, ``step.to_dict()``). Our wire
types are typed msgspec structs (``state.status``, ``state.attributes``);
this base keeps the dict-style code working: item access by field name
answers the field's JSON value (nested dicts and lists, enums as their
strings, timestamps as RFC 3339 strings), so it reads exactly like the
JSON; ``get``, ``keys`` and ``in`` work too, and ``to_dict()`` gives the
whole JSON object (unset fields omitted). Adding methods costs nothing at
encode or decode time.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["FrozenWire", "Wire", "WireMethods"]


class WireMethods:
    """The dict-like read methods; mixed into ``Wire`` and ``FrozenWire``."""

    __slots__ = ()
    __struct_fields__: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this value as plain builtins (what the engine sends)."""
        value = msgspec.to_builtins(self)
        assert isinstance(value, dict)
        return value

    def __getitem__(self, key: str) -> Any:
        """The JSON value of the field ``key``; ``KeyError`` when there is no such field."""
        if key in self.__struct_fields__:
            return msgspec.to_builtins(getattr(self, key))
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value of the field ``key``, or ``default`` when there is no such field."""
        if key in self.__struct_fields__:
            return msgspec.to_builtins(getattr(self, key))
        return default

    def keys(self) -> list[str]:
        """The field names, in declaration order (so ``dict(value)`` works)."""
        return list(self.__struct_fields__)

    def __contains__(self, key: object) -> bool:
        return key in self.__struct_fields__


class Wire(msgspec.Struct, WireMethods):
    """A msgspec struct that also answers the read side of a ``dict``."""


class FrozenWire(msgspec.Struct, WireMethods, frozen=True):
    """A frozen ``Wire`` (hashable, immutable)."""
