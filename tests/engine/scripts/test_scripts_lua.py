"""Lua on lupa: go-lua's library surface, conversions (SCRIPT-2/3), per-call isolation."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from script_corpus import same

from argyll.engine.scripts import Scripts
from argyll.errors import ScriptRuntimeError


def lua(scripts: Scripts, source: str, **args: Any) -> dict[str, Any]:
    return asyncio.run(scripts.run("lua", source, sorted(args), args))


CONVERSIONS: list[tuple[str, dict[str, Any]]] = [
    ('return {s = "\\255ok"}', {"s": "\ufffdok"}),
    ("return {t = {[true] = 1, [2.5] = 'x', k = 'v'}}", {"t": {"true": 1, "2.5": "x", "k": "v"}}),
    ("return {t = {1, nil, 3}}", {"t": [1, None, 3]}),  # holes keep their values
    ("return {big = 2^53, huge = 1e300, neg = -0.5}", {"big": 2**53, "huge": 1e300, "neg": -0.5}),
    ("return {f = print, n = nil, b = false}", {"f": None, "b": False}),
    ("return {[1] = 'a', [2.5] = 'b'}", {"1": "a", "2.5": "b"}),
    ("return {t = {['1'] = 'a', ['2'] = 'b'}}", {"t": ["a", "b"]}),
    ("return {t = {{}, {x = {}}}}", {"t": [{}, {"x": {}}]}),
    ("return 'plain'", {"result": "plain"}),
    ("return nil", {"result": None}),
    ("return 1, 2, 3", {"result": 1}),
]


@pytest.mark.parametrize(("source", "expected"), CONVERSIONS)
def test_lua_result_conversion(scripts_inproc: Scripts, source: str, expected: Any) -> None:
    """SCRIPT-3: tables become outputs; nested numeric-keyed tables become arrays."""
    assert same(lua(scripts_inproc, source), expected)


_SORT = """local t = {3, 1, 2}
table.sort(t, function(a, b) return a > b end)
return table.concat(t, ',')"""

LIBRARY: list[tuple[str, Any]] = [
    ("return ('Hello'):upper() .. string.lower('X')", "HELLOx"),
    ("return string.format('%5.2f|%d|%s', 1.234, 7, 'z')", " 1.23|7|z"),
    ("return ('abc'):sub(2) .. ('ab'):rep(2, '-') .. ('abc'):reverse()", "bcab-abcba"),
    ("return string.byte('A') + #string.char(66, 67)", 67),
    ("return ('a.b'):find('.', 1)", 2),
    (_SORT, "3,2,1"),
    ("local t = {} table.insert(t, 'a') table.insert(t, 1, 'b') return table.concat(t)", "ba"),
    ("return select('#', unpack({1, 2, 3}))", 3),
    ("return math.floor(2.7) + math.max(1, 5) + math.abs(-1)", 8),
    ("return bit32.band(6, 3)", 2),
    ("return tonumber('0x10') + tonumber('1e1')", 26),
    (
        "return type(coroutine) .. type(os) .. type(io) .. type(debug) .. type(load)",
        "nilnilnilnilnil",
    ),
    ("return type(string.dump) .. type(string.gsub) .. type(string.match)", "nilnilnil"),
    ("return pcall(error, 'x')", False),
    ("local ok, e = pcall(error, 'boom', 0) return e", "boom"),
    (
        "return select(2, xpcall(function() error('e', 0) end, function(m) return 'h:' .. m end))",
        "h:e",
    ),
    ("print('ignored') return 1", 1),
    ("return _VERSION", "Lua 5.2"),
]


@pytest.mark.parametrize(("source", "expected"), LIBRARY)
def test_lua_library_surface(scripts_inproc: Scripts, source: str, expected: Any) -> None:
    """SCRIPT-6: go-lua's surface: no coroutine/io/os/debug/load; find is plain text."""
    assert same(lua(scripts_inproc, source)["result"], expected)


def test_lua_error_objects(scripts_inproc: Scripts) -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        lua(scripts_inproc, "error({code = 1})")
    assert caught.value.message == "lua execution error: (error object is a table value)"
    with pytest.raises(ScriptRuntimeError) as caught:
        lua(scripts_inproc, "error(42)")
    assert caught.value.message == "lua execution error: script:1: 42"
    with pytest.raises(ScriptRuntimeError) as caught:
        lua(scripts_inproc, "local x = nil\nreturn x.y")
    assert caught.value.message.startswith("lua execution error: script:2:")


def test_lua_line_numbers_match_the_source(scripts_inproc: Scripts) -> None:
    """SCRIPT-2: the parameter prologue does not shift user line numbers."""
    with pytest.raises(ScriptRuntimeError) as caught:
        lua(scripts_inproc, "local a = 1\n\nerror('third line')", x=1, y=2)
    assert "script:3: third line" in caught.value.message


def test_lua_inputs_are_tables_not_python_objects(scripts_inproc: Scripts) -> None:
    """Inputs are converted to Lua values; nothing Python-side reaches the script."""
    out = lua(
        scripts_inproc,
        "return {a = type(data), b = type(data.list), c = data.list[3], d = #data.list,"
        " e = type(data.nested.x), f = data.missing}",
        data={"list": [1, 2, 3], "nested": {"x": 1.5}, "missing": None},
    )
    assert out == {"a": "table", "b": "table", "c": 3, "d": 3, "e": "number"}


def test_each_thread_has_its_own_runtime(scripts: Scripts) -> None:
    results: list[bool] = []

    def work() -> None:
        for i in range(50):
            results.append(
                scripts.predicate("lua", "counter = (counter or 0) + 1 return counter == 1", [], {})
            )
            assert i >= 0

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 150
