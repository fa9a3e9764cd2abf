"""Ale sequence functions: access, construction, lazy combinators and folds.

Lazy results (``map``, ``filter``, ``take``, ``range`` ...) are
:class:`~.values.LazySeq` objects that charge one tick per realised element;
eager results charge their size to the memory budget. Procedures passed in are
invoked through :func:`call`, which also implements Ale's callable values
(keywords, objects, vectors, strings and integers).
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from .budget import AleError, alloc, charge, tick
from .prelude_num import integer, number
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

__all__ = ["FUNCTIONS", "call", "first", "rest"]


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


def get(coll: Any, key: Any, *default: Any) -> Any:
    """``(get m k default?)``: a mapped value; error when missing and no default."""
    _arity(default, 0, 1)
    kind = type(coll)
    if kind is dict:
        normal = key_of(key)
        if normal in coll:
            return coll[normal]
    elif kind is list:
        if type(key) is int and 0 <= key < len(coll):
            return coll[key]
    else:
        raise AleError(f"got {type_name(coll)}, expected mapped")
    if default:
        return default[0]
    raise AleError("key not found")


def contains(coll: Any, key: Any) -> bool:
    """``(contains? m k)``: whether a mapped value holds the key."""
    if type(coll) is dict:
        return key_of(key) in coll
    if type(coll) is list:
        return type(key) is int and 0 <= key < len(coll)
    return False


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


def _pairs_to_dict(items: list[Any]) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    if items and all(type(item) is Cons and item.size < 0 for item in items):
        for pair in items:
            result[key_of(pair.head)] = pair.tail
    else:
        if len(items) % 2:
            raise AleError("object requires key/value pairs")
        for index in range(0, len(items), 2):
            result[key_of(items[index])] = items[index + 1]
    alloc(64 * len(result) + 64)
    return result


def object_(*items: Any) -> dict[Any, Any]:
    """``(object k v ...)``: an object from alternating keys and values."""
    return _pairs_to_dict(list(items))


def _concat_all(colls: tuple[Any, ...]) -> list[Any]:
    result: list[Any] = []
    for coll in colls:
        collect(iter_seq(coll), result)
    return result


def seq_to_vector(*colls: Any) -> list[Any]:
    """``(seq->vector s*)``: realise and concatenate into a vector."""
    if len(colls) == 1 and type(colls[0]) is list:
        return colls[0]
    return _concat_all(colls)


def seq_to_list(*colls: Any) -> Any:
    """``(seq->list s*)``: realise and concatenate into a list."""
    return make_list(_concat_all(colls))


def seq_to_object(*colls: Any) -> dict[Any, Any]:
    """``(seq->object s*)``: realise pairs or alternating keys and values into an object."""
    return _pairs_to_dict(_concat_all(colls))


def assoc(coll: Any, *args: Any) -> Any:
    """``(assoc o (k . v))`` or ``(assoc o k v)``: a copy with the key set."""
    if len(args) == 1:
        pair = args[0]
        if type(pair) is Cons and pair.size < 0:
            key, value = pair.head, pair.tail
        elif (type(pair) is list and len(pair) == 2) or (type(pair) is Cons and pair.size == 2):
            key, value = first(pair), first(rest(pair))
        else:
            raise AleError(f"got {type_name(pair)}, expected pair")
    elif len(args) == 2:
        key, value = args
    else:
        raise AleError("wrong number of arguments")
    if type(coll) is not dict:
        raise AleError(f"got {type_name(coll)}, expected object")
    alloc(64 * len(coll) + 64)
    result = dict(coll)
    result[key_of(key)] = value
    return result


def dissoc(coll: Any, key: Any) -> Any:
    """``(dissoc o k)``: a copy without the key."""
    if type(coll) is not dict:
        raise AleError(f"got {type_name(coll)}, expected object")
    alloc(64 * len(coll))
    result = dict(coll)
    result.pop(key_of(key), None)
    return result


def assoc_star(coll: Any, *pairs: Any) -> Any:
    """``(assoc* o p*)``: ``assoc`` each pair in turn."""
    for pair in pairs:
        coll = assoc(coll, pair)
    return coll


def dissoc_star(coll: Any, *keys: Any) -> Any:
    """``(dissoc* o k*)``: ``dissoc`` each key in turn."""
    for key in keys:
        coll = dissoc(coll, key)
    return coll


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
    return make_list(_concat_all(colls))


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
    "first": first,
    "car": first,
    "rest": rest,
    "cdr": rest,
    "length": length,
    "count": length,
    "length!": length_bang,
    "nth": nth,
    "nth!": nth_bang,
    "get": get,
    "contains?": contains,
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
    "object": object_,
    "seq->vector": seq_to_vector,
    "seq->list": seq_to_list,
    "seq->object": seq_to_object,
    "assoc": assoc,
    "dissoc": dissoc,
    "assoc*": assoc_star,
    "dissoc*": dissoc_star,
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
for _path in ("".join(p) for n in (2, 3, 4) for p in itertools.product("ad", repeat=n)):
    FUNCTIONS[f"c{_path}r"] = _cxr(_path)
