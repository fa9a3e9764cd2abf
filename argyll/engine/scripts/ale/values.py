"""The Ale value model in Python, and the primitive operations on it.

| Ale          | Python                                                    |
| ------------ | --------------------------------------------------------- |
| null, ``()`` | ``None``                                                  |
| list, pair   | :class:`Cons` (``tail`` is a list, ``None`` or any value) |
| vector       | ``list`` (never mutated once built)                       |
| object       | ``dict`` (keyword and string keys both stored as ``str``) |
| keyword      | :class:`Keyword`                                          |
| integer      | ``int`` (capped at :data:`MAX_INT_BITS`)                  |
| ratio        | ``fractions.Fraction`` (whole results collapse to ``int``)|
| float        | ``float``                                                 |
| lazy seq     | :class:`LazySeq`                                          |
| procedure    | a Python function (prelude or compiled lambda)            |

Nothing here calls a method, ``format`` or ``getattr`` on a user value: every
operation dispatches on the exact type. Only ``False`` is false (SCRIPT-4).
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from ..gofmt import format_go_g
from .budget import AleError, alloc, tick

__all__ = [
    "MAX_INT_BITS",
    "Cons",
    "Keyword",
    "LazySeq",
    "ale_equal",
    "collect",
    "format_float",
    "iter_seq",
    "key_of",
    "make_list",
    "realize",
    "to_str",
    "type_name",
]

MAX_INT_BITS = 4096
"""Largest integer magnitude, in bits; stops factorial and power bombs."""

FunctionType = types.FunctionType


class Keyword:
    """An Ale keyword such as ``:kind``; as an object key it is stored as ``"kind"``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return type(other) is Keyword and other.name == self.name

    def __hash__(self) -> int:
        return hash(("kw", self.name))

    def __repr__(self) -> str:
        return f":{self.name}"


class Cons:
    """A list cell; ``size`` is the list length, or -1 for an improper pair."""

    __slots__ = ("head", "size", "tail")

    def __init__(self, head: Any, tail: Any) -> None:
        self.head = head
        self.tail = tail
        if tail is None:
            self.size = 1
        elif type(tail) is Cons and tail.size > 0:
            self.size = tail.size + 1
        else:
            self.size = -1


def make_list(items: list[Any] | tuple[Any, ...]) -> Cons | None:
    """Build a proper list from Python items (``None`` when empty)."""
    result: Cons | None = None
    for item in reversed(items):
        result = Cons(item, result)
    alloc(48 * len(items))
    return result


class _LazyBuffer:
    __slots__ = ("items", "source")

    def __init__(self, source: Iterator[Any]) -> None:
        self.items: list[Any] = []
        self.source: Iterator[Any] | None = source

    def fill(self, index: int) -> bool:
        """Realise elements up to ``index``; False when the sequence is shorter."""
        items = self.items
        while len(items) <= index:
            source = self.source
            if source is None:
                return False
            try:
                item = next(source)
            except StopIteration:
                self.source = None
                return False
            tick()
            alloc(8)
            items.append(item)
        return True


class LazySeq:
    """A memoising lazy sequence; ``rest`` shares the buffer (O(1))."""

    __slots__ = ("buf", "pos")

    def __init__(self, source: Iterator[Any] | _LazyBuffer, pos: int = 0) -> None:
        self.buf = source if type(source) is _LazyBuffer else _LazyBuffer(source)  # type: ignore[arg-type]
        self.pos = pos

    def first(self) -> tuple[bool, Any]:
        if self.buf.fill(self.pos):
            return True, self.buf.items[self.pos]
        return False, None

    def rest(self) -> LazySeq:
        return LazySeq(self.buf, self.pos + 1)

    def iterate(self) -> Iterator[Any]:
        buf = self.buf
        index = self.pos
        while buf.fill(index):
            yield buf.items[index]
            index += 1


def type_name(value: Any) -> str:
    """Ale's name for the type of ``value``, used in error messages."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is bool:
        return "boolean"
    if kind is int or kind is float or kind is Fraction:
        return "number"
    if kind is str:
        return "string"
    if kind is Keyword:
        return "keyword"
    if kind is list:
        return "vector"
    if kind is dict:
        return "object"
    if kind is Cons:
        return "list" if value.size > 0 else "pair"
    if kind is LazySeq:
        return "sequence"
    if kind is FunctionType:
        return "procedure"
    return "unknown"


def key_of(key: Any) -> Any:
    """Normalise an object key: keywords are stored by name."""
    if type(key) is Keyword:
        return key.name
    if type(key) is list or type(key) is dict or type(key) is LazySeq:
        raise AleError(f"got {type_name(key)}, expected a hashable key")
    return key


def key_value(key: Any) -> Any:
    """The Ale value of a stored object key (string keys read back as keywords)."""
    return Keyword(key) if type(key) is str else key


def iter_seq(value: Any) -> Iterator[Any]:
    """Iterate any Ale sequence, charging one tick per element."""
    kind = type(value)
    if value is None:
        return
    if kind is list:
        for item in value:
            tick()
            yield item
    elif kind is Cons:
        node: Any = value
        while type(node) is Cons:
            tick()
            yield node.head
            node = node.tail
        if node is not None:
            yield from iter_seq(node)
    elif kind is LazySeq:
        yield from value.iterate()
    elif kind is str:
        for char in value:
            tick()
            yield char
    elif kind is dict:
        for key, item in value.items():
            tick()
            yield Cons(key_value(key), item)
    else:
        raise AleError(f"got {type_name(value)}, expected sequence")


def realize(value: Any) -> list[Any]:
    """All elements of a sequence as a Python list, charged to the budget."""
    if type(value) is list:
        return value
    return collect(iter_seq(value))


def collect(items: Iterator[Any], into: list[Any] | None = None) -> list[Any]:
    """Append every item to a list, charging 8 bytes per slot as it grows."""
    result: list[Any] = [] if into is None else into
    alloc(56)
    for item in items:
        result.append(item)
        if len(result) & 1023 == 0:
            alloc(8192)
    return result


def ale_equal(left: Any, right: Any) -> bool:
    """Ale ``eq``: type-strict structural equality (``(eq 1 1.0)`` is false)."""
    if left is right:
        return True
    kind = type(left)
    if kind is not type(right):
        return False
    if kind is list:
        if len(left) != len(right):
            return False
        for a, b in zip(left, right, strict=True):
            tick()
            if not ale_equal(a, b):
                return False
        return True
    if kind is dict:
        if len(left) != len(right):
            return False
        for key, item in left.items():
            tick()
            if key not in right or not ale_equal(item, right[key]):
                return False
        return True
    if kind is Cons:
        while type(left) is Cons and type(right) is Cons:
            tick()
            if not ale_equal(left.head, right.head):
                return False
            left, right = left.tail, right.tail
        return ale_equal(left, right)
    if kind is LazySeq:
        return ale_equal(realize(left), realize(right))
    if kind is FunctionType:
        return False
    return bool(left == right)


def format_float(value: float) -> str:
    """Format a float like Go's Ale: ``15.0``, ``1.5``, ``1.2345675e+06``, ``+inf``."""
    if value.is_integer() and -(2**63) <= value < 2**63:
        return f"{int(value)}.0"
    return format_go_g(value).lower()


def _quote(text: str) -> str:
    out = ['"']
    for char in text:
        tick()
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def to_str(value: Any, quoted: bool = False) -> str:
    """Ale's printed form of a value (``str`` when ``quoted`` is false, ``str!`` else)."""
    kind = type(value)
    if kind is str:
        return _quote(value) if quoted else value
    if value is None:
        return "()"
    if kind is bool:
        return "#t" if value else "#f"
    if kind is int:
        return str(value)
    if kind is float:
        return format_float(value)
    if kind is Fraction:
        return f"{value.numerator}/{value.denominator}"
    if kind is Keyword:
        return ":" + str(value.name)
    if kind is list:
        return "[" + " ".join(to_str(item, True) for item in iter_seq(value)) + "]"
    if kind is dict:
        parts = []
        for key in sorted(value, key=lambda k: to_str(key_value(k))):
            tick()
            parts.append(to_str(key_value(key), True))
            parts.append(to_str(value[key], True))
        return "{" + " ".join(parts) + "}"
    if kind is Cons:
        if value.size < 0:
            return "(" + to_str(value.head, True) + " . " + to_str(value.tail, True) + ")"
        return "(" + " ".join(to_str(item, True) for item in iter_seq(value)) + ")"
    if kind is LazySeq:
        return "(" + " ".join(to_str(item, True) for item in iter_seq(value)) + ")"
    if kind is FunctionType:
        return "#<procedure>"
    return "#<unknown>"
