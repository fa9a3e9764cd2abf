"""Read Ale source text into Hy models, with Ale's lexical syntax.

The reader subclasses Hy's ``HyReader`` but replaces its whole dispatch table:
no reader macros, no f-strings or string prefixes, no dotted attribute
identifiers, no ``#(``/``#*``/``#[[`` forms. It only builds data (models); no
user text is ever executed or expanded here. Anything it cannot read is an
:class:`AleSyntaxError`.

Ale syntax handled: ``#t``/``#f``, keywords (``:a.b`` allowed), strings with
Ale escapes (``\\s`` is a space, unknown escapes are literal), integers
(``0x1F``, ``0b101``, leading-zero octal), floats, ratios (``1/2``), vectors,
object literals, ``;`` and nestable ``#| |#`` comments, ``'`` quote and dotted
pairs. Syntax-quote, unquote and sets are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from io import StringIO
from typing import Any

from hy.models import Dict, Expression, Float, Integer, Keyword, List, Object, String, Symbol
from hy.reader.exceptions import LexException, PrematureEndOfInput
from hy.reader.hy_reader import HyReader

__all__ = ["AleBool", "AleRatio", "AleSyntaxError", "read_forms"]

_RATIO = re.compile(r"[+-]?(0|[1-9]\d*)/[1-9]\d*")
_FLOAT = re.compile(r"[+-]?((0|[1-9]\d*)\.\d+([eE][+-]?\d+)?|(0|[1-9]\d*)(\.\d+)?[eE][+-]?\d+)")
_INTEGER = re.compile(r"[+-]?(0[bB]\d+|0[xX][\dA-Fa-f]+|0\d*|[1-9]\d*)")
_NUMBERISH = re.compile(r"[+-]?\d")
MAX_NESTING = 64
"""Deepest form nesting accepted (Hy's reader and compiler recurse per level)."""
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "s": " ", "t": "\t"}


class AleSyntaxError(Exception):
    """The source is not valid Ale syntax."""


class AleBool(Object):  # type: ignore[misc]
    """``#t`` / ``#f``."""

    def __init__(self, value: bool) -> None:
        self.value = value


class AleRatio(Object):  # type: ignore[misc]
    """A ratio literal such as ``1/2``."""

    def __init__(self, value: Fraction) -> None:
        self.value = value


def _parse_integer(token: str) -> int:
    sign = -1 if token.startswith("-") else 1
    body = token.lstrip("+-")
    lowered = body.lower()
    if lowered.startswith("0x"):
        return sign * int(body[2:], 16)
    if lowered.startswith("0b"):
        return sign * int(body[2:], 2)
    if len(body) > 1 and body.startswith("0"):
        return sign * int(body[1:], 8)
    return sign * int(body, 10)


def parse_number(token: str) -> Any:
    """The value of a numeric token, or ``None`` if it does not look numeric.

    Raises:
        ValueError: The token starts like a number but is not a valid one.
    """
    if not _NUMBERISH.match(token):
        return None
    if _RATIO.fullmatch(token):
        return Fraction(token)
    if _FLOAT.fullmatch(token):
        value = float(token)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f"float out of range: {token}")
        return value
    if _INTEGER.fullmatch(token):
        try:
            return _parse_integer(token)
        except ValueError:
            raise ValueError(f"invalid number: {token}") from None
    raise ValueError(f"invalid number: {token}")


Handler = Callable[["AleReader", str], Any]


class AleReader(HyReader):  # type: ignore[misc]
    """A HyReader with Ale's lexical syntax and nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.reader_macros: dict[str, Handler] = {}
        self.ends_ident = set('(){}[]"')
        self.reader_table = dict(_TABLE)
        self.depth = 0

    def fill_pos(self, model: Object, start: tuple[int, int]) -> Object:
        # Hy's version re-creates the whole subtree at every level (quadratic
        # in nesting); children already carry their positions.
        model.start_line, model.start_column = start
        model.end_line, model.end_column = self.pos
        return model

    def read_default(self, key: str) -> Object:
        token = key + self.read_ident()
        if token == ".":
            return Symbol(".", from_parser=True)
        try:
            value = parse_number(token)
        except (ValueError, ZeroDivisionError) as exc:
            raise LexException.from_reader(str(exc), self) from None
        if value is None:
            return Symbol(token, from_parser=True)
        if isinstance(value, Fraction):
            return AleRatio(value) if value.denominator != 1 else Integer(value.numerator)
        if isinstance(value, float):
            return Float(value)
        return Integer(value)


def _sequence(model: type[Object], closer: str) -> Handler:
    def read(reader: AleReader, _: str) -> Object:
        reader.depth += 1
        if reader.depth > MAX_NESTING:
            raise LexException.from_reader(f"forms nested deeper than {MAX_NESTING} levels", reader)
        try:
            return model(reader.parse_forms_until(closer))
        finally:
            reader.depth -= 1

    return read


def _unexpected(reader: AleReader, key: str) -> Object:
    raise LexException.from_reader(f"unexpected '{key}'", reader)


def _line_comment(reader: AleReader, _: str) -> None:
    any(c == "\n" for c in reader.chars(eof_ok=True))


def _string(reader: AleReader, _: str) -> Object:
    out: list[str] = []
    escaping = False
    for char in reader.chars():
        if escaping:
            out.append(_ESCAPES.get(char, char))
            escaping = False
        elif char == "\\":
            escaping = True
        elif char == '"':
            return String("".join(out))
        else:
            out.append(char)
    raise PrematureEndOfInput.from_reader("string has no closing quote", reader)


def _keyword(reader: AleReader, _: str) -> Object:
    name = reader.read_ident()
    if not name:
        return Symbol(":", from_parser=True)
    return Keyword(name, from_parser=True)


def _quote(reader: AleReader, _: str) -> Object:
    return Expression((Symbol("quote", from_parser=True), reader.parse_one_form()))


def _unsupported(what: str) -> Handler:
    def read(reader: AleReader, _: str) -> Object:
        raise LexException.from_reader(f"{what} is not supported", reader)

    return read


def _hash(reader: AleReader, _: str) -> Object | None:
    char = reader.getc()
    if char == "|":
        _block_comment(reader)
        return None
    if char == "{":
        raise LexException.from_reader("sets (#{...}) are not supported", reader)
    token = char + reader.read_ident()
    if token == "t":
        return AleBool(True)
    if token == "f":
        return AleBool(False)
    raise LexException.from_reader(f"unexpected characters: #{token}", reader)


def _block_comment(reader: AleReader) -> None:
    depth = 1
    previous = ""
    for char in reader.chars():
        if previous == "#" and char == "|":
            depth += 1
            char = ""
        elif previous == "|" and char == "#":
            depth -= 1
            if depth == 0:
                return
            char = ""
        previous = char


_TABLE: dict[str, Handler] = {
    "(": _sequence(Expression, ")"),
    "[": _sequence(List, "]"),
    "{": _sequence(Dict, "}"),
    ")": _unexpected,
    "]": _unexpected,
    "}": _unexpected,
    ";": _line_comment,
    '"': _string,
    ":": _keyword,
    "'": _quote,
    "`": _unsupported("syntax-quote"),
    ",": _unsupported("unquote"),
    "#": _hash,
}


def read_forms(source: str) -> list[Object]:
    """Read every top-level form of ``source`` eagerly.

    Raises:
        AleSyntaxError: The text is not valid Ale syntax.
    """
    reader = AleReader()
    try:
        return list(reader.parse(StringIO(source)))
    except PrematureEndOfInput as exc:
        raise AleSyntaxError(f"unexpected end of input (line {exc.lineno})") from None
    except LexException as exc:
        raise AleSyntaxError(f"{exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise AleSyntaxError("forms nested too deeply") from None
