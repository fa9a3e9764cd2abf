"""Ale threading macros, method calls and comprehensions, rewritten into core forms.

``->``/``->>``/``some->``/``cond->``/``let->``, ``(: obj :m ...)`` and
``for``/``for-each`` only rearrange user models and hand them back to the
translator; rewrites name the prelude as ``ale/...`` so user locals cannot
capture them. :data:`SPECIAL_FORMS` is the complete table the translator uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hy.models import Expression, List, Object

from .forms import CORE_FORMS, _ale, _args, _bindings, _pair
from .translate import Scope, SpecialForm, expr, sym

if TYPE_CHECKING:
    from .translate import Translator

__all__ = ["SPECIAL_FORMS"]


# --- threading ----------------------------------------------------------------------------


def _as_list(step: Object) -> tuple[Object, list[Object]]:
    if type(step) is Expression and len(step) > 0:
        return step[0], list(step[1:])
    return step, []


def _thread(t: Translator, form: Expression, scope: Scope, last: bool) -> Object:
    args = _args(form, 1)
    value = args[0]
    for step in args[1:]:
        head, rest = _as_list(step)
        value = Expression((head, *rest, value)) if last else Expression((head, value, *rest))
    return t.form(value, scope)


def _thread_first(t: Translator, form: Expression, scope: Scope) -> Object:
    return _thread(t, form, scope, last=False)


def _thread_last(t: Translator, form: Expression, scope: Scope) -> Object:
    return _thread(t, form, scope, last=True)


def _some_thread(t: Translator, form: Expression, scope: Scope, last: bool) -> Object:
    args = _args(form, 1)
    if len(args) == 1:
        return t.form(args[0], scope)
    value = t.internal_symbol()
    head, rest = _as_list(args[1])
    step = Expression((head, *rest, value)) if last else Expression((head, value, *rest))
    name = "some->>" if last else "some->"
    inner = Expression((_ale(name), step, *args[2:]))
    check = Expression((_ale("null?"), value))
    body = Expression((_ale("if"), check, _ale("null"), inner))
    return t.form(Expression((_ale("let"), List((value, args[0])), body)), scope)


def _some_first(t: Translator, form: Expression, scope: Scope) -> Object:
    return _some_thread(t, form, scope, last=False)


def _some_last(t: Translator, form: Expression, scope: Scope) -> Object:
    return _some_thread(t, form, scope, last=True)


def _cond_thread(t: Translator, form: Expression, scope: Scope, last: bool) -> Object:
    args = _args(form, 1)
    threader = _ale("->>" if last else "->")
    steps: list[Object] = []
    for clause in args[1:]:
        pred, step = _pair(clause, "cond")
        value = t.internal_symbol()
        body = Expression(
            (
                _ale("if"),
                Expression((threader, value, pred)),
                Expression((threader, value, step)),
                value,
            )
        )
        steps.append(Expression((Expression((_ale("lambda"), Expression((value,)), body)),)))
    return t.form(Expression((_ale("->"), args[0], *steps)), scope)


def _cond_first(t: Translator, form: Expression, scope: Scope) -> Object:
    return _cond_thread(t, form, scope, last=False)


def _cond_last(t: Translator, form: Expression, scope: Scope) -> Object:
    return _cond_thread(t, form, scope, last=True)


def _let_thread(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2)
    name, value = _pair(args[0], "let->")
    result: Object = args[-1]
    for step in reversed(args[1:-1]):
        result = Expression((_ale("let"), List((name, step)), result))
    return t.form(Expression((_ale("let"), List((name, value)), result)), scope)


def _method(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2)
    getter = Expression((_ale("get"), args[0], args[1]))
    return t.form(Expression((getter, *args[2:])), scope)


# --- comprehensions -------------------------------------------------------------------------


def _for(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    bindings = _bindings(args[0])
    body = list(args[1:])
    name, coll = bindings[0]
    source = Expression((sym("ale/ for-seq"), coll))
    if len(bindings) == 1:
        lam = Expression((_ale("lambda"), Expression((name,)), *body))
        return t.form(Expression((_ale("map"), lam, source)), scope)
    inner = Expression((_ale("for"), Expression(tuple(List(b) for b in bindings[1:])), *body))
    lam = Expression((_ale("lambda"), Expression((name,)), inner))
    return t.form(Expression((_ale("mapcat"), lam, source)), scope)


def _for_seq(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1, 1)
    return expr(sym("R_forseq"), t.form(args[0], scope))


def _for_each(t: Translator, form: Expression, scope: Scope) -> Object:
    return t.form(Expression((_ale("last!"), Expression((_ale("for"), *form[1:])))), scope)


SPECIAL_FORMS: dict[str, SpecialForm] = {
    **CORE_FORMS,
    "->": _thread_first,
    "->>": _thread_last,
    "some->": _some_first,
    "some->>": _some_last,
    "cond->": _cond_first,
    "cond->>": _cond_last,
    "let->": _let_thread,
    ":": _method,
    "for": _for,
    "for-each": _for_each,
    " for-seq": _for_seq,
}
