"""The closed table of names compiled Ale code may reference.

Every Ale function name maps to one generated global (``P<n>_<letters>``);
runtime helpers the translator emits are ``R_*``. :func:`globals_for` builds
the only namespace compiled code ever runs in: these names plus the script's
own constants, with ``__builtins__`` empty. This module imports no Hy, so
worker processes can load it cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import argyll.engine.scripts.ale.prelude_coll as prelude_coll
import argyll.engine.scripts.ale.prelude_core as prelude_core
import argyll.engine.scripts.ale.prelude_num as prelude_num
import argyll.engine.scripts.ale.prelude_obj as prelude_obj
import argyll.engine.scripts.ale.prelude_seq as prelude_seq

from .budget import AleError, tick
from .prelude_coll import call
from .prelude_core import make_multi_arity
from .values import Cons, Keyword, make_list, type_name

__all__ = ["ALE_NAMES", "RUNTIME", "constant_value", "globals_for"]


def _kget(name: str, coll: Any) -> Any:
    if type(coll) is dict:
        return coll.get(name)
    raise AleError(f"got {type_name(coll)}, expected mapped")


def _kget_default(name: str, coll: Any, default: Any) -> Any:
    if type(coll) is dict:
        return coll.get(name, default)
    raise AleError(f"got {type_name(coll)}, expected mapped")


def _rest_args(args: tuple[Any, ...]) -> Any:
    return make_list(args) if args else None


def _pair(head: Any, tail: Any) -> Cons:
    return Cons(head, tail)


def _for_seq(coll: Any) -> Any:
    value = prelude_core.seq_bang(coll)
    return None if value is False else value


RUNTIME: dict[str, Callable[..., Any]] = {
    "R_tick": tick,
    "R_call": call,
    "R_kget": _kget,
    "R_kgetd": _kget_default,
    "R_rest": _rest_args,
    "R_multi": make_multi_arity,
    "R_pair": _pair,
    "R_forseq": _for_seq,
}
"""Helpers that generated code calls directly."""


def _global_name(index: int, ale_name: str) -> str:
    letters = re.sub(r"[^A-Za-z0-9]", "", ale_name)
    return f"P{index}_{letters}"


def _build() -> tuple[dict[str, str], dict[str, Any]]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    tables: list[Mapping[str, Any]] = [
        prelude_num.FUNCTIONS,
        prelude_coll.FUNCTIONS,
        prelude_obj.FUNCTIONS,
        prelude_seq.FUNCTIONS,
        prelude_core.FUNCTIONS,
        prelude_num.CONSTANTS,
    ]
    for table in tables:
        for ale_name, value in table.items():
            if ale_name in names:
                raise RuntimeError(f"duplicate Ale prelude name: {ale_name}")
            global_name = _global_name(len(names), ale_name)
            names[ale_name] = global_name
            values[global_name] = value
    return names, values


ALE_NAMES, _VALUES = _build()
"""Ale name -> generated global name, for every prelude function and constant."""

_BASE_GLOBALS: dict[str, Any] = {"__builtins__": {}, **_VALUES, **RUNTIME}


def constant_value(spec: tuple[Any, ...]) -> Any:
    """Rebuild a script constant from its marshal-safe spec.

    Specs: ``("kw", name)`` for a keyword, ``("ratio", n, d)`` for a ratio,
    ``("list", [specs...])``/``("vector", [...])``/``("object", [[k, v]...])``
    and ``("lit", value)`` for quoted data.
    """
    tag = spec[0]
    if tag == "kw":
        return Keyword(spec[1])
    if tag == "ratio":
        return Fraction(spec[1], spec[2])
    if tag == "lit":
        return spec[1]
    if tag == "list":
        items = [constant_value(item) for item in spec[1]]
        result: Cons | None = None
        for item in reversed(items):
            result = Cons(item, result)
        return result
    if tag == "pair":
        return Cons(constant_value(spec[1]), constant_value(spec[2]))
    if tag == "vector":
        return [constant_value(item) for item in spec[1]]
    if tag == "object":
        return {constant_value(k) if k[0] != "kw" else k[1]: constant_value(v) for k, v in spec[1]}
    raise ValueError(f"unknown constant spec: {tag}")


def globals_for(constants: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
    """A fresh namespace for one compiled script: prelude plus its constants."""
    namespace = dict(_BASE_GLOBALS)
    for name, spec in constants.items():
        namespace[name] = constant_value(spec)
    return namespace
