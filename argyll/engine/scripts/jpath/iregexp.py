"""I-Regexp (RFC 9485) for the JSONPath ``match``/``search`` functions, in linear time.

Patterns compile to a Thompson NFA that is simulated state-set by state-set,
so matching costs O(len(subject) x states) with no backtracking: a pattern
such as ``(a|aa)*b`` cannot blow up (no ReDoS, like the reference's RE2).
Supported: literals, ``.`` (not CR/LF), escapes, classes with ranges and
negation, ``\\p{..}``/``\\P{..}`` general categories, groups, alternation and
``* + ? {n} {n,} {n,m}`` (bounded expansion).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["IRegexp", "IRegexpError"]

MAX_STATES = 20_000
_META = set(".\\?*+{}()|[]")
_SINGLE_ESC = {"n": "\n", "r": "\r", "t": "\t"}
_SINGLE_ESC.update({c: c for c in "()*+-.?[\\]^{|}"})

CharTest = Callable[[str], bool]


class IRegexpError(ValueError):
    """The pattern is not a valid (supported) I-Regexp."""


@dataclass
class _State:
    test: CharTest | None = None  # consumes one char when not None
    out: int = -1
    out2: int = -1  # epsilon split when test is None and out2 >= 0


class IRegexp:
    """A compiled I-Regexp; use :meth:`fullmatch` or :meth:`search`."""

    def __init__(self, pattern: str) -> None:
        self._states: list[_State] = []
        self._pattern = pattern
        self._pos = 0
        start, ends = self._alternation()
        if self._pos != len(pattern):
            raise IRegexpError(f"unexpected {pattern[self._pos]!r} at {self._pos}")
        accept = self._new(_State())
        self._patch(ends, accept)
        self._start = start
        self._accept = accept

    @property
    def size(self) -> int:
        """Number of NFA states (the per-character cost of matching)."""
        return len(self._states)

    # --- construction --------------------------------------------------------

    def _new(self, state: _State) -> int:
        if len(self._states) >= MAX_STATES:
            raise IRegexpError("pattern too large")
        self._states.append(state)
        return len(self._states) - 1

    def _patch(self, ends: list[tuple[int, int]], target: int) -> None:
        for index, slot in ends:
            if slot == 1:
                self._states[index].out = target
            else:
                self._states[index].out2 = target

    def _peek(self) -> str:
        return self._pattern[self._pos] if self._pos < len(self._pattern) else ""

    def _alternation(self) -> tuple[int, list[tuple[int, int]]]:
        start, ends = self._branch()
        while self._peek() == "|":
            self._pos += 1
            other_start, other_ends = self._branch()
            split = self._new(_State(out=start, out2=other_start))
            start, ends = split, ends + other_ends
        return start, ends

    def _branch(self) -> tuple[int, list[tuple[int, int]]]:
        # An empty branch is an epsilon state.
        start = self._new(_State())
        ends = [(start, 1)]
        while self._peek() not in ("", "|", ")"):
            piece_start, piece_ends = self._piece()
            self._patch(ends, piece_start)
            ends = piece_ends
        return start, ends

    def _piece(self) -> tuple[int, list[tuple[int, int]]]:
        atom_pos = self._pos
        fragment = self._atom()
        quant = self._peek()
        if quant not in ("*", "+", "?", "{"):
            return fragment
        low, high = self._quantifier()
        atom_end = self._pos
        copies: list[tuple[int, list[tuple[int, int]]]] = [fragment]

        def rebuild() -> tuple[int, list[tuple[int, int]]]:
            saved = self._pos
            self._pos = atom_pos
            built = self._atom()
            self._pos = saved
            return built

        needed = max(low, 1) + (0 if high is None else max(0, high - max(low, 1)))
        while len(copies) < needed:
            copies.append(rebuild())
        self._pos = atom_end
        start = self._new(_State())
        ends = [(start, 1)]
        for index in range(low):
            self._patch(ends, copies[index][0])
            ends = copies[index][1]
        if high is None:
            loop_fragment = copies[low] if low < len(copies) else rebuild()
            split = self._new(_State(out=loop_fragment[0]))
            self._patch(ends, split)
            self._patch(loop_fragment[1], split)
            return start, [(split, 2)]
        optional_ends: list[tuple[int, int]] = []
        for index in range(low, high):
            split = self._new(_State(out=copies[index][0]))
            self._patch(ends, split)
            optional_ends.append((split, 2))
            ends = copies[index][1]
        return start, ends + optional_ends

    def _quantifier(self) -> tuple[int, int | None]:
        char = self._pattern[self._pos]
        self._pos += 1
        if char == "*":
            return 0, None
        if char == "+":
            return 1, None
        if char == "?":
            return 0, 1
        close = self._pattern.find("}", self._pos)
        if close < 0:
            raise IRegexpError("unterminated quantifier")
        body = self._pattern[self._pos : close]
        self._pos = close + 1
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or (high_text and not high_text.isdigit()):
            raise IRegexpError(f"invalid quantifier {{{body}}}")
        low = int(low_text)
        high = None if comma and not high_text else int(high_text or low_text)
        if (high is not None and high < low) or low > 1000 or (high or 0) > 1000:
            raise IRegexpError(f"invalid quantifier {{{body}}}")
        return low, high

    def _atom(self) -> tuple[int, list[tuple[int, int]]]:
        char = self._peek()
        if char == "(":
            self._pos += 1
            start, ends = self._alternation()
            if self._peek() != ")":
                raise IRegexpError("missing )")
            self._pos += 1
            return start, ends
        if char == "[":
            test = self._class_expr()
        elif char == ".":
            self._pos += 1
            test = _not_newline
        elif char == "\\":
            test = self._escape()
        elif char in _META or char == "":
            raise IRegexpError(f"unexpected {char!r} at {self._pos}")
        else:
            self._pos += 1
            test = _literal(char)
        state = self._new(_State(test=test))
        return state, [(state, 1)]

    def _escape(self) -> CharTest:
        self._pos += 1
        char = self._peek()
        self._pos += 1
        if char in _SINGLE_ESC:
            return _literal(_SINGLE_ESC[char])
        if char in ("p", "P"):
            if self._peek() != "{":
                raise IRegexpError("expected { after \\p")
            close = self._pattern.find("}", self._pos)
            if close < 0:
                raise IRegexpError("unterminated \\p{")
            category = self._pattern[self._pos + 1 : close]
            self._pos = close + 1
            if not (1 <= len(category) <= 2 and category.isalpha()):
                raise IRegexpError(f"unsupported category {category!r}")
            test = _category(category)
            return test if char == "p" else _negate(test)
        raise IRegexpError(f"invalid escape \\{char}")

    def _class_expr(self) -> CharTest:
        self._pos += 1
        negated = self._peek() == "^"
        if negated:
            self._pos += 1
        tests: list[CharTest] = []
        first = True
        while True:
            char = self._peek()
            if char == "":
                raise IRegexpError("unterminated character class")
            if char == "]" and not first:
                self._pos += 1
                break
            first = False
            if char == "\\" and self._pattern[self._pos + 1 : self._pos + 2] in ("p", "P"):
                tests.append(self._escape())
                continue
            low = self._class_char()
            if self._peek() == "-" and self._pattern[self._pos + 1 : self._pos + 2] not in (
                "]",
                "",
            ):
                self._pos += 1
                high = self._class_char()
                if high < low:
                    raise IRegexpError("invalid class range")
                tests.append(_range(low, high))
            else:
                tests.append(_literal(low))
        test = _any_of(tests)
        return _negate(test) if negated else test

    def _class_char(self) -> str:
        char = self._peek()
        if char == "\\":
            self._pos += 1
            escaped = self._peek()
            self._pos += 1
            if escaped not in _SINGLE_ESC:
                raise IRegexpError(f"invalid escape \\{escaped}")
            return _SINGLE_ESC[escaped]
        if char in ("[", "]"):
            raise IRegexpError(f"unexpected {char!r} in class")
        self._pos += 1
        return char

    # --- matching ---------------------------------------------------------------

    def _closure(self, states: list[int], target: set[int]) -> None:
        stack = list(states)
        all_states = self._states
        while stack:
            index = stack.pop()
            if index < 0 or index in target:
                continue
            target.add(index)
            state = all_states[index]
            if state.test is None:
                stack.append(state.out)
                if state.out2 >= 0:
                    stack.append(state.out2)

    def _run(self, subject: str, anchored: bool, tick: Callable[[int], None]) -> bool:
        current: set[int] = set()
        self._closure([self._start], current)
        for char in subject:
            if not anchored and self._accept in current:
                return True
            tick(len(current) + 1)
            following: list[int] = []
            for index in current:
                state = self._states[index]
                if state.test is not None and state.test(char):
                    following.append(state.out)
            current = set()
            if not anchored:
                following.append(self._start)
            self._closure(following, current)
            if anchored and not current:
                return False
        return self._accept in current

    def fullmatch(self, subject: str, tick: Callable[[int], None]) -> bool:
        """Whether the whole subject matches (JSONPath ``match``)."""
        return self._run(subject, True, tick)

    def search(self, subject: str, tick: Callable[[int], None]) -> bool:
        """Whether some substring matches (JSONPath ``search``)."""
        return self._run(subject, False, tick)


def _literal(char: str) -> CharTest:
    return char.__eq__


def _not_newline(char: str) -> bool:
    return char not in ("\n", "\r")


def _range(low: str, high: str) -> CharTest:
    return lambda char: low <= char <= high


def _any_of(tests: list[CharTest]) -> CharTest:
    return lambda char: any(test(char) for test in tests)


def _negate(test: CharTest) -> CharTest:
    return lambda char: not test(char)


def _category(name: str) -> CharTest:
    return lambda char: unicodedata.category(char).startswith(name)
