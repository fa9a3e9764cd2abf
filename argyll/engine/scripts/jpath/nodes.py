"""JSONPath pieces jsonpath-ng lacks: RFC 9535 filters, selector lists, metered descendants.

These subclass ``jsonpath_ng.JSONPath`` so they compose with jsonpath-ng's
``Root``/``This``/``Child``/``Fields``/``Index``/``Slice``/``Wildcard``
nodes, which do the rest of the evaluation. Filter expressions are a small
tree of :class:`Expr` nodes evaluated against the current node (``@``) and
the query's root (``$``). Every visited node is charged to a per-evaluation
:class:`Meter` so a pathological query stops at the time budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from jsonpath_ng.jsonpath import DatumInContext, Fields, Index, JSONPath

from .iregexp import IRegexp

__all__ = [
    "NOTHING",
    "Compare",
    "Descend",
    "ExactField",
    "Expr",
    "Filter",
    "Function",
    "JPathLimit",
    "Literal",
    "Logical",
    "Meter",
    "Not",
    "Query",
    "Selectors",
    "metered",
]


class JPathLimit(Exception):
    """Evaluation ran past its time budget (``kind="time"``) or visited too many nodes."""

    def __init__(self, kind: str = "time") -> None:
        super().__init__(kind)
        self.kind = kind


class Meter:
    """Counts work and visited nodes; checks the clock every 256 units."""

    __slots__ = ("countdown", "deadline", "visits")

    def __init__(self, timeout: float, max_visits: int = 10_000_000) -> None:
        self.deadline = time.monotonic() + timeout
        self.countdown = 256
        self.visits = max_visits

    def charge(self, units: int = 1) -> None:
        """Charge ``units`` of work (regex steps, comparisons)."""
        self.countdown -= units
        if self.countdown <= 0:
            self.countdown = 256
            if time.monotonic() > self.deadline:
                raise JPathLimit("time")

    def visit(self) -> None:
        """Charge one visited node; too many visits is a size limit."""
        self.visits -= 1
        if self.visits < 0:
            raise JPathLimit("size")
        self.charge()


class _State(threading.local):
    meter: Meter | None = None


_state = _State()


def metered() -> Meter:
    """The meter of the evaluation running on this thread."""
    meter = _state.meter
    if meter is None:
        meter = Meter(3600.0)
    return meter


def set_meter(meter: Meter | None) -> None:
    _state.meter = meter


class _Nothing:
    """RFC 9535 "Nothing": the absence of a value (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "Nothing"


NOTHING: Any = _Nothing()


def _children(value: Any) -> list[tuple[JSONPath, Any]]:
    if isinstance(value, dict):
        return [(Fields(key), item) for key, item in value.items()]
    if isinstance(value, list):
        return [(Index(i), item) for i, item in enumerate(value)]
    return []


def _root(datum: DatumInContext) -> Any:
    while datum.context is not None:
        datum = datum.context
    return datum.value


class ExactField(JSONPath):
    """A member-name selector that never means wildcard (``$['*']``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find(self, datum: Any) -> list[DatumInContext]:
        datum = DatumInContext.wrap(datum)
        value = datum.value
        if isinstance(value, dict) and self.name in value:
            return [DatumInContext(value[self.name], path=Fields(self.name), context=datum)]
        return []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExactField) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("exact", self.name))


class Selectors(JSONPath):
    """A bracketed list of selectors: the concatenation of each one's results."""

    def __init__(self, selectors: list[JSONPath]) -> None:
        self.selectors = selectors

    def find(self, datum: Any) -> list[DatumInContext]:
        return [found for selector in self.selectors for found in selector.find(datum)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selectors) and other.selectors == self.selectors

    def __hash__(self) -> int:
        return hash(tuple(self.selectors))


class Descend(JSONPath):
    """``left..selector``: apply ``selector`` to each node of ``left`` and all its descendants."""

    def __init__(self, left: JSONPath, selector: JSONPath) -> None:
        self.left = left
        self.selector = selector

    def find(self, datum: Any) -> list[DatumInContext]:
        meter = metered()
        results: list[DatumInContext] = []
        for start in self.left.find(datum):
            stack = [start]
            while stack:
                node = stack.pop()
                meter.visit()
                results.extend(self.selector.find(node))
                children = [
                    DatumInContext(item, path=path, context=node)
                    for path, item in _children(node.value)
                ]
                stack.extend(reversed(children))
        return results

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Descend)
            and other.left == self.left
            and other.selector == self.selector
        )

    def __hash__(self) -> int:
        return hash(("descend", self.left, self.selector))


class Expr:
    """A filter expression node."""

    def evaluate(self, current: Any, root: Any) -> Any:
        raise NotImplementedError


class Filter(JSONPath):
    """``[?expr]``: the children of each node for which ``expr`` holds."""

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    def find(self, datum: Any) -> list[DatumInContext]:
        datum = DatumInContext.wrap(datum)
        meter = metered()
        root = _root(datum)
        results = []
        for path, item in _children(datum.value):
            meter.visit()
            if _truth(self.expr.evaluate(item, root)):
                results.append(DatumInContext(item, path=path, context=datum))
        return results

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other.expr is self.expr

    def __hash__(self) -> int:
        return id(self.expr)


class Literal(Expr):
    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, current: Any, root: Any) -> Any:
        return self.value


class Query(Expr):
    """An embedded ``@...`` or ``$...`` query; ``singular`` ones yield one value."""

    def __init__(self, path: JSONPath, relative: bool, singular: bool) -> None:
        self.path = path
        self.relative = relative
        self.singular = singular

    def nodes(self, current: Any, root: Any) -> list[Any]:
        base = current if self.relative else root
        return [match.value for match in self.path.find(base)]

    def evaluate(self, current: Any, root: Any) -> Any:
        found = self.nodes(current, root)
        if self.singular:
            return found[0] if found else NOTHING
        return found


class Logical(Expr):
    """``a && b`` / ``a || b`` over logical operands."""

    def __init__(self, op: str, operands: list[Expr]) -> None:
        self.is_and = op == "&&"
        self.operands = operands

    def evaluate(self, current: Any, root: Any) -> bool:
        for operand in self.operands:
            value = _truth(operand.evaluate(current, root))
            if value is not self.is_and:
                return value
        return self.is_and


class Not(Expr):
    def __init__(self, operand: Expr) -> None:
        self.operand = operand

    def evaluate(self, current: Any, root: Any) -> bool:
        return not _truth(self.operand.evaluate(current, root))


def _truth(value: Any) -> bool:
    """Logical value of a test: a logical result, or "the nodelist is not empty"."""
    if value is True or value is False:
        return value
    if isinstance(value, list):
        return len(value) > 0
    return value is not NOTHING


def _equal(left: Any, right: Any) -> bool:
    if left is NOTHING or right is NOTHING:
        return left is NOTHING and right is NOTHING
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, list | dict):
        metered().charge(len(left) + 1)  # deep comparison is O(size)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            _equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    return False


def _less(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, int | float) and isinstance(right, int | float):
        return bool(left < right)
    if isinstance(left, str) and isinstance(right, str):
        return left < right
    return False


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    "<": _less,
    ">": lambda a, b: _less(b, a),
    "<=": lambda a, b: _less(a, b) or _equal(a, b),
    ">=": lambda a, b: _less(b, a) or _equal(a, b),
}


class Compare(Expr):
    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.test = _COMPARE[op]
        self.left = left
        self.right = right

    def evaluate(self, current: Any, root: Any) -> bool:
        return self.test(self.left.evaluate(current, root), self.right.evaluate(current, root))


def _length(value: Any) -> Any:
    if isinstance(value, str | list | dict):
        return len(value)
    return NOTHING


class Function(Expr):
    """``length``, ``count``, ``match``, ``search`` or ``value``."""

    def __init__(self, name: str, args: list[Expr], regex: IRegexp | None = None) -> None:
        self.name = name
        self.args = args
        self.regex = regex

    def evaluate(self, current: Any, root: Any) -> Any:
        if self.name == "count":
            query = self.args[0]
            assert isinstance(query, Query)
            return len(query.nodes(current, root))
        if self.name == "value":
            query = self.args[0]
            assert isinstance(query, Query)
            found = query.nodes(current, root)
            return found[0] if len(found) == 1 else NOTHING
        value = self.args[0].evaluate(current, root)
        if self.name == "length":
            return _length(value)
        if not isinstance(value, str):
            return False
        regex = self.regex
        if regex is None:
            pattern = self.args[1].evaluate(current, root)
            if not isinstance(pattern, str):
                return False
            try:
                regex = IRegexp(pattern)
            except ValueError:
                return False
        meter = metered()
        if self.name == "match":
            return regex.fullmatch(value, meter.charge)
        return regex.search(value, meter.charge)
