"""Translate Ale models into a closed subset of Hy forms (the security boundary).

The output uses only: ``defn``/``fn`` with positional (and ``#*``) parameters,
``if``, ``do``, ``setv`` of fresh names, ``is-not`` against ``False``, calls of
generated names, list and dict literals, and str/int/float/``True``/
``False``/``None`` constants. Every user symbol is resolved lexically and
renamed (arguments ``a<n>``, locals ``l<n>``, temporaries ``t<n>``, prelude
``P<n>_*``, constants ``C<n>``); an unknown symbol is a compile error.
No user text, symbol or string ever reaches Hy as code, so no Hy macro,
special form, attribute access, f-string or import can appear. Never add a
"pass unknown forms through to Hy" fallback here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hy.models import (
    Dict,
    Expression,
    Float,
    Integer,
    Keyword,
    List,
    Object,
    String,
    Symbol,
)

from .prelude import ALE_NAMES
from .reader import AleBool, AleRatio

__all__ = ["AleCompileError", "Scope", "Translation", "Translator", "sym"]

MAX_NESTING = 200
"""Deepest form nesting accepted; deeper sources are compile errors."""


class AleCompileError(Exception):
    """The Ale source cannot be compiled; the message names the problem."""


def sym(name: str) -> Symbol:
    """A generated symbol (never user text)."""
    return Symbol(name, from_parser=True)


def expr(*items: Object) -> Expression:
    """A generated expression."""
    return Expression(items)


NONE = "None"
TRUE = "True"
FALSE = "False"

_LITERALS = {"true": TRUE, "false": FALSE, "null": NONE, "nil": NONE}

UNSUPPORTED = frozenset(
    [
        "define",
        "define-lambda",
        "define-macro",
        "declare",
        "private",
        "import",
        "eval",
        "read",
        "asm",
        "special",
        "macro",
        "macroexpand",
        "macroexpand-1",
        "syntax-quote",
        "unquote",
        "unquote-splicing",
        "go",
        "go!",
        "chan",
        "spawn",
        "future",
        "delay",
        "lazy",
        "generate",
        "lazy-seq",
        "with-open",
        "time",
        "current-time",
        "gensym",
        "sym",
        "print",
        "println",
        "pr",
        "prn",
        "try",
        "recover",
        "defer",
        "%defer",
        "letfn",
        "def",
        "defn",
        "fn",
        "setv",
        "promise",
        "force",
    ]
)


class Scope:
    """A lexical scope: Ale local name -> generated Python name."""

    __slots__ = ("names", "parent")

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.names: dict[str, str] = {}

    def lookup(self, name: str) -> str | None:
        scope: Scope | None = self
        while scope is not None:
            found = scope.names.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None


class Translation:
    """The result: one Hy ``defn RESULT`` form and the constants it uses."""

    def __init__(self, form: Expression, constants: dict[str, tuple[Any, ...]]) -> None:
        self.form = form
        self.constants = constants


SpecialForm = Callable[["Translator", Expression, Scope], Object]


class Translator:
    """Translate one script; create a new instance per compile."""

    def __init__(self, special_forms: dict[str, SpecialForm]) -> None:
        self._special = special_forms
        self._counter = 0
        self._depth = 0
        self.constants: dict[str, tuple[Any, ...]] = {}
        self._constant_names: dict[tuple[Any, ...], str] = {}

    # --- entry point ---------------------------------------------------------

    def script(self, forms: Sequence[Object], arg_names: Sequence[str]) -> Translation:
        """Translate a whole script into ``(defn RESULT [a1 ... an] body)``.

        ``arg_names`` must already be in call order (sorted, SCRIPT-2).
        """
        scope = Scope()
        params: list[Object] = []
        for name in arg_names:
            py_name = self.fresh("a")
            scope.names[name] = py_name
            params.append(sym(py_name))
        body = self.body(forms, scope)
        return Translation(expr(sym("defn"), sym("RESULT"), List(params), body), self.constants)

    # --- helpers used by special forms ------------------------------------------

    def fresh(self, prefix: str) -> str:
        """A new unique Python name with the given prefix (``a``, ``l``, ``t``, ``r``)."""
        self._counter += 1
        return f"{prefix}{self._counter}"

    def internal_symbol(self) -> Symbol:
        """An Ale symbol no user can write (it contains a space)."""
        self._counter += 1
        return Symbol(f" g{self._counter}", from_parser=True)

    def constant(self, spec: tuple[Any, ...]) -> Symbol:
        """A global name bound to the constant described by ``spec``."""
        name = self._constant_names.get(spec)
        if name is None:
            name = f"C{len(self._constant_names) + 1}"
            self._constant_names[spec] = name
            self.constants[name] = spec
        return sym(name)

    def body(self, forms: Sequence[Object], scope: Scope) -> Object:
        """Translate forms evaluated in order; the value is the last one (or null)."""
        if not forms:
            return sym(NONE)
        if len(forms) == 1:
            return self.form(forms[0], scope)
        return expr(sym("do"), *(self.form(f, scope) for f in forms))

    def truthy(self, test: Object) -> Object:
        """A Python test that is true unless the value is ``False`` (SCRIPT-4).

        Literal tests are folded (``(if 0 ...)`` always takes the then branch).
        """
        if type(test) in (Integer, Float, String, List, Dict):
            return sym(TRUE)
        if type(test) is Symbol and str(test) in (TRUE, FALSE, NONE):
            return sym(FALSE if str(test) == FALSE else TRUE)
        return expr(sym("is-not"), test, sym(FALSE))

    def local_name(self, form: Object, what: str) -> str:
        """Validate a binding name and return its Ale text."""
        if type(form) is not Symbol or str(form) in (".", ":") or "/" in str(form)[1:]:
            raise AleCompileError(f"invalid {what}: {_show(form)}")
        return str(form)

    # --- translation ----------------------------------------------------------------

    def form(self, form: Object, scope: Scope) -> Object:
        """Translate one Ale form into a generated Hy model."""
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise AleCompileError(f"forms nested deeper than {MAX_NESTING} levels")
        try:
            return self._form(form, scope)
        finally:
            self._depth -= 1

    def _form(self, form: Object, scope: Scope) -> Object:
        kind = type(form)
        if kind is Symbol:
            return self.symbol(str(form), scope)
        if kind is Expression:
            return self.expression(form, scope)
        if kind is Integer:
            return Integer(int(form))
        if kind is Float:
            return Float(float(form))
        if kind is String:
            return String(str(form))
        if kind is Keyword:
            return self.constant(("kw", form.name))
        if kind is AleBool:
            return sym(TRUE if form.value else FALSE)
        if kind is AleRatio:
            value = form.value
            return self.constant(("ratio", value.numerator, value.denominator))
        if kind is List:
            return List([self.form(item, scope) for item in form])
        if kind is Dict:
            return self.object_literal(form, scope)
        raise AleCompileError(f"unsupported syntax: {_show(form)}")

    def symbol(self, name: str, scope: Scope) -> Symbol:
        """Resolve a symbol in value position."""
        local = scope.lookup(name)
        if local is not None:
            return sym(local)
        if name.startswith("ale/") and len(name) > 4:
            name = name[4:]
        if name in _LITERALS:
            return sym(_LITERALS[name])
        global_name = ALE_NAMES.get(name)
        if global_name is not None:
            return sym(global_name)
        if name in self._special or name in UNSUPPORTED:
            raise AleCompileError(f"cannot take the value of a special form: {name}")
        raise AleCompileError(f"symbol not declared in namespace: {name}")

    def object_literal(self, form: Dict, scope: Scope) -> Object:
        items = list(form)
        if len(items) % 2:
            raise AleCompileError("object literal requires key/value pairs")
        keys = items[0::2]
        if all(type(k) in (Keyword, String) for k in keys):
            pairs: list[Object] = []
            for key, value in zip(keys, items[1::2], strict=True):
                text = key.name if type(key) is Keyword else str(key)
                pairs.append(String(text))
                pairs.append(self.form(value, scope))
            return Dict(pairs)
        return expr(sym(ALE_NAMES["object"]), *(self.form(item, scope) for item in items))

    def expression(self, form: Expression, scope: Scope) -> Object:
        """Translate a list form: special form, prelude call or dynamic call."""
        if len(form) == 0:
            return sym(NONE)
        head, *args = form
        if len(form) == 3 and type(args[0]) is Symbol and str(args[0]) == ".":
            return expr(sym("R_pair"), self.form(head, scope), self.form(args[1], scope))
        if type(head) is Symbol:
            name = str(head)
            local = scope.lookup(name)
            if local is None:
                if name.startswith("ale/") and len(name) > 4:
                    name = name[4:]
                special = self._special.get(name)
                if special is not None:
                    return special(self, form, scope)
                if name in UNSUPPORTED:
                    raise AleCompileError(f"unsupported form: {name}")
                global_name = ALE_NAMES.get(name)
                if global_name is not None:
                    return expr(sym(global_name), *(self.form(a, scope) for a in args))
        if type(head) is Keyword:
            if not 1 <= len(args) <= 2:
                raise AleCompileError(f"keyword call takes 1 or 2 arguments: {_show(form)}")
            helper = "R_kget" if len(args) == 1 else "R_kgetd"
            name_text = String(head.name)
            return expr(sym(helper), name_text, *(self.form(a, scope) for a in args))
        callee = self.form(head, scope)
        return expr(sym("R_call"), callee, *(self.form(a, scope) for a in args))


def _show(form: Object) -> str:
    """A short user-facing rendering of a model for error messages."""
    text = _render(form)
    return text if len(text) <= 80 else text[:77] + "..."


def _render(form: Object) -> str:
    if type(form) is Symbol or type(form) is String:
        return str(form)
    if type(form) is Keyword:
        return ":" + str(form.name)
    if type(form) is Expression:
        return "(" + " ".join(_render(f) for f in form) + ")"
    if type(form) is List:
        return "[" + " ".join(_render(f) for f in form) + "]"
    if type(form) in (Integer, Float):
        return repr(form.real)
    return type(form).__name__


show = _show
