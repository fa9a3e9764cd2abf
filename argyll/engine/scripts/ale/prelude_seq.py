"""Ale lazy sequences and folds: map, filter, take, range ... reduce, apply.

Lazy results are :class:`~.values.LazySeq` objects that charge one tick (and
one slot of memory) per realised element, so an infinite ``(range)`` is only
a problem for whoever realises it, and then only up to the budget.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from .budget import AleError, charge
from .prelude_coll import _arity, call, collect_all, list_
from .prelude_num import integer, number
from .values import FunctionType, LazySeq, iter_seq, make_list, realize

__all__ = ["FUNCTIONS"]


# --- lazy combinators ----------------------------------------------------------


def map_(func: Any, coll: Any, *colls: Any) -> LazySeq:
    """``(map f s s*)``: lazily apply ``f`` to elements (in parallel for several)."""
    if not colls:
        if type(func) is FunctionType and type(coll) is list:
            return LazySeq(builtins.map(func, coll))
        return LazySeq(call(func, item) for item in iter_seq(coll))
    iterators = [iter_seq(c) for c in (coll, *colls)]
    return LazySeq(call(func, *items) for items in zip(*iterators, strict=False))


def filter_(func: Any, coll: Any) -> LazySeq:
    """``(filter f s)``: lazily keep the elements for which ``f`` is not false."""
    return LazySeq(item for item in iter_seq(coll) if call(func, item) is not False)


def take(count: Any, coll: Any) -> LazySeq:
    """``(take n s)``: lazily, at most ``n`` elements."""
    size = max(0, integer(count))
    return LazySeq(itertools.islice(iter_seq(coll), size))


def drop(count: Any, coll: Any) -> LazySeq:
    """``(drop n s)``: lazily, everything after the first ``n`` elements."""
    size = max(0, integer(count))
    return LazySeq(itertools.islice(iter_seq(coll), size, None))


def take_while(func: Any, coll: Any) -> LazySeq:
    """``(take-while f s)``: lazily, the leading elements for which ``f`` holds."""

    def source() -> Iterator[Any]:
        for item in iter_seq(coll):
            if call(func, item) is False:
                return
            yield item

    return LazySeq(source())


def concat(*colls: Any) -> LazySeq:
    """``(concat s*)``: lazily concatenate sequences."""
    return LazySeq(item for coll in colls for item in iter_seq(coll))


def concat_bang(*colls: Any) -> Any:
    """``(concat! s*)``: eagerly concatenate into a list."""
    return make_list(collect_all(colls))


def mapcat(func: Any, *colls: Any) -> LazySeq:
    """``(mapcat f s*)``: ``map`` then ``concat`` the results, lazily."""
    mapped = map_(func, *colls)
    return LazySeq(item for part in mapped.iterate() for item in iter_seq(part))


def zip_(*colls: Any) -> LazySeq:
    """``(zip s*)``: lazily, lists of the elements at each position."""
    return map_(list_, *colls)


def partition(count: Any, *args: Any) -> LazySeq:
    """``(partition n step? s)``: lazily, lists of ``n`` elements every ``step``."""
    _arity(args, 1, 2)
    size = integer(count)
    step = integer(args[0]) if len(args) == 2 else size
    coll = args[-1]
    if size < 1 or step < 1:
        raise AleError("partition count and step must be positive")

    def source() -> Iterator[Any]:
        window: list[Any] = []
        skip = 0
        for item in iter_seq(coll):
            if skip:
                skip -= 1
                continue
            window.append(item)
            if len(window) == size:
                yield make_list(window)
                window = window[step:] if step < size else []
                skip = max(0, step - size)
        while window:
            yield make_list(window)
            window = window[step:]

    return LazySeq(source())


def range_(*args: Any) -> LazySeq:
    """``(range)``, ``(range end)``, ``(range a b)``, ``(range a b step)``, as in Ale."""
    _arity(args, 0, 3)
    if not args:
        start, end, step = 0, None, 1
    elif len(args) == 1:
        start, end = 0, number(args[0])
        step = 1 if end > 0 else -1
    elif len(args) == 2:
        start, end = number(args[0]), number(args[1])
        start, end, step = (start, end, 1) if end > start else (end, start, -1)
    else:
        start, end, step = number(args[0]), args[1], number(args[2])
        if end is not None:
            number(end)

    def source() -> Iterator[Any]:
        value = start
        while end is None or (value > end if step < 0 else value < end):
            yield value
            value = value + step

    return LazySeq(source())


# --- folds and application ---------------------------------------------------------


def fold_left(func: Any, *args: Any) -> Any:
    """``(fold-left f init? s)`` / ``reduce`` / ``foldl``."""
    _arity(args, 1, 2)
    items = iter_seq(args[-1])
    if len(args) == 2:
        acc = args[0]
    else:
        try:
            acc = next(items)
        except StopIteration:
            return call(func)
    if type(func) is FunctionType:
        for item in items:
            acc = func(acc, item)
    else:
        for item in items:
            acc = call(func, acc, item)
    return acc


def fold_right(func: Any, *args: Any) -> Any:
    """``(fold-right f init? s)`` / ``foldr``: fold from the end, calling ``(f x acc)``."""
    _arity(args, 1, 2)
    items = realize(args[-1])[::-1]
    if len(args) == 2:
        acc = args[0]
        rest_items = items
    elif items:
        acc, rest_items = items[0], items[1:]
    else:
        return call(func)
    for item in rest_items:
        acc = call(func, item, acc)
    return acc


def apply(func: Any, *args: Any) -> Any:
    """``(apply f a* s)``: call ``f`` with the leading args and the elements of ``s``."""
    if not args:
        return call(func)
    spread = realize(args[-1])
    charge(len(spread))
    return call(func, *args[:-1], *spread)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "map": map_,
    "filter": filter_,
    "take": take,
    "drop": drop,
    "take-while": take_while,
    "concat": concat,
    "concat!": concat_bang,
    "mapcat": mapcat,
    "zip": zip_,
    "partition": partition,
    "range": range_,
    "fold-left": fold_left,
    "foldl": fold_left,
    "reduce": fold_left,
    "fold-right": fold_right,
    "foldr": fold_right,
    "apply": apply,
}
