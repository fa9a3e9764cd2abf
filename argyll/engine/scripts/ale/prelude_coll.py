"""Ale collection functions: calling values, access and construction.

Every function dispatches on the exact type of its arguments and charges its
work and allocations to the current meter. :func:`call` invokes any Ale
callable value: procedures, keywords, objects, vectors, strings, integers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from .budget import AleError, alloc, tick
from .prelude_num import integer
from .values import (
    Cons,
    FunctionType,
    Keyword,
    LazySeq,
    ale_equal,
    collect,
    iter_seq,
    key_of,
    key_value,
    make_list,
    realize,
    type_name,
)

__all__ = ["FUNCTIONS", "call", "collect_all", "first", "is_empty", "list_", "rest"]


def call(func: Any, *args: Any) -> Any:
    """Call any Ale callable value with positional arguments."""
    kind = type(func)
    if kind is FunctionType:
        return func(*args)
    if kind is Keyword:
        _arity(args, 1, 2)
        return _lookup(args[0], func.name, args[1:])
    if kind is dict:
        _arity(args, 1, 2)
        key = key_of(args[0])
        if key in func:
            return func[key]
        return args[1] if len(args) > 1 else None
    if kind is int:
        _arity(args, 1, 2)
        return nth(args[0], func, *args[1:])
    if kind is list or kind is str:
        _arity(args, 1, 2)
        start = integer(args[0])
        end = integer(args[1]) if len(args) > 1 else len(func)
        if not 0 <= start <= end <= len(func):
            raise AleError(f"invalid range: {start}..{end}")
        alloc(8 * (end - start))
        return func[start:end]
    raise AleError(f"got {type_name(func)}, expected procedure")


def _arity(args: tuple[Any, ...], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise AleError("wrong number of arguments")


def _lookup(coll: Any, key: Any, default: tuple[Any, ...]) -> Any:
    if type(coll) is dict:
        if key in coll:
            return coll[key]
        return default[0] if default else None
    raise AleError(f"got {type_name(coll)}, expected mapped")


# --- access ------------------------------------------------------------------


def first(coll: Any) -> Any:
    """``(first s)`` / ``car``: the first element, or null when empty."""
    kind = type(coll)
    if kind is Cons:
        return coll.head
    if coll is None:
        return None
    if kind is list or kind is str:
        return coll[0] if coll else None
    if kind is LazySeq:
        return coll.first()[1]
    if kind is dict:
        for key, value in coll.items():
            return Cons(key_value(key), value)
        return None
    raise AleError(f"got {type_name(coll)}, expected pair")


def rest(coll: Any) -> Any:
    """``(rest s)`` / ``cdr``: everything after the first element."""
    kind = type(coll)
    if kind is Cons:
        return coll.tail
    if coll is None:
        return None
    if kind is list or kind is str:
        alloc(8 * len(coll))
        return coll[1:]
    if kind is LazySeq:
        return coll.rest()
    if kind is dict:
        items = list(coll.items())[1:]
        alloc(64 * len(items))
        return dict(items)
    raise AleError(f"got {type_name(coll)}, expected pair")


def _cxr(path: str) -> Callable[[Any], Any]:
    ops = [first if letter == "a" else rest for letter in reversed(path)]

    def accessor(value: Any) -> Any:
        for op in ops:
            value = op(value)
        return value

    return accessor


def _counted_len(coll: Any) -> int:
    kind = type(coll)
    if coll is None:
        return 0
    if kind is list or kind is str or kind is dict:
        return len(coll)
    if kind is Cons and coll.size > 0:
        return int(coll.size)
    raise AleError(f"got {type_name(coll)}, expected counted sequence")


def length(coll: Any) -> int:
    """``(length s)``: the element count of a counted sequence (not a lazy one)."""
    return _counted_len(coll)


def length_bang(coll: Any) -> int:
    """``(length! s)``: count by walking any sequence."""
    if type(coll) is LazySeq:
        return sum(1 for _ in iter_seq(coll))
    return _counted_len(coll)


def nth(coll: Any, index: Any, *default: Any) -> Any:
    """``(nth s i default?)``: the i-th element; error when missing and no default."""
    _arity(default, 0, 1)
    pos = integer(index)
    kind = type(coll)
    if kind is list or kind is str:
        if 0 <= pos < len(coll):
            return coll[pos]
    elif kind is Cons or coll is None:
        node = coll
        while pos > 0 and type(node) is Cons:
            tick()
            node, pos = node.tail, pos - 1
        if pos == 0 and type(node) is Cons:
            return node.head
    else:
        raise AleError(f"got {type_name(coll)}, expected indexed")
    if default:
        return default[0]
    raise AleError("index out of bounds")


def nth_bang(coll: Any, index: Any, *default: Any) -> Any:
    """``(nth! s i default?)``: like ``nth`` for any sequence."""
    _arity(default, 0, 1)
    if type(coll) is LazySeq:
        pos = integer(index)
        if pos >= 0:
            found, value = LazySeq(coll.buf, coll.pos + pos).first()
            if found:
                return value
        if default:
            return default[0]
        raise AleError("index out of bounds")
    return nth(coll, index, *default)


def last(coll: Any) -> Any:
    """``(last s)``: the last element of a counted sequence, or null when empty."""
    size = _counted_len(coll)
    if size == 0:
        return None
    if type(coll) is dict:
        return last_bang(coll)
    return nth(coll, size - 1)


def last_bang(coll: Any) -> Any:
    """``(last! s)``: the last element of any sequence."""
    result = None
    for item in iter_seq(coll):
        result = item
    return result


def index_of(coll: Any, value: Any) -> Any:
    """``(index-of s v)``: the index of the first ``eq`` element, or false."""
    for index, item in enumerate(iter_seq(coll)):
        if ale_equal(item, value):
            return index
    return False


def is_empty(coll: Any) -> bool:
    kind = type(coll)
    if coll is None:
        return True
    if kind is Cons:
        return False
    if kind is list or kind is str or kind is dict:
        return not coll
    if kind is LazySeq:
        return not coll.first()[0]
    raise AleError(f"got {type_name(coll)}, expected sequence")


# --- construction -------------------------------------------------------------


def cons(value: Any, coll: Any) -> Any:
    """``(cons v s)``: prepend to a list, vector or sequence, else build a pair."""
    kind = type(coll)
    alloc(48)
    if kind is list:
        alloc(8 * len(coll))
        return [value, *coll]
    if kind is LazySeq:
        return LazySeq(itertools.chain((value,), coll.iterate()))
    return Cons(value, coll)


def append(coll: Any, value: Any) -> Any:
    """``(append s v)``: add to the end of a vector or string."""
    kind = type(coll)
    if kind is list:
        alloc(8 * len(coll) + 8)
        return [*coll, value]
    if kind is str:
        if type(value) is not str:
            raise AleError(f"got {type_name(value)}, expected string")
        alloc(len(coll) + len(value))
        return coll + value
    raise AleError(f"got {type_name(coll)}, expected appendable")


def conj(coll: Any, value: Any) -> Any:
    """``(conj s v)``: append to appendable sequences, else prepend."""
    if type(coll) is list or type(coll) is str:
        return append(coll, value)
    return cons(value, coll)


def reverse(coll: Any) -> Any:
    """``(reverse s)``: a reversed vector, list or string."""
    kind = type(coll)
    if coll is None:
        return None
    if kind is list:
        alloc(8 * len(coll))
        return coll[::-1]
    if kind is str:
        alloc(len(coll))
        return coll[::-1]
    if kind is Cons and coll.size > 0:
        return make_list(realize(coll)[::-1])
    raise AleError(f"got {type_name(coll)}, expected reversible")


def reverse_bang(coll: Any) -> Any:
    """``(reverse! s)``: reverse any sequence into a list."""
    if type(coll) is LazySeq or type(coll) is dict:
        return make_list(realize(coll)[::-1])
    return reverse(coll)


def list_(*items: Any) -> Any:
    """``(list v*)``: a list; ``(list)`` is null."""
    return make_list(items)


def vector(*items: Any) -> list[Any]:
    """``(vector v*)``: a vector."""
    alloc(8 * len(items) + 56)
    return list(items)


def collect_all(colls: tuple[Any, ...]) -> list[Any]:
    result: list[Any] = []
    for coll in colls:
        collect(iter_seq(coll), result)
    return result


def seq_to_vector(*colls: Any) -> list[Any]:
    """``(seq->vector s*)``: realise and concatenate into a vector."""
    if len(colls) == 1 and type(colls[0]) is list:
        return colls[0]
    return collect_all(colls)


def seq_to_list(*colls: Any) -> Any:
    """``(seq->list s*)``: realise and concatenate into a list."""
    return make_list(collect_all(colls))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "first": first,
    "car": first,
    "rest": rest,
    "cdr": rest,
    "length": length,
    "count": length,
    "length!": length_bang,
    "nth": nth,
    "nth!": nth_bang,
    "last": last,
    "last!": last_bang,
    "index-of": index_of,
    "cons": cons,
    "append": append,
    "conj": conj,
    "reverse": reverse,
    "reverse!": reverse_bang,
    "list": list_,
    "vector": vector,
    "seq->vector": seq_to_vector,
    "seq->list": seq_to_list,
}
for _path in ("".join(p) for n in (2, 3, 4) for p in itertools.product("ad", repeat=n)):
    FUNCTIONS[f"c{_path}r"] = _cxr(_path)
