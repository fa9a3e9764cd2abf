"""Ale numeric functions: arithmetic, comparison and numeric predicates.

Integers are exact and capped at ``MAX_INT_BITS``; integer division yields a
ratio (``Fraction``); a float divided by zero gives an infinity or NaN while an
integer divided by zero is an error, as in Ale. Only numbers are accepted:
``(+ "a" "b")`` is an error, never string concatenation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .budget import AleError, AleLimit, charge
from .values import MAX_INT_BITS, type_name

__all__ = ["CONSTANTS", "FUNCTIONS", "integer", "number"]

_INT_FAST = 1 << 62


def number(value: Any) -> Any:
    """Return ``value`` if it is an Ale number, else raise a type error."""
    kind = type(value)
    if kind is int or kind is float or kind is Fraction:
        return value
    raise AleError(f"got {type_name(value)}, expected number")


def integer(value: Any) -> int:
    """Return ``value`` as an int if it is an integral number, else raise."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise AleError(f"got {type_name(value)}, expected integer")


def _fit(value: Any) -> Any:
    """Collapse whole ratios and enforce the size caps on exact results."""
    kind = type(value)
    if kind is int:
        if -_INT_FAST < value < _INT_FAST or value.bit_length() <= MAX_INT_BITS:
            return value
        raise AleLimit("size", f"number too large (over {MAX_INT_BITS} bits)")
    if kind is Fraction:
        if value.denominator == 1:
            return _fit(value.numerator)
        if (
            value.numerator.bit_length() > MAX_INT_BITS
            or value.denominator.bit_length() > MAX_INT_BITS
        ):
            raise AleLimit("size", f"number too large (over {MAX_INT_BITS} bits)")
    return value


def _binary(op: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    number(left)
    number(right)
    try:
        return _fit(op(left, right))
    except OverflowError:
        raise AleError("numeric overflow") from None


def _add2(left: Any, right: Any) -> Any:
    return left + right


def _sub2(left: Any, right: Any) -> Any:
    return left - right


def _mul2(left: Any, right: Any) -> Any:
    return left * right


def add(*args: Any) -> Any:
    """``(+ n*)``: the sum; ``(+)`` is 0."""
    if len(args) == 2:
        left, right = args
        if (
            type(left) is int
            and type(right) is int
            and -_INT_FAST < left < _INT_FAST
            and -_INT_FAST < right < _INT_FAST
        ):
            return left + right
    result: Any = 0
    for arg in args:
        result = _binary(_add2, result, arg)
    return result


def sub(first: Any, *rest: Any) -> Any:
    """``(- x)`` negates; ``(- x y ...)`` subtracts left to right."""
    if not rest:
        return _binary(_sub2, 0, first)
    result = first
    for arg in rest:
        result = _binary(_sub2, result, arg)
    return result


def mul(*args: Any) -> Any:
    """``(* n*)``: the product; ``(*)`` is 1."""
    result: Any = 1
    for arg in args:
        result = _binary(_mul2, result, arg)
    return result


def _div2(left: Any, right: Any) -> Any:
    number(left)
    number(right)
    if type(left) is float or type(right) is float:
        if right == 0:
            if left == 0 or math.isnan(left):
                return math.nan
            return math.copysign(math.inf, left) * math.copysign(1.0, right)
        try:
            return float(left) / float(right)
        except OverflowError:
            raise AleError("numeric overflow") from None
    if right == 0:
        raise AleError("division by zero")
    return _fit(Fraction(left) / Fraction(right))


def div(first: Any, *rest: Any) -> Any:
    """``(/ x)`` is 1/x; ``(/ x y ...)`` divides left to right; int/int is a ratio."""
    if not rest:
        return _div2(1, first)
    result = first
    for arg in rest:
        result = _div2(result, arg)
    return result


def _mod2(left: Any, right: Any) -> Any:
    number(left)
    number(right)
    if right == 0:
        if type(left) is float or type(right) is float:
            return math.nan
        raise AleError("division by zero")
    return _fit(left % right)


def mod(first: Any, second: Any, *more: Any) -> Any:
    """``(mod x y ...)``: floored remainder (takes the sign of the divisor)."""
    result = _mod2(first, second)
    for arg in more:
        result = _mod2(result, arg)
    return result


def inc(value: Any) -> Any:
    """``(inc x)`` is ``(+ x 1)``."""
    return add(value, 1)


def dec(value: Any) -> Any:
    """``(dec x)`` is ``(- x 1)``."""
    return sub(value, 1)


def _chain(test: Callable[[Any, Any], bool], first: Any, rest: tuple[Any, ...]) -> bool:
    previous = number(first)
    charge(len(rest))
    for arg in rest:
        number(arg)
        if not test(previous, arg):
            return False
        previous = arg
    return True


def num_eq(first: Any, *rest: Any) -> bool:
    """``(= x y ...)``: numeric equality (``(= 1 1.0)`` is true); numbers only."""
    return _chain(lambda a, b: bool(a == b), first, rest)


def num_ne(first: Any, *rest: Any) -> bool:
    """``(!= x y ...)``: not ``=``."""
    return not num_eq(first, *rest)


def lt(first: Any, *rest: Any) -> bool:
    """``(< x y ...)``: strictly increasing."""
    if len(rest) == 1:
        right = rest[0]
        if type(first) is int and type(right) is int:
            return bool(first < right)
    return _chain(lambda a, b: bool(a < b), first, rest)


def le(first: Any, *rest: Any) -> bool:
    """``(<= x y ...)``: non-decreasing."""
    return _chain(lambda a, b: bool(a <= b), first, rest)


def gt(first: Any, *rest: Any) -> bool:
    """``(> x y ...)``: strictly decreasing."""
    if len(rest) == 1:
        right = rest[0]
        if type(first) is int and type(right) is int:
            return bool(first > right)
    return _chain(lambda a, b: bool(a > b), first, rest)


def ge(first: Any, *rest: Any) -> bool:
    """``(>= x y ...)``: non-increasing."""
    return _chain(lambda a, b: bool(a >= b), first, rest)


def _all(test: Callable[[Any], bool]) -> Callable[..., bool]:
    def predicate(first: Any, *rest: Any) -> bool:
        return test(first) and all(test(arg) for arg in rest)

    return predicate


def _negate(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def negated(value: Any) -> bool:
        return not test(value)

    return negated


def _is_zero(value: Any) -> bool:
    return bool(number(value) == 0)


def _is_even(value: Any) -> bool:
    return bool(_mod2(value, 2) == 0)


def _is_odd(value: Any) -> bool:
    return bool(_mod2(value, 2) == 1)


def _is_nan(value: Any) -> bool:
    return type(value) is float and math.isnan(value)


def _is_inf(value: Any) -> bool:
    return type(value) is float and value == math.inf


def _is_neg_inf(value: Any) -> bool:
    return type(value) is float and value == -math.inf


_PREDICATES: dict[str, Callable[[Any], bool]] = {
    "zero": _is_zero,
    "even": _is_even,
    "odd": _is_odd,
    "nan": _is_nan,
    "inf": _is_inf,
    "-inf": _is_neg_inf,
}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "mod": mod,
    "modulo": mod,
    "inc": inc,
    "dec": dec,
    "=": num_eq,
    "!=": num_ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
}
for _name, _test in _PREDICATES.items():
    FUNCTIONS[f"{_name}?"] = _all(_test)
    FUNCTIONS[f"!{_name}?"] = _all(_negate(_test))

CONSTANTS: dict[str, Any] = {
    "+inf": math.inf,
    "-inf": -math.inf,
    "inf": math.inf,
    "nan": math.nan,
    "*pos-inf*": math.inf,
    "*neg-inf*": -math.inf,
}
