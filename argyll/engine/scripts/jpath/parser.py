"""Parse Argyll jpath (RFC 9535 JSONPath plus the filter shorthand) into jsonpath-ng nodes.

A query that parses completely as ``$`` followed by segments is a plain path.
Otherwise the whole text is parsed as a filter expression ``F`` and means
``$[?F]`` (JPATH-1). Anything else, an empty query, or surrounding whitespace
is a compile error. Singular queries are required where RFC 9535 requires
them (comparisons, ``length``/``match``/``search`` arguments).
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonpath_ng.jsonpath import Child, Fields, Index, JSONPath, Root, Slice, This, Wildcard

from .iregexp import IRegexp, IRegexpError
from .nodes import (
    Compare,
    Descend,
    ExactField,
    Expr,
    Filter,
    Function,
    Literal,
    Logical,
    Not,
    Query,
    Selectors,
)

__all__ = ["JPathSyntaxError", "parse_query"]

_NAME = re.compile(r"[A-Za-z_\u0080-\U0010FFFF][A-Za-z0-9_\u0080-\U0010FFFF]*")
_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_FUNC = re.compile(r"[a-z][a-z0-9_]*(?=\()")
_MAX_INDEX = 2**53 - 1
_COMPARATORS = ("==", "!=", "<=", ">=", "<", ">")
_VALUE_FUNCS = {"length", "count", "value"}
_LOGICAL_FUNCS = {"match", "search"}


class JPathSyntaxError(ValueError):
    """The text is not a valid jpath query."""


def parse_query(text: str) -> JSONPath:
    """Compile ``text`` into a jsonpath-ng node tree.

    Raises:
        JPathSyntaxError: Neither a full query nor a filter expression.
    """
    if not text or text != text.strip(" \t\n\r"):
        raise JPathSyntaxError("empty query or surrounding whitespace")
    parser = _Parser(text)
    try:
        path, _ = parser.query()
        if parser.at_end():
            return path
    except JPathSyntaxError:
        pass
    parser = _Parser(text)
    expr = parser.logical_or()
    if not parser.at_end():
        raise JPathSyntaxError(f"unexpected text at {parser.pos}")
    return Child(Root(), Filter(expr))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    # --- lexical helpers -------------------------------------------------------

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n\r":
            self.pos += 1

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.pos):
            raise JPathSyntaxError(f"expected {token!r} at {self.pos}")
        self.pos += len(token)

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group()

    # --- queries -------------------------------------------------------------------

    def query(self) -> tuple[JSONPath, bool]:
        """``$`` or ``@`` then segments; returns (path, singular)."""
        char = self.peek()
        if char == "$":
            path: JSONPath = Root()
        elif char == "@":
            path = This()
        else:
            raise JPathSyntaxError(f"expected '$' or '@' at {self.pos}")
        self.pos += 1
        singular = True
        while True:
            start = self.pos
            self.skip_space()
            if self.peek(2) == "..":
                self.pos += 2
                selector = self.descendant_selector()
                path = Descend(path, selector)
                singular = False
            elif self.peek() == ".":
                self.pos += 1
                if self.peek() == "*":
                    self.pos += 1
                    path = Child(path, Wildcard())
                    singular = False
                else:
                    path = Child(path, self.member_name())
            elif self.peek() == "[":
                selector, one = self.bracketed()
                path = Child(path, selector)
                singular = singular and one
            else:
                self.pos = start
                return path, singular

    def member_name(self) -> JSONPath:
        name = self.match(_NAME)
        if name is None:
            raise JPathSyntaxError(f"expected a member name at {self.pos}")
        return _field(name)

    def descendant_selector(self) -> JSONPath:
        if self.peek() == "*":
            self.pos += 1
            return Wildcard()
        if self.peek() == "[":
            return self.bracketed()[0]
        return self.member_name()

    def bracketed(self) -> tuple[JSONPath, bool]:
        self.expect("[")
        selectors: list[JSONPath] = []
        singular = True
        while True:
            self.skip_space()
            selector, one = self.selector()
            selectors.append(selector)
            singular = singular and one
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                continue
            self.expect("]")
            break
        if len(selectors) == 1:
            return selectors[0], singular
        return Selectors(selectors), False

    def selector(self) -> tuple[JSONPath, bool]:
        char = self.peek()
        if char in ("'", '"'):
            return _field(self.string()), True
        if char == "*":
            self.pos += 1
            return Wildcard(), False
        if char == "?":
            self.pos += 1
            self.skip_space()
            return Filter(self.logical_or()), False
        start = self.integer(optional=True)
        self.skip_space()
        if self.peek() != ":":
            if start is None:
                raise JPathSyntaxError(f"invalid selector at {self.pos}")
            return Index(start), True
        self.pos += 1
        self.skip_space()
        end = self.integer(optional=True)
        self.skip_space()
        step = None
        if self.peek() == ":":
            self.pos += 1
            self.skip_space()
            step = self.integer(optional=True)
        return Slice(start, end, step), False

    def integer(self, optional: bool = False) -> int | None:
        text = self.match(_INT)
        if text is None:
            if optional:
                return None
            raise JPathSyntaxError(f"expected an integer at {self.pos}")
        if text == "-0":
            raise JPathSyntaxError("-0 is not a valid index")
        value = int(text)
        if abs(value) > _MAX_INDEX:
            raise JPathSyntaxError("index out of range")
        return value

    def string(self) -> str:
        quote = self.peek()
        self.pos += 1
        out: list[str] = []
        while True:
            if self.at_end():
                raise JPathSyntaxError("unterminated string")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char == "\\":
                out.append(self.escape(quote))
            elif ord(char) < 0x20:
                raise JPathSyntaxError("control character in string")
            else:
                out.append(char)

    def escape(self, quote: str) -> str:
        char = self.peek()
        self.pos += 1
        simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "/": "/", "\\": "\\"}
        if char in simple:
            return simple[char]
        if char == quote:
            return quote
        if char == "u":
            code = self.text[self.pos : self.pos + 4]
            if not re.fullmatch(r"[0-9A-Fa-f]{4}", code):
                raise JPathSyntaxError("invalid \\u escape")
            self.pos += 4
            value = int(code, 16)
            if 0xD800 <= value <= 0xDBFF and self.peek(2) == "\\u":
                low = self.text[self.pos + 2 : self.pos + 6]
                if re.fullmatch(r"[Dd][C-Fc-f][0-9A-Fa-f]{2}", low):
                    self.pos += 6
                    value = 0x10000 + ((value - 0xD800) << 10) + (int(low, 16) - 0xDC00)
            if 0xD800 <= value <= 0xDFFF:
                raise JPathSyntaxError("lone surrogate in string")
            return chr(value)
        raise JPathSyntaxError(f"invalid escape \\{char}")

    # --- filter expressions ------------------------------------------------------------

    def nested(self) -> None:
        self.depth += 1
        if self.depth > 64:
            raise JPathSyntaxError("filter nested too deeply")

    def logical_or(self) -> Expr:
        self.nested()
        operands = [self.logical_and()]
        while True:
            self.skip_space()
            if self.peek(2) != "||":
                break
            self.pos += 2
            self.skip_space()
            operands.append(self.logical_and())
        self.depth -= 1
        return operands[0] if len(operands) == 1 else Logical("||", operands)

    def logical_and(self) -> Expr:
        operands = [self.basic()]
        while True:
            self.skip_space()
            if self.peek(2) != "&&":
                break
            self.pos += 2
            self.skip_space()
            operands.append(self.basic())
        return operands[0] if len(operands) == 1 else Logical("&&", operands)

    def basic(self) -> Expr:
        if self.peek() == "!" and self.peek(2) != "!=":
            self.pos += 1
            self.skip_space()
            if self.peek() == "(":
                return Not(self.paren())
            return Not(self.test_operand())
        if self.peek() == "(":
            return self.paren()
        start = self.pos
        left, kind = self.comparable()
        self.skip_space()
        for op in _COMPARATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                self.skip_space()
                right, right_kind = self.comparable()
                _check_comparable(left, kind)
                _check_comparable(right, right_kind)
                return Compare(op, left, right)
        self.pos = start
        return self.test_operand()

    def paren(self) -> Expr:
        self.expect("(")
        self.skip_space()
        expr = self.logical_or()
        self.skip_space()
        self.expect(")")
        return expr

    def test_operand(self) -> Expr:
        if self.peek() in ("$", "@"):
            path, _singular = self.query()
            return Query(path, path_is_relative(path), singular=False)
        name = self.match(_FUNC)
        if name is None:
            raise JPathSyntaxError(f"expected a test expression at {self.pos}")
        function = self.function(name)
        if name not in _LOGICAL_FUNCS:
            raise JPathSyntaxError(f"{name}() is not a logical test")
        return function

    def comparable(self) -> tuple[Expr, str]:
        """A literal, query or function call; returns (expr, kind)."""
        char = self.peek()
        if char in ("$", "@"):
            path, singular = self.query()
            return Query(
                path, path_is_relative(path), singular
            ), "singular" if singular else "nodes"
        if char in ("'", '"'):
            return Literal(self.string()), "literal"
        number = self.match(_NUMBER)
        if number is not None:
            value: Any = json.loads(number)
            return Literal(value), "literal"
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Literal(value), "literal"
        name = self.match(_FUNC)
        if name is not None:
            return self.function(name), "function:" + name
        raise JPathSyntaxError(f"expected a value at {self.pos}")

    def function(self, name: str) -> Function:
        if name not in _VALUE_FUNCS and name not in _LOGICAL_FUNCS:
            raise JPathSyntaxError(f"unknown function {name}()")
        self.expect("(")
        args: list[tuple[Expr, str]] = []
        self.skip_space()
        while self.peek() != ")":
            args.append(self.function_arg())
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                self.skip_space()
            elif self.peek() != ")":
                raise JPathSyntaxError(f"expected ',' or ')' at {self.pos}")
        self.pos += 1
        return _make_function(name, args)

    def function_arg(self) -> tuple[Expr, str]:
        return self.comparable()


def path_is_relative(path: JSONPath) -> bool:
    node = path
    while True:
        if isinstance(node, This):
            return True
        if isinstance(node, Root):
            return False
        if not isinstance(node, Child | Descend):
            raise JPathSyntaxError("malformed query")
        node = node.left


def _field(name: str) -> JSONPath:
    return ExactField(name) if name == "*" else Fields(name)


def _check_comparable(expr: Expr, kind: str) -> None:
    if kind == "nodes":
        raise JPathSyntaxError("a comparison needs a singular query")
    if kind.startswith("function:") and kind[9:] in _LOGICAL_FUNCS:
        raise JPathSyntaxError(f"{kind[9:]}() cannot be compared")


def _value_arg(arg: tuple[Expr, str], name: str) -> Expr:
    expr, kind = arg
    if kind in ("literal", "singular") or kind in (
        "function:length",
        "function:count",
        "function:value",
    ):
        return expr
    raise JPathSyntaxError(f"{name}() needs a value argument")


def _make_function(name: str, args: list[tuple[Expr, str]]) -> Function:
    expected = 2 if name in _LOGICAL_FUNCS else 1
    if len(args) != expected:
        raise JPathSyntaxError(f"{name}() takes {expected} argument(s)")
    if name in ("count", "value"):
        expr, _kind = args[0]
        if not isinstance(expr, Query):
            raise JPathSyntaxError(f"{name}() needs a query argument")
        return Function(name, [expr])
    values = [_value_arg(arg, name) for arg in args]
    regex = None
    if name in _LOGICAL_FUNCS and isinstance(values[1], Literal):
        pattern = values[1].value
        if not isinstance(pattern, str):
            raise JPathSyntaxError(f"{name}() needs a string pattern")
        try:
            regex = IRegexp(pattern)
        except IRegexpError as exc:
            raise JPathSyntaxError(f"invalid pattern: {exc}") from None
    return Function(name, values, regex)
