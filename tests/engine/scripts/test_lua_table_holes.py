"""Lua tables with holes keep their data (issue 16 item 8; SCRIPT-3 conversion).

Observed: ``return {r = setmetatable({[1] = 1, [3] = 3}, {...})}`` came back
as ``{"r": [1, null]}``, dropping the 3. The rule (docs/guides/scripts.md):
positive integer keys give an array up to the largest index with ``null``
in the holes; other numeric keys give an object; tables are read raw, so a
metatable changes nothing. Checked in worker processes and on threads.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from argyll.engine.scripts import Scripts
from argyll.errors import ScriptLimitExceeded

METATABLES = [
    "",
    "{}",
    "{__index = function() return 0 end}",
    "{__len = function() return 10 end}",
    "{__pairs = function(t) return next, {}, nil end}",
]

CASES: list[tuple[str, Any]] = [
    ("{[1] = 1, [3] = 3}", [1, None, 3]),
    ("{1, nil, 3}", [1, None, 3]),
    ("{[2] = 'b'}", [None, "b"]),
    ("{[1] = 'a', [5] = {x = 1}}", ["a", None, None, None, {"x": 1}]),
    ("{[0] = 'z', [1] = 'a'}", {"0": "z", "1": "a"}),
    ("{[-1] = 'n', [2.5] = 'f'}", {"-1": "n", "2.5": "f"}),
]


def wrap(table: str, metatable: str) -> str:
    return f"setmetatable({table}, {metatable})" if metatable else table


@pytest.mark.parametrize("metatable", METATABLES)
def test_holes_convert_without_losing_values(
    scripts: Scripts, scripts_inproc: Scripts, metatable: str
) -> None:
    for table, expected in CASES:
        source = f"return {{r = {wrap(table, metatable)}}}"
        for runner in (scripts, scripts_inproc):
            assert asyncio.run(runner.run("lua", source, [], {})) == {"r": expected}, source


def test_a_huge_index_is_a_size_error_not_a_huge_array(scripts_inproc: Scripts) -> None:
    with pytest.raises(ScriptLimitExceeded):
        asyncio.run(scripts_inproc.run("lua", "return {r = {[1000000000] = 1}}", [], {}))
