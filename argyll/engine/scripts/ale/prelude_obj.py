"""Ale objects: mapped lookup, construction and persistent update.

Objects are dicts with keyword keys stored by name; every update copies (Ale
objects are persistent) and charges the copy to the memory budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .budget import AleError, alloc
from .prelude_coll import _arity, collect_all, first, rest
from .values import Cons, key_of, type_name

__all__ = ["FUNCTIONS"]


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


def seq_to_object(*colls: Any) -> dict[Any, Any]:
    """``(seq->object s*)``: realise pairs or alternating keys and values into an object."""
    return _pairs_to_dict(collect_all(colls))


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


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "get": get,
    "contains?": contains,
    "object": object_,
    "seq->object": seq_to_object,
    "assoc": assoc,
    "dissoc": dissoc,
    "assoc*": assoc_star,
    "dissoc*": dissoc_star,
}
