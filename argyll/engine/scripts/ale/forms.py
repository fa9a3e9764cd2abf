"""Ale special forms and macros, each translated into the closed Hy subset.

Forms that Ale defines as macros (``cond``, ``case``, ``->``, ``when`` ...)
are rewritten into other Ale models and translated again; rewrites refer to
the prelude through ``ale/``-qualified symbols, which user code cannot bind,
so a local named ``eq`` or ``if`` never captures a rewrite. Truthiness is
always "anything but false" (SCRIPT-4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hy.models import Dict, Expression, Float, Integer, Keyword, List, Object, String, Symbol

from .reader import AleBool, AleRatio
from .translate import AleCompileError, Scope, SpecialForm, expr, show, sym

if TYPE_CHECKING:
    from .translate import Translator

__all__ = ["CORE_FORMS"]


def _ale(name: str) -> Symbol:
    return Symbol(f"ale/{name}", from_parser=True)


def _args(form: Expression, low: int, high: int | None = None) -> list[Object]:
    args = list(form[1:])
    if len(args) < low or (high is not None and len(args) > high):
        raise AleCompileError(f"wrong number of arguments to {form[0]}: {show(form)}")
    return args


# --- branching --------------------------------------------------------------------


def _if(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2, 3)
    other = t.form(args[2], scope) if len(args) == 3 else sym("None")
    return expr(sym("if"), t.truthy(t.form(args[0], scope)), t.form(args[1], scope), other)


def _unless(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1, 3)
    if len(args) == 1:
        return expr(sym("do"), t.form(args[0], scope), sym("None"))
    other = t.form(args[2], scope) if len(args) == 3 else sym("None")
    return expr(sym("if"), t.truthy(t.form(args[0], scope)), other, t.form(args[1], scope))


def _when(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    return expr(sym("if"), t.truthy(t.form(args[0], scope)), t.body(args[1:], scope), sym("None"))


def _when_not(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    return expr(sym("if"), t.truthy(t.form(args[0], scope)), sym("None"), t.body(args[1:], scope))


def _chain(t: Translator, args: Sequence[Object], scope: Scope, is_and: bool) -> Object:
    value = t.form(args[0], scope)
    if len(args) == 1:
        return value
    name = t.fresh("t")
    rest = _chain(t, args[1:], scope, is_and)
    then, other = (rest, sym(name)) if is_and else (sym(name), rest)
    return expr(
        sym("do"),
        expr(sym("setv"), sym(name), value),
        expr(sym("if"), t.truthy(sym(name)), then, other),
    )


def _and(t: Translator, form: Expression, scope: Scope) -> Object:
    args = list(form[1:])
    return _chain(t, args, scope, True) if args else sym("True")


def _or(t: Translator, form: Expression, scope: Scope) -> Object:
    args = list(form[1:])
    return _chain(t, args, scope, False) if args else sym("False")


def _not_and(t: Translator, form: Expression, scope: Scope) -> Object:
    return t.form(Expression((_ale("not"), Expression((_ale("and"), *form[1:])))), scope)


def _not_or(t: Translator, form: Expression, scope: Scope) -> Object:
    return t.form(Expression((_ale("not"), Expression((_ale("or"), *form[1:])))), scope)


def _pair(clause: Object, what: str) -> tuple[Object, Object]:
    if type(clause) is not List or len(clause) != 2:
        raise AleCompileError(f"invalid {what} clause: {show(clause)}")
    return clause[0], clause[1]


def _always(test: Object) -> bool:
    return (
        type(test) is Keyword
        or (type(test) is AleBool and test.value)
        or type(test)
        in (
            Integer,
            Float,
            String,
        )
    )


def _cond(t: Translator, form: Expression, scope: Scope) -> Object:
    result: Object = sym("None")
    for clause in reversed(form[1:]):
        test, branch = _pair(clause, "cond")
        if _always(test):
            result = t.form(branch, scope)
        else:
            result = expr(sym("if"), t.truthy(t.form(test, scope)), t.form(branch, scope), result)
    return result


def _case(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    value = t.internal_symbol()
    result: Object = Expression((_ale("raise"), String("no cases could be matched")))
    for clause in reversed(args[1:]):
        test, branch = _pair(clause, "case")
        if type(test) is Expression:
            check: Object = Expression(
                (_ale("or"), *(Expression((_ale("eq"), value, item)) for item in test))
            )
        else:
            check = Expression((_ale("eq"), value, test))
        result = Expression((_ale("if"), check, branch, result))
    return t.form(Expression((_ale("let"), List((value, args[0])), result)), scope)


# --- binding ------------------------------------------------------------------------


def _bindings(form: Object) -> list[tuple[Object, Object]]:
    if type(form) is List and len(form) == 2:
        return [(form[0], form[1])]
    if type(form) is Expression and all(type(b) is List and len(b) == 2 for b in form):
        return [(b[0], b[1]) for b in form]
    raise AleCompileError(f"invalid binding: {show(form)}")


def _bind(t: Translator, scope: Scope, name: Object) -> str:
    py_name = t.fresh("l")
    scope.names[t.local_name(name, "binding name")] = py_name
    return py_name


def _let(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    pairs = _bindings(args[0])
    values = [t.form(value, scope) for _, value in pairs]
    inner = Scope(scope)
    setters = [
        expr(sym("setv"), sym(_bind(t, inner, name)), value)
        for (name, _), value in zip(pairs, values, strict=True)
    ]
    return expr(sym("do"), *setters, t.body(args[1:], inner))


def _let_star(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    inner = scope
    setters: list[Object] = []
    for name, value in _bindings(args[0]):
        translated = t.form(value, inner)
        inner = Scope(inner)
        setters.append(expr(sym("setv"), sym(_bind(t, inner, name)), translated))
    return expr(sym("do"), *setters, t.body(args[1:], inner))


def _let_rec(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1)
    pairs = _bindings(args[0])
    inner = Scope(scope)
    names = [_bind(t, inner, name) for name, _ in pairs]
    setters = [
        expr(sym("setv"), sym(n), t.form(value, inner))
        for n, (_, value) in zip(names, pairs, strict=True)
    ]
    return expr(sym("do"), *setters, t.body(args[1:], inner))


def _if_let(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2, 3)
    name, test = _pair(args[0], "if-let binding")
    other = args[2] if len(args) == 3 else _ale("null")
    rewritten = Expression(
        (_ale("let"), List((name, test)), Expression((_ale("if"), name, args[1], other)))
    )
    return t.form(rewritten, scope)


def _when_let(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2)
    name, test = _pair(args[0], "when-let binding")
    body = Expression((_ale("begin"), *args[1:]))
    return t.form(
        Expression((_ale("let"), List((name, test)), Expression((_ale("when"), name, body)))), scope
    )


# --- procedures -----------------------------------------------------------------------


def _params(
    t: Translator, params: Object, scope: Scope
) -> tuple[list[Object], list[Object], int, int]:
    """Bind parameters in ``scope``; return (hy params, prologue, min, max)."""
    if type(params) is Symbol:
        raw = t.fresh("r")
        py_name = _bind(t, scope, params)
        unpack = Expression((sym("unpack-iterable"), sym(raw)))
        return [unpack], [expr(sym("setv"), sym(py_name), expr(sym("R_rest"), sym(raw)))], 0, -1
    if type(params) is not Expression:
        raise AleCompileError(f"invalid parameter list: {show(params)}")
    items = list(params)
    rest: Object | None = None
    if len(items) >= 2 and type(items[-2]) is Symbol and str(items[-2]) == ".":
        rest = items[-1]
        items = items[:-2]
    hy_params: list[Object] = [sym(_bind(t, scope, item)) for item in items]
    prologue: list[Object] = []
    if rest is not None:
        raw = t.fresh("r")
        py_name = _bind(t, scope, rest)
        hy_params.append(Expression((sym("unpack-iterable"), sym(raw))))
        prologue.append(expr(sym("setv"), sym(py_name), expr(sym("R_rest"), sym(raw))))
        return hy_params, prologue, len(items), -1
    return hy_params, prologue, len(items), len(items)


def _fn(
    t: Translator, params: Object, body: Sequence[Object], scope: Scope
) -> tuple[Object, int, int]:
    inner = Scope(scope)
    hy_params, prologue, low, high = _params(t, params, inner)
    fn = expr(sym("fn"), List(hy_params), expr(sym("R_tick")), *prologue, t.body(body, inner))
    return fn, low, high


def _lambda_body(t: Translator, args: Sequence[Object], scope: Scope) -> Object:
    if not args:
        raise AleCompileError("lambda requires a parameter list")
    if type(args[0]) is List:
        clauses: list[Object] = []
        arities: list[Object] = []
        for clause in args:
            if type(clause) is not List or len(clause) < 1:
                raise AleCompileError(f"invalid lambda clause: {show(clause)}")
            fn, low, high = _fn(t, clause[0], list(clause[1:]), scope)
            clauses.append(fn)
            arities.append(List((Integer(low), Integer(high))))
        return expr(sym("R_multi"), List(clauses), List(arities))
    return _fn(t, args[0], list(args[1:]), scope)[0]


def _lambda(t: Translator, form: Expression, scope: Scope) -> Object:
    return _lambda_body(t, list(form[1:]), scope)


def _lambda_rec(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2)
    name = args[0]
    lam = Expression((_ale("lambda"), *args[1:]))
    return t.form(Expression((_ale("let-rec"), List((name, lam)), name)), scope)


def _label(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 2, 2)
    return t.form(Expression((_ale("let-rec"), List((args[0], args[1])), args[0])), scope)


def _thunk(t: Translator, form: Expression, scope: Scope) -> Object:
    return _fn(t, Expression(()), list(form[1:]), scope)[0]


def _begin(t: Translator, form: Expression, scope: Scope) -> Object:
    return t.body(list(form[1:]), scope)


# --- data -------------------------------------------------------------------------------


def _quote_spec(form: Object) -> tuple[object, ...]:
    kind = type(form)
    if kind is Integer:
        return ("lit", int(form))
    if kind is Float:
        return ("lit", float(form))
    if kind is String:
        return ("lit", str(form))
    if kind is AleBool:
        return ("lit", form.value)
    if kind is Keyword:
        return ("kw", form.name)
    if kind is AleRatio:
        return ("ratio", form.value.numerator, form.value.denominator)
    if kind is Expression:
        items = list(form)
        if len(items) == 3 and type(items[1]) is Symbol and str(items[1]) == ".":
            return ("pair", _quote_spec(items[0]), _quote_spec(items[2]))
        return ("list", tuple(_quote_spec(item) for item in items))
    if kind is List:
        return ("vector", tuple(_quote_spec(item) for item in form))
    if kind is Dict:
        items = list(form)
        if len(items) % 2:
            raise AleCompileError("object literal requires key/value pairs")
        return (
            "object",
            tuple(
                (_quote_spec(k), _quote_spec(v))
                for k, v in zip(items[0::2], items[1::2], strict=True)
            ),
        )
    if kind is Symbol and str(form) in ("true", "false", "null", "nil"):
        return ("lit", {"true": True, "false": False}.get(str(form)))
    raise AleCompileError(f"quoting symbols is not supported: {show(form)}")


def _quote(t: Translator, form: Expression, scope: Scope) -> Object:
    args = _args(form, 1, 1)
    spec = _quote_spec(args[0])
    if spec[0] == "lit":
        value = spec[1]
        if value is None or isinstance(value, bool):
            return sym({None: "None", True: "True", False: "False"}[value])
        return t.form(args[0], scope)
    if spec == ("list", ()):
        return sym("None")
    return t.constant(spec)


CORE_FORMS: dict[str, SpecialForm] = {
    "if": _if,
    "unless": _unless,
    "when": _when,
    "when-not": _when_not,
    "and": _and,
    "or": _or,
    "!and": _not_and,
    "!or": _not_or,
    "cond": _cond,
    "case": _case,
    "let": _let,
    "let*": _let_star,
    "let-rec": _let_rec,
    "if-let": _if_let,
    "when-let": _when_let,
    "lambda": _lambda,
    "λ": _lambda,
    "lambda-rec": _lambda_rec,
    "label": _label,
    "thunk": _thunk,
    "begin": _begin,
    "quote": _quote,
}
