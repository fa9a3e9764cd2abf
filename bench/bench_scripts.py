"""Script layer costs: compile, cached evaluation, Ale sequences, the process hop.

To run things: ``.venv/bin/python bench/bench_scripts.py`` (``--help`` for options).

Scenarios (each printed with a floor measured in the same run):

- ``compile``: cache-miss compile per language (Ale predicate, Ale price
  calculator, Lua predicate, Lua eligibility checker, jpath shorthand).
- ``call``: a trivial *cached* predicate through ``Scripts.predicate`` for
  Ale ``(> x 10)``, Lua ``return x > 10`` and jpath ``$.x > 10``; floors are a
  plain Python function call, a bare (unsandboxed) lupa call and a bare
  jsonpath-ng ``find``.
- ``ale-seq``: map/filter/reduce over 100 elements in Ale, against the same
  in plain Python.
- ``run``: ``await Scripts.run`` of a trivial step script with two worker
  processes (the process hop) and in-process (``workers=0``, a thread hop);
  the floor is a raw length-prefixed round trip to an echo subprocess.

Targets (issue 3): trivial cached call < 20 us in process, < 150 us with the
process hop; typical compile < 5 ms. Figures are medians of ``--repeat``
runs; absolute numbers move by 20-30 % on these machines.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from argyll.engine.scripts import ScriptLimits, Scripts  # noqa: E402
from argyll.engine.scripts.worker import read_frame, write_frame  # noqa: E402

PRICE_CALCULATOR = """(let* ([subtotal (* quantity unit_price)]
       [tax      (* subtotal 0.08)]
       [shipping (if (> quantity 5) 0.0 9.99)])
  {:subtotal subtotal :tax tax :shipping shipping :total (+ subtotal tax shipping)})"""

ELIGIBILITY = """local eligible, reason = false, ""
if age < 18 then reason = "age below minimum (18)"
elseif income < 30000 then reason = "income below minimum"
else eligible = true reason = "all criteria met" end
return {eligible = eligible, reason = reason,
        risk_level = credit_score >= 750 and "low"
                     or (credit_score >= 650 and "medium" or "high")}"""

ALE_SEQ = "(reduce + 0 (filter even? (map (lambda (x) (* x 3)) items)))"

ECHO = (
    "import sys; sys.path.insert(0, sys.argv[1])\n"
    "from argyll.engine.scripts.worker import read_frame, write_frame\n"
    "while (f := read_frame(0)) is not None: write_frame(1, f)\n"
)


def per_call(func: Callable[[], Any], number: int, repeat: int) -> float:
    """Median seconds per call over ``repeat`` batches of ``number`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            func()
        samples.append((time.perf_counter() - started) / number)
    return statistics.median(samples)


def compile_cost(scripts: Scripts, language: str, make: Callable[[int], str], repeat: int) -> float:
    samples = []
    for i in range(repeat * 5):
        source = make(i)
        started = time.perf_counter()
        scripts.check(
            language,
            source,
            ["age", "credit_score", "income", "quantity", "unit_price", "x"],
            "predicate",
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def show(label: str, seconds: float, floor: float | None = None, unit: str = "us") -> None:
    scale = 1e6 if unit == "us" else 1e3
    line = f"  {label:<44} {seconds * scale:9.{2 if unit == 'ms' else 1}f} {unit}"
    if floor:
        line += f"   ({seconds / floor:6.1f}x floor {floor * scale:.2f} {unit})"
    print(line)


def bench_compile(repeat: int) -> None:
    scripts = Scripts(ScriptLimits(workers=0))
    scripts.check("ale", "(+ 1 2)", [], "predicate")  # import Hy outside the measurement
    scripts.check("lua", "return 1", [], "predicate")
    scripts.check("jpath", "$.a", [], "predicate")
    print("compile (cache miss)")
    cases: list[tuple[str, str, Callable[[int], str]]] = [
        ("ale (> x 10)", "ale", lambda i: f"(> x {i})"),
        ("ale price calculator (let*, 5 bindings)", "ale", lambda i: f"{PRICE_CALCULATOR} ; {i}"),
        ("lua return x > 10", "lua", lambda i: f"return x > {i}"),
        ("lua eligibility checker", "lua", lambda i: f"{ELIGIBILITY} -- {i}"),
        ('jpath $.a.b == "x"', "jpath", lambda i: f'$.a{i}.b == "x"'),
    ]
    for label, language, make in cases:
        show(label, compile_cost(scripts, language, make, repeat), unit="ms")
    scripts.close()


def bench_call(number: int, repeat: int) -> None:
    import lupa.lua52 as lua52
    from jsonpath_ng import parse

    scripts = Scripts(ScriptLimits(workers=0))
    args = {"x": 15}
    print("trivial cached evaluation (Scripts.predicate / match)")

    def python_gt(x: int) -> bool:
        return x > 10

    floor_py = per_call(lambda: python_gt(15), number, repeat)
    show(
        "ale (> x 10)",
        per_call(lambda: scripts.predicate("ale", "(> x 10)", ["x"], args), number, repeat),
        floor_py,
    )
    runtime = lua52.LuaRuntime()
    bare = runtime.eval("function(x) return x > 10 end")
    floor_lua = per_call(lambda: bare(15), number, repeat)
    show(
        "lua return x > 10",
        per_call(lambda: scripts.predicate("lua", "return x > 10", ["x"], args), number, repeat),
        floor_lua,
    )
    path = parse("$.x")
    floor_jpath = per_call(lambda: path.find(args), number, repeat)
    show(
        "jpath $.x (predicate)",
        per_call(lambda: scripts.predicate("jpath", "$.x", ["x"], args), number, repeat),
        floor_jpath,
    )
    show(
        "jpath $.x > 10 (shorthand filter)",
        per_call(lambda: scripts.predicate("jpath", "$.x > 10", ["x"], args), number, repeat),
        floor_jpath,
    )
    show(
        "ale {:result (+ a b)} (mapping, converted)",
        per_call(
            lambda: scripts.mapping("ale", "{:result (+ value 1)}", "value", 2), number, repeat
        ),
        floor_py,
    )
    scripts.close()


def bench_ale_seq(repeat: int) -> None:
    scripts = Scripts(ScriptLimits(workers=0))
    items = list(range(100))
    print("ale map/filter/reduce over 100 elements")

    def python_seq() -> int:
        return sum(v for v in (x * 3 for x in items) if v % 2 == 0)

    floor = per_call(python_seq, 200, repeat)
    show(
        ALE_SEQ[:44],
        per_call(lambda: scripts.mapping("ale", ALE_SEQ, "items", items), 200, repeat),
        floor,
    )
    scripts.close()


def bench_run(number: int, repeat: int) -> None:
    echo = subprocess.Popen(
        [sys.executable, "-c", ECHO, str(ROOT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert echo.stdin is not None and echo.stdout is not None
    fd_in, fd_out = echo.stdin.fileno(), echo.stdout.fileno()

    def round_trip() -> None:
        write_frame(fd_in, b"x" * 64)
        read_frame(fd_out)

    floor = per_call(round_trip, number, repeat)
    echo.stdin.close()
    echo.wait()
    print("step script through Scripts.run (awaited one at a time)")
    for label, workers in (("worker process", 2), ("in process (thread hop)", 0)):
        scripts = Scripts(ScriptLimits(workers=workers))

        async def loop(language: str, source: str, scripts: Scripts = scripts) -> float:
            for _ in range(20):  # warm up workers and caches
                await scripts.run(language, source, ["x"], {"x": 15})
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                for _ in range(number // 10):
                    await scripts.run(language, source, ["x"], {"x": 15})
                samples.append((time.perf_counter() - started) / (number // 10))
            return statistics.median(samples)

        show(f"ale (> x 10), {label}", asyncio.run(loop("ale", "(> x 10)")), floor)
        show(f"lua return x > 10, {label}", asyncio.run(loop("lua", "return x > 10")), floor)
        scripts.close()
    print(f"  (floor: raw pipe round trip to an echo subprocess, {floor * 1e6:.1f} us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=5000, help="calls per batch")
    parser.add_argument("--repeat", type=int, default=5, help="batches (median reported)")
    parser.add_argument(
        "only", nargs="*", choices=["compile", "call", "ale-seq", "run", []], help="scenarios"
    )
    options = parser.parse_args()
    chosen = set(options.only or ["compile", "call", "ale-seq", "run"])
    if "compile" in chosen:
        bench_compile(options.repeat)
    if "call" in chosen:
        bench_call(options.number, options.repeat)
    if "ale-seq" in chosen:
        bench_ale_seq(options.repeat)
    if "run" in chosen:
        bench_run(options.number, options.repeat)


if __name__ == "__main__":
    main()
