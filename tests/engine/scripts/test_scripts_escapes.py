"""Escape and denial-of-service attempts against the sandbox (SCRIPT-6).

Every attempt must end in an error of the expected kind (or a harmless value),
within about twice the time limit, write no canary file, and put no host data
(files, class/module/frame reprs, tracebacks, paths) into its output or error.
Attempts run through ``Scripts.run`` (worker processes, 0.3 s limit) or
``Scripts.predicate`` (in process, 50 ms limit) with the ``fast_scripts``
fixture. Follow-up scripts check that nothing leaks between calls.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from argyll.engine.scripts import Scripts
from argyll.errors import ScriptCompileError, ScriptError, ScriptLimitExceeded, ScriptRuntimeError

CANARY = "@CANARY@"

LEAK_MARKERS = (
    "root:x:",
    "<class",
    "<module",
    "<function",
    "<built-in",
    "__builtins__",
    "__globals__",
    "<frame",
    "Traceback",
    "site-packages",
    "lupa.",
    "/work/",
    "_hy_",
)


@dataclass(frozen=True)
class Attack:
    id: str
    language: str
    source: str
    expect: str  # compile | runtime | limit | error (runtime or limit) | harmless
    via: str = "run"  # run | predicate


ALE_ATTACKS = [
    # Code execution at compile time: Hy macros, reader macros, inline Python.
    Attack("ale-import", "ale", "(import os)", "compile"),
    Attack("ale-eval", "ale", "(eval '(+ 1 2))", "compile"),
    Attack(
        "ale-defmacro",
        "ale",
        f'(defmacro m [] (import os) (os.system "touch {CANARY}")) (m)',
        "compile",
    ),
    Attack(
        "ale-eval-when-compile",
        "ale",
        f'(eval-when-compile (import os) (os.system "touch {CANARY}"))',
        "compile",
    ),
    Attack("ale-defreader", "ale", '(defreader x (import os) (os.system "id")) #x 1', "compile"),
    Attack("ale-require", "ale", "(require hyrule)", "compile"),
    Attack("ale-py", "ale", f"(py \"__import__('os').system('touch {CANARY}')\")", "compile"),
    Attack("ale-pys", "ale", f"(pys \"open('{CANARY}', 'w')\")", "compile"),
    Attack("ale-fstring", "ale", f'f"{{(open \\"{CANARY}\\" \\"w\\")}}"', "compile"),
    Attack("ale-dotted-call", "ale", f'(os.system "touch {CANARY}")', "compile"),
    Attack("ale-dot-form", "ale", '(. "" __class__)', "compile"),
    Attack("ale-method-format", "ale", '(.format "{0.__class__.__mro__}" "")', "compile"),
    Attack("ale-builtins", "ale", "__builtins__", "compile"),
    Attack("ale-getattr", "ale", '(getattr first "__globals__")', "compile"),
    Attack("ale-fullwidth-dunder", "ale", "\uff3f\uff3fclass\uff3f\uff3f", "compile"),
    Attack("ale-fullwidth-eval", "ale", '(\uff45\uff56\uff41\uff4c "1")', "compile"),
    Attack("ale-open", "ale", '(open "/etc/passwd")', "compile"),
    Attack("ale-exec", "ale", '(exec "import os")', "compile"),
    Attack("ale-dunder-import", "ale", '(__import__ "os")', "compile"),
    Attack("ale-bracket-string", "ale", "#[[hello]]", "compile"),
    Attack("ale-hy-setv", "ale", "(setv x 1)", "compile"),
    Attack("ale-hy-fn", "ale", "((fn [x] x) 1)", "compile"),
    Attack("ale-quasiquote", "ale", "`(a ,b)", "compile"),
    Attack("ale-define", "ale", "(define x 1)", "compile"),
    Attack("ale-go", "ale", "(go (let-rec [f (lambda () (f))] (f)))", "compile"),
    Attack("ale-quoted-symbol", "ale", "'os", "compile"),
    Attack("ale-print", "ale", '(print "x")', "compile"),
    Attack("ale-try", "ale", '(try (raise "x") (catch e e))', "compile"),
    Attack("ale-tuple", "ale", "#(1 2)", "compile"),
    Attack("ale-hy-eval", "ale", '(hy.eval "(+ 1 1)")', "compile"),
    Attack("ale-globals", "ale", "(globals)", "compile"),
    Attack("ale-unpack", "ale", "(+ #* [1 2])", "compile"),
    Attack("ale-keyword-attr", "ale", "(. :k __class__ __init__ __globals__)", "compile"),
    # Dunder-looking names are just renamed locals; prelude lookups are type-checked.
    Attack("ale-dunder-param", "ale", "((lambda (__class__) __class__) 1)", "harmless"),
    Attack("ale-get-globals", "ale", '(get first "__globals__")', "runtime"),
    Attack("ale-method-on-string", "ale", '(: "" :__class__)', "runtime"),
    Attack("ale-keyword-on-proc", "ale", "(:__globals__ first)", "runtime"),
    Attack("ale-str-procedure", "ale", "(str first map)", "harmless"),
    Attack("ale-str-bang-procedure", "ale", "(str! identity)", "harmless"),
    Attack("ale-raise-procedure", "ale", "(raise first)", "runtime"),
    Attack("ale-call-string-dunder", "ale", '("__class__" 0 2)', "harmless"),
    Attack("ale-string-mul", "ale", '(* "x" 10000000000)', "runtime"),
    Attack("ale-list-mul", "ale", "(* [0] 10000000000)", "runtime"),
    # Denial of service.
    Attack("ale-recursion", "ale", "(let-rec [f (lambda (n) (f n))] (f 1))", "limit"),
    Attack("ale-y-combinator", "ale", "((lambda (f) (f f)) (lambda (f) (f f)))", "limit"),
    Attack("ale-reduce-infinite", "ale", "(reduce + (range))", "limit"),
    Attack("ale-realise-infinite", "ale", "(seq->vector (range))", "limit"),
    Attack("ale-factorial-bomb", "ale", "(reduce * (range 1 100000))", "limit"),
    Attack(
        "ale-string-doubling", "ale", '(let-rec [f (lambda (s) (f (str s s)))] (f "x"))', "limit"
    ),
    Attack("ale-apply-huge", "ale", "(apply + (range 100000000))", "limit"),
    Attack("ale-length-infinite", "ale", "(length! (range))", "limit"),
    Attack("ale-last-infinite", "ale", "(last! (range))", "limit"),
    Attack(
        "ale-big-strings",
        "ale",
        "(seq->vector (map (lambda (x) (str x x x x x x x x x x)) (range 100000000)))",
        "limit",
    ),
    Attack(
        "ale-deep-recursion",
        "ale",
        "(let-rec [f (lambda (n) (if (= n 0) 0 (+ 1 (f (- n 1)))))] (f 100000))",
        "limit",
    ),
    Attack("ale-infinite-output", "ale", "(range)", "limit"),
    Attack("ale-infinite-partition", "ale", "(partition 1 (range))", "limit"),
    Attack(
        "ale-deep-result",
        "ale",
        "(let-rec [f (lambda (n) (if (= n 0) [] [(f (- n 1))]))] (f 200))",
        "limit",
    ),
    Attack("ale-str-infinite", "ale", "(str (range))", "limit"),
    Attack("ale-power-bomb", "ale", "(reduce (lambda (a b) (* a a)) 3 (range 40))", "limit"),
    Attack("ale-inf-result", "ale", "(/ 1.0 0)", "runtime"),
    Attack("ale-pred-loop", "ale", "(reduce + (range))", "limit", via="predicate"),
    Attack(
        "ale-pred-recursion",
        "ale",
        "(let-rec [f (lambda (n) (f n))] (f 1))",
        "limit",
        via="predicate",
    ),
    Attack(
        "ale-pred-memory",
        "ale",
        '(let-rec [f (lambda (s) (f (str s s)))] (f "x"))',
        "limit",
        via="predicate",
    ),
]

LUA_ATTACKS = [
    Attack("lua-python-global", "lua", "return python", "harmless"),
    Attack("lua-python-eval", "lua", 'return python.eval("1")', "runtime"),
    Attack("lua-python-builtins", "lua", "return python.builtins.open", "runtime"),
    Attack("lua-os-execute", "lua", f'os.execute("touch {CANARY}")', "runtime"),
    Attack("lua-io-open", "lua", f'io.open("{CANARY}", "w"):write("x")', "runtime"),
    Attack("lua-require", "lua", 'return require("os")', "runtime"),
    Attack("lua-dofile", "lua", 'return dofile("/etc/passwd")', "runtime"),
    Attack("lua-loadfile", "lua", 'return loadfile("/etc/passwd")', "runtime"),
    Attack("lua-load", "lua", 'return load("return 1")()', "runtime"),
    Attack("lua-loadstring", "lua", 'return loadstring("return 1")()', "runtime"),
    Attack("lua-string-dump", "lua", "return string.dump(function() end)", "runtime"),
    Attack("lua-method-dump", "lua", 'return ("").dump(function() end)', "runtime"),
    Attack("lua-debug", "lua", "return debug.getinfo(1)", "runtime"),
    Attack("lua-sethook", "lua", "debug.sethook()", "runtime"),
    Attack("lua-collectgarbage", "lua", 'collectgarbage("stop")', "runtime"),
    Attack("lua-coroutine", "lua", "coroutine.wrap(function() while true do end end)()", "runtime"),
    Attack("lua-package", "lua", 'return package.loadlib("libc.so.6", "system")', "runtime"),
    Attack("lua-string-metatable", "lua", 'getmetatable("").__index.upper = nil', "runtime"),
    Attack("lua-string-gsub", "lua", 'return ("x"):gsub("x", "y")', "runtime"),
    Attack("lua-string-match", "lua", 'return string.match("aaa", "(a+)+b")', "runtime"),
    Attack(
        "lua-gc-finalizer",
        "lua",
        "setmetatable({}, {__gc = function() while true do end end})",
        "runtime",
    ),
    Attack("lua-busy-loop", "lua", "while true do end", "limit"),
    Attack("lua-goto-loop", "lua", "::top:: goto top", "limit"),
    Attack(
        "lua-pcall-swallow",
        "lua",
        "while true do pcall(function() while true do end end) end",
        "limit",
    ),
    Attack(
        "lua-xpcall-handler",
        "lua",
        "xpcall(function() while true do end end, function() while true do end end)",
        "limit",
    ),
    Attack("lua-error-swallow-loop", "lua", "for i = 1, 1e12 do pcall(error, 'x') end", "limit"),
    Attack("lua-table-bomb", "lua", "local t = {} for i = 1, 1e9 do t[i] = i end", "limit"),
    Attack("lua-string-doubling", "lua", 'local s = "x" while true do s = s .. s end', "limit"),
    Attack("lua-string-rep", "lua", 'return string.rep("x", 1e10)', "limit"),
    Attack(
        "lua-pcall-oom", "lua", 'local ok = pcall(string.rep, "x", 1e10) return {ok = ok}', "limit"
    ),
    Attack(
        "lua-find-quadratic",
        "lua",
        'local s = ("a"):rep(100000) return s:find(("a"):rep(5000) .. "b")',
        "runtime",
    ),
    Attack("lua-find-pattern-is-plain", "lua", 'return {r = ("a+b"):find("a+")}', "harmless"),
    Attack(
        "lua-index-metamethod-result",
        "lua",
        "return setmetatable({}, {__index = function() while true do end end})",
        "harmless",
    ),
    Attack(
        "lua-tostring-error-object",
        "lua",
        "error(setmetatable({}, {__tostring = function() while true do end end}))",
        "runtime",
    ),
    Attack("lua-cyclic-result", "lua", "local t = {} t.t = t return {t = t}", "limit"),
    Attack(
        "lua-stack-overflow", "lua", "local function f() return 1 + f() end return f()", "limit"
    ),
    Attack(
        "lua-tail-call-loop", "lua", "local function f(n) return f(n + 1) end return f(1)", "limit"
    ),
    # _G._G is a cycle and _G.math.huge is infinite: either error, by table order.
    Attack("lua-return-globals", "lua", "return _G", "error"),
    Attack("lua-return-library", "lua", "return {s = string, t = table}", "harmless"),
    Attack("lua-inf-result", "lua", "return math.huge", "runtime"),
    Attack(
        "lua-concat-bomb",
        "lua",
        'local t = {} for i = 1, 1e7 do t[i] = ("x"):rep(100) end return table.concat(t)',
        "limit",
    ),
    Attack("lua-format-width", "lua", 'return string.format("%99999d", 1)', "runtime"),
    Attack("lua-unpack-huge", "lua", "return select('#', table.unpack({}, 1, 1e8))", "runtime"),
    Attack("lua-env-nil", "lua", "_ENV = nil return 1", "harmless"),
    Attack("lua-metatable-g", "lua", "return getmetatable(_G)", "harmless"),
    Attack("lua-binary-chunk", "lua", "\x1bLua\x52\x00", "compile"),
    Attack("lua-pred-loop", "lua", "while true do end", "limit", via="predicate"),
    Attack(
        "lua-pred-pcall",
        "lua",
        "while true do pcall(function() while true do end end) end",
        "limit",
        via="predicate",
    ),
    Attack(
        "lua-pred-memory",
        "lua",
        'local s = "x" while true do s = s .. s end',
        "limit",
        via="predicate",
    ),
    # Few instructions, much C work per instruction: library calls check the
    # deadline before they start and the hook runs every 100 instructions.
    Attack(
        "lua-pred-sort-loop",
        "lua",
        'local t = {("x"):rep(500000):byte(1, -1)} for i = 1, 50 do table.sort(t) end',
        "limit",
        via="predicate",
    ),
    Attack(
        "lua-pred-concat-loop",
        "lua",
        'local s = ("x"):rep(4e6) while true do local u = s .. s end',
        "limit",
        via="predicate",
    ),
    Attack(
        "lua-pred-upper-loop",
        "lua",
        'local s = ("x"):rep(4e6) for i = 1, 1e9 do local u = s:upper() end',
        "limit",
        via="predicate",
    ),
]

ATTACKS = ALE_ATTACKS + LUA_ATTACKS

_EXPECTED: dict[str, type[ScriptError]] = {
    "compile": ScriptCompileError,
    "error": ScriptRuntimeError,
    "runtime": ScriptRuntimeError,
    "limit": ScriptLimitExceeded,
}


def _attempt(scripts: Scripts, attack: Attack, source: str) -> Any:
    if attack.via == "predicate":
        return scripts.predicate(attack.language, source, [], {})
    return asyncio.run(scripts.run(attack.language, source, [], {}))


def test_there_are_enough_attacks() -> None:
    assert len(ATTACKS) >= 60
    assert len({a.id for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_attack_is_contained(fast_scripts: Scripts, attack: Attack, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    source = attack.source.replace(CANARY, str(canary))
    limit = fast_scripts.limits.script_timeout if attack.via == "run" else 0.05
    started = time.monotonic()
    if attack.expect == "harmless":
        result = _attempt(fast_scripts, attack, source)
        text = repr(result)
    else:
        with pytest.raises(_EXPECTED[attack.expect]) as caught:
            _attempt(fast_scripts, attack, source)
        if attack.expect == "runtime":
            assert not isinstance(caught.value, ScriptLimitExceeded), caught.value.message
        text = caught.value.message
    elapsed = time.monotonic() - started
    assert elapsed < 2 * limit + 1.5, f"took {elapsed:.2f}s"
    assert not canary.exists()
    for marker in LEAK_MARKERS:
        if marker in source:
            continue  # an error may echo the attacker's own symbol
        assert marker not in text, f"{marker!r} leaked in {text[:200]!r}"


def test_limit_messages_are_stable(fast_scripts: Scripts) -> None:
    """SCRIPT-6: limit errors carry a stable message naming the limit."""
    with pytest.raises(ScriptLimitExceeded) as caught:
        asyncio.run(fast_scripts.run("lua", "while true do end", [], {}))
    assert caught.value.message == "script exceeded its time limit (300ms)"
    assert caught.value.kind == "time"
    with pytest.raises(ScriptLimitExceeded) as caught:
        asyncio.run(fast_scripts.run("lua", 'return ("x"):rep(1e10)', [], {}))
    assert caught.value.message == "script exceeded its memory limit (64 MiB)"
    assert caught.value.kind == "memory"
    with pytest.raises(ScriptLimitExceeded) as caught:
        fast_scripts.predicate("ale", "(reduce + (range))", [], {})
    assert caught.value.message == "script exceeded its time limit (50ms)"


def test_lua_poisoning_does_not_persist(fast_scripts: Scripts) -> None:
    """Fresh _ENV per call: globals and library edits die with the call (SCRIPT-6)."""
    poison = (
        "tostring = function() return 'pwned' end\n"
        "string.upper = nil\nmath.floor = nil\nleak = 'secret'\nrawset(_G, 'leak2', 1)\n"
        "return 1"
    )
    followup = "return {s = tostring(12), u = ('a'):upper(), f = math.floor(1.5), l = leak}"
    for _ in range(3):  # several calls so both workers are exercised
        asyncio.run(fast_scripts.run("lua", poison, [], {}))
        result = asyncio.run(fast_scripts.run("lua", followup, [], {}))
        assert result == {"s": "12", "u": "A", "f": 1}
    fast_scripts.predicate("lua", poison, [], {})
    assert fast_scripts.predicate("lua", "return leak == nil and tostring(1) == '1'", [], {})


def test_workers_recover_after_attacks(fast_scripts: Scripts) -> None:
    """After kills and memory failures, the pool still answers normal scripts."""
    for attack in ("while true do end", 'local s = "x" while true do s = s .. s end'):
        with pytest.raises(ScriptLimitExceeded):
            asyncio.run(fast_scripts.run("lua", attack, [], {}))
    for _ in range(4):
        assert asyncio.run(fast_scripts.run("ale", "{:r (+ 1 2)}", [], {})) == {"r": 3}
