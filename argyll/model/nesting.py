"""How deeply a JSON text nests, measured on its bytes before decoding.

Decoders and everything downstream of them (equality, encoding, SQLite
expressions) recurse per level; a body nested a thousand levels deep must be
refused before it reaches them. The check is linear, runs in C for ordinary
bodies (a bracket count), and only scans brackets for bodies that have more
openings than the limit.
"""

from __future__ import annotations

import operator
import re
from itertools import accumulate, repeat
from typing import Final

__all__ = ["DEFAULT_MAX_DEPTH", "json_depth", "too_deep"]

#: Default nesting limit of request bodies and step results (``JSON_MAX_DEPTH``).
DEFAULT_MAX_DEPTH: Final = 128

_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# Openings become 2, closings 0, everything else is dropped: the running sum
# of (byte - 1) is the depth after each bracket.
_BRACKETS: Final = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_OTHERS: Final = bytes(b for b in range(256) if b not in b"[{]}")


def json_depth(text: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (0 for a scalar).

    Brackets inside strings do not count. Malformed text gives some number;
    the decoder rejects it afterwards anyway.
    """
    stripped = _STRING.sub(b"", text) if b'"' in text else text
    brackets = stripped.translate(_BRACKETS, _OTHERS)
    if not brackets:
        return 0
    deepest: int = max(accumulate(map(operator.sub, brackets, repeat(1))))
    return max(0, deepest)


def too_deep(text: bytes, limit: int) -> bool:
    """True if ``text`` nests arrays and objects more than ``limit`` levels deep."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False  # cannot nest deeper than it has openings
    return json_depth(text) > limit
