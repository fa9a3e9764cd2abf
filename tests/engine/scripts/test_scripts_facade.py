"""The Scripts interface: check, language rules, caching, lifecycle, lazy loading."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from argyll.engine.scripts import ScriptLimits, Scripts
from argyll.errors import ScriptCompileError, ScriptRuntimeError

REPO = Path(__file__).resolve().parents[3]


def test_check_rejects_unknown_language(scripts: Scripts) -> None:
    with pytest.raises(ScriptCompileError) as caught:
        scripts.check("python", "1", [], "predicate")
    assert caught.value.message == "invalid script language: python"


def test_jpath_step_scripts(scripts: Scripts) -> None:
    """JPATH-4 (revised): jpath runs step scripts over the argument map."""
    scripts.check("jpath", "$.a", ["a"], "script")
    with pytest.raises(ScriptCompileError) as caught:
        scripts.check("jpath", "$..[", ["a"], "script")
    assert caught.value.message == "jpath compile error: $..["
    order = {"items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 0}, {"sku": "c", "qty": 1}]}
    source = "$.order.items[?@.qty > 0]"  # the example

    def run(src: str, args: dict[str, object], outputs: tuple[str, ...]) -> object:
        return asyncio.run(scripts.run("jpath", src, sorted(args), args, outputs))

    # several matches -> the list; a non-map goes to the only output
    assert run(source, {"order": order}, ("picked",)) == {
        "picked": [{"sku": "a", "qty": 2}, {"sku": "c", "qty": 1}]
    }
    # one match -> that value; a map result becomes the outputs by name
    assert run("$.order.items[0]", {"order": order}, ("x", "y")) == {"sku": "a", "qty": 2}
    # a scalar with no single output -> `result`
    assert run("$.order.items[2].sku", {"order": order}, ("x", "y")) == {"result": "c"}
    assert run("$.order.items[2].sku", {"order": order}, ()) == {"result": "c"}
    # no match -> a runtime error (a permanent failure of the work item)
    with pytest.raises(ScriptRuntimeError) as failed:
        run("$.order.items[?@.qty > 5]", {"order": order}, ("picked",))
    assert failed.value.message == "jpath produced no matches"


def test_check_reports_compiler_text(scripts: Scripts) -> None:
    """VAL-1 step 7: the compiler's error text, e.g. ``jpath compile error: <src>``."""
    with pytest.raises(ScriptCompileError) as caught:
        scripts.check("jpath", "$..[", [], "predicate")
    assert caught.value.message == "jpath compile error: $..["
    with pytest.raises(ScriptCompileError) as caught:
        scripts.check("ale", "(> x 1)", ["y"], "predicate")
    assert "symbol not declared in namespace: x" in caught.value.message
    with pytest.raises(ScriptCompileError) as caught:
        scripts.check("lua", "return {", [], "script")
    assert caught.value.message.startswith("lua compile error: ")


def test_match_scripts_compile_against_value(scripts: Scripts) -> None:
    """VAL-1: match scripts are compiled in the context of a single input ``value``."""
    scripts.check("ale", "(> value 1)", ["value"], "match")
    with pytest.raises(ScriptCompileError):
        scripts.check("ale", "(> amount 1)", ["value"], "match")


def test_source_size_limit() -> None:
    small = Scripts(ScriptLimits(workers=0, max_source=64))
    try:
        with pytest.raises(ScriptCompileError) as caught:
            small.check("ale", "(+ " + "1 " * 40 + ")", [], "script")
        assert caught.value.message == "script exceeded its source size limit (64 bytes)"
        small.check("ale", "(+ 1 2)", [], "script")
    finally:
        small.close()


def test_compile_cache_keys_on_sorted_arg_names(scripts: Scripts) -> None:
    """Compile once per (language, source, sorted arg names)."""
    first = scripts._compile_ale("(+ a b)", ["a", "b"])
    assert scripts._compile_ale("(+ a b)", ["b", "a"]) is first
    assert scripts._compile_ale("(+ a b)", ["a", "b", "c"]) is not first


def test_cache_is_bounded() -> None:
    small = Scripts(ScriptLimits(workers=0, cache_size=3))
    try:
        for i in range(10):
            small.check("ale", f"(+ {i} 1)", [], "predicate")
            small.check("jpath", f"$.a{i}", [], "predicate")
        assert len(small._ale) == 3
        assert len(small._jpath) == 10
    finally:
        small.close()


def test_failed_compiles_are_not_cached(scripts: Scripts) -> None:
    before = len(scripts._ale)
    for _ in range(3):
        with pytest.raises(ScriptCompileError):
            scripts.check("ale", "(nope)", [], "predicate")
    assert len(scripts._ale) == before


def test_predicates_are_thread_safe(scripts: Scripts) -> None:
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(200):
                x = offset + i
                assert scripts.predicate("ale", "(> x 100)", ["x"], {"x": x}) is (x > 100)
                assert scripts.predicate("lua", "return x > 100", ["x"], {"x": x}) is (x > 100)
                assert scripts.match("jpath", "$.x", {"x": x})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 37,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_no_process_before_first_run_and_close_is_reliable() -> None:
    instance = Scripts(ScriptLimits(workers=2))
    assert instance.worker_pids == []
    instance.check("ale", "(+ 1 2)", [], "script")
    instance.predicate("lua", "return true", [], {})
    assert instance.worker_pids == []

    async def burst() -> None:
        await asyncio.gather(*(instance.run("ale", "(+ 1 2)", [], {}) for _ in range(4)))

    asyncio.run(burst())
    pids = instance.worker_pids
    assert 1 <= len(pids) <= 2
    instance.close()
    instance.close()  # idempotent
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.02)
    assert not [pid for pid in pids if _alive(pid)]
    with pytest.raises(ScriptRuntimeError):
        asyncio.run(instance.run("ale", "(+ 1 2)", [], {}))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def test_import_is_light_and_spawns_nothing() -> None:
    code = (
        "import sys, os\n"
        "import argyll.engine.scripts as s\n"
        "s.Scripts(s.ScriptLimits(workers=2))\n"
        "heavy = [m for m in ('hy', 'lupa', 'jsonpath_ng') if m in sys.modules]\n"
        "pid = os.getpid()\n"
        "try:\n"
        "    kids = open(f'/proc/{pid}/task/{pid}/children').read().split()\n"
        "except OSError:\n"
        "    kids = []\n"
        "print(heavy, kids)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


def test_in_process_mode_runs_off_the_loop(scripts_inproc: Scripts) -> None:
    async def scenario() -> dict[str, object]:
        return await scripts_inproc.run("lua", "return {t = x}", ["x"], {"x": "ok"})

    assert asyncio.run(scenario()) == {"t": "ok"}
    assert scripts_inproc.worker_pids == []
