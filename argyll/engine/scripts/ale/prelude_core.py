"""Ale core functions: equality, truth, strings, errors, type predicates, combinators.

Every predicate is variadic (all arguments must satisfy it) and has a negated
``!name?`` twin, as in Ale. Closures returned here (``partial``, ``comp``,
``juxt``, ``constantly``) are plain functions over Ale values.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .budget import AleError, alloc, tick
from .prelude_coll import call, is_empty
from .values import Cons, FunctionType, Keyword, LazySeq, ale_equal, to_str

__all__ = ["FUNCTIONS", "make_multi_arity"]


def eq(first: Any, *rest: Any) -> bool:
    """``(eq a b ...)``: type-strict structural equality of neighbours."""
    previous = first
    for arg in rest:
        tick()
        if not ale_equal(previous, arg):
            return False
        previous = arg
    return True


def not_eq(first: Any, *rest: Any) -> bool:
    """``(!eq a b ...)``: not ``eq``."""
    return not eq(first, *rest)


def not_(value: Any) -> bool:
    """``(not v)``: true only for false (SCRIPT-4)."""
    return value is False


def str_(*args: Any) -> str:
    """``(str v*)``: concatenate printed forms; null arguments are skipped."""
    parts = [to_str(arg) for arg in args if arg is not None]
    size = sum(len(part) for part in parts)
    alloc(size + 49)
    return "".join(parts)


def reader_str(*args: Any) -> str:
    """``(str! v*)``: printed forms with strings quoted, separated by spaces."""
    text = " ".join(to_str(arg, True) for arg in args)
    alloc(len(text) + 49)
    return text


def raise_(*args: Any) -> Any:
    """``(raise v*)``: fail with the ``str`` of the arguments."""
    raise AleError(str_(*args))


def identity(value: Any) -> Any:
    """``(identity v)``: ``v``."""
    return value


def constantly(value: Any) -> Callable[..., Any]:
    """``(constantly v)``: a procedure that ignores its arguments and returns ``v``."""

    def constant(*_: Any) -> Any:
        return value

    return constant


def no_op(*_: Any) -> None:
    """``(no-op ...)``: null."""
    return None


def partial(func: Any, *bound: Any) -> Any:
    """``(partial f a*)``: ``f`` with leading arguments fixed."""
    if not bound:
        return func
    if not _is_procedure(func):
        raise AleError(f"partial requires a procedure: {to_str(func)}")

    def partially(*args: Any) -> Any:
        return call(func, *bound, *args)

    return partially


def comp(*funcs: Any) -> Any:
    """``(comp f g ...)``: apply ``f`` to the arguments, then ``g`` to the result..."""
    if not funcs:
        return identity
    if len(funcs) == 1:
        return funcs[0]

    def composed(*args: Any) -> Any:
        result = call(funcs[0], *args)
        for func in funcs[1:]:
            result = call(func, result)
        return result

    return composed


def juxt(func: Any, *funcs: Any) -> Callable[..., Any]:
    """``(juxt f g ...)``: a procedure returning the vector of each result."""
    every = (func, *funcs)

    def juxtaposed(*args: Any) -> list[Any]:
        return [call(f, *args) for f in every]

    return juxtaposed


def make_multi_arity(clauses: list[Any], arities: list[Any]) -> Callable[..., Any]:
    """Build a procedure dispatching on argument count over compiled clauses.

    Args:
        clauses: One compiled function per clause.
        arities: ``[min, max]`` per clause; ``max`` is -1 for a rest parameter.
    """
    table = list(zip(clauses, arities, strict=True))

    def dispatch(*args: Any) -> Any:
        count = len(args)
        for clause, (low, high) in table:
            if count >= low and (high < 0 or count <= high):
                return clause(*args)
        raise AleError("wrong number of arguments")

    return dispatch


def seq(value: Any) -> Any:
    """``(seq v)``: ``v`` if it is a non-empty sequence, else false."""
    if _is_seq(value) and not is_empty(value):
        return value
    return False


def seq_bang(value: Any) -> Any:
    """``(seq! v)``: like ``seq`` but an error for non-sequences."""
    if not _is_seq(value):
        raise AleError(f"value can't act as a sequence: {to_str(value, True)}")
    return False if is_empty(value) else value


def _is_seq(value: Any) -> bool:
    kind = type(value)
    return (
        value is None
        or kind is Cons
        or kind is list
        or kind is str
        or kind is dict
        or kind is LazySeq
    )


def _is_procedure(value: Any) -> bool:
    return type(value) is FunctionType


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float or kind is Fraction


def _is_list(value: Any) -> bool:
    return value is None or (type(value) is Cons and value.size > 0)


def _is_counted(value: Any) -> bool:
    kind = type(value)
    return value is None or kind in (list, str, dict) or (kind is Cons and value.size > 0)


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "true": lambda v: v is True,
    "false": lambda v: v is False,
    "boolean": lambda v: type(v) is bool,
    "number": _is_number,
    "string": lambda v: type(v) is str,
    "keyword": lambda v: type(v) is Keyword,
    "vector": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
    "list": _is_list,
    "pair": lambda v: type(v) is Cons or (type(v) is list and len(v) > 0),
    "cons": lambda v: type(v) is Cons,
    "seq": _is_seq,
    "procedure": _is_procedure,
    "mapped": lambda v: type(v) is dict or type(v) is list,
    "counted": _is_counted,
    "indexed": lambda v: type(v) in (list, str) or _is_list(v),
    "appendable": lambda v: type(v) is list or type(v) is str,
    "reversible": lambda v: type(v) in (list, str) or _is_list(v),
    "empty": is_empty,
    "any": lambda v: True,
}


def _variadic(test: Callable[[Any], bool], negate: bool) -> Callable[..., bool]:
    def predicate(first: Any, *rest: Any) -> bool:
        return all(test(value) != negate for value in (first, *rest))

    return predicate


def is_a(kind: Any, value: Any) -> bool:
    """``(is-a :type v)``: whether ``v`` has the named type."""
    name = kind.name if type(kind) is Keyword else kind
    if name == "sequence":
        name = "seq"
    test = _TYPE_TESTS.get(name) if type(name) is str else None
    if test is None:
        raise AleError(f"unknown type: {to_str(kind)}")
    return test(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "eq": eq,
    "!eq": not_eq,
    "not": not_,
    "str": str_,
    "str!": reader_str,
    "raise": raise_,
    "identity": identity,
    "constantly": constantly,
    "no-op": no_op,
    "partial": partial,
    "comp": comp,
    "juxt": juxt,
    "seq": seq,
    "seq!": seq_bang,
    "is-a": is_a,
}
for _name, _test in _TYPE_TESTS.items():
    if _name == "any":
        continue
    FUNCTIONS[f"{_name}?"] = _variadic(_test, negate=False)
    FUNCTIONS[f"!{_name}?"] = _variadic(_test, negate=True)
