"""Ale on Hy: reader syntax, special forms, prelude semantics, conversions, validator.

Values are checked through the in-process runner (``workers=0``) so these
tests exercise the same compile/call path as predicates and the workers.
"""

from __future__ import annotations

import ast
import asyncio
from typing import Any

import pytest
from script_corpus import same

from argyll.engine.scripts import Scripts
from argyll.engine.scripts.ale.validate import UnsafeCode, validate
from argyll.errors import ScriptCompileError, ScriptError, ScriptRuntimeError


def ale(scripts: Scripts, source: str, **args: Any) -> Any:
    outputs = asyncio.run(scripts.run("ale", source, sorted(args), args))
    return outputs["result"] if list(outputs) == ["result"] else outputs


SEMANTICS: list[tuple[str, Any]] = [
    # Reader: Ale number forms, escapes, comments, booleans.
    ("010", 8),
    ("0x1F", 31),
    ("0b101", 5),
    ("-5", -5),
    ("1/2", "1/2"),
    ("-3/6", "-1/2"),
    ("1.5e3", 1500.0),
    ('"a\\sb\\qc\\n"', "a bqc\n"),
    ("#t", True),
    ("#f", False),
    ("#| block #| nested |# |# 1", 1),
    ("; comment\n2", 2),
    ("'(1 2 3)", [1, 2, 3]),
    ("'(1 . 2)", "(1 . 2)"),
    ('\'[1 :a "s"]', [1, "a", "s"]),
    ("'{:a 1}", {"a": 1}),
    ("(ale/str 1)", "1"),
    # Truthiness: only false is false (SCRIPT-4).
    ("(if 0 1 2)", 1),
    ("(if nil 1 2)", 1),
    ("(if '() 1 2)", 1),
    ("(if false 1 2)", 2),
    ("(and 1 nil 3)", 3),
    ("(and 1 false 3)", False),
    ("(or false nil)", None),
    ("(or)", False),
    ("(and)", True),
    ("(not nil)", False),
    ("(not false)", True),
    ("(!and true false)", True),
    ("(!or false false)", True),
    # Equality and numbers.
    ("(eq 1 1.0)", False),
    ("(= 1 1.0)", True),
    ("(eq [1 2] [1 2])", True),
    ("(eq {:a 1} {:a 1})", True),
    ('(eq "a" :a)', False),
    ("(eq true 1)", False),
    ("(mod -7 3)", 2),
    ("(mod 7 -3)", -2),
    ("(/ 6 3)", 2),
    ("(/ 2)", "1/2"),
    ("(* 1/2 2)", 1),
    ("(+ 1/2 0.5)", 1.0),
    ("(- 5)", -5),
    ("(< 1 2 3)", True),
    ("(< 1 3 2)", False),
    ("(!= 1 2)", True),
    ("(inc 1.5)", 2.5),
    # str formatting (Go %g floats, #t/#f, keywords, quoted nested strings).
    (
        '(str "a" nil 1 true :k [1 "x"] {:b 2 :a 1} \'(1 2) 1.5 (/ 1 3))',
        'a1#t:k[1 "x"]{:a 1 :b 2}(1 2)1.51/3',
    ),
    ('(str! "a" 1)', '"a" 1'),
    ("(str 0.1)", "0.1"),
    ("(str 1e21)", "1e+21"),
    ("(str 0.00001)", "1e-05"),
    ("(str (map inc [1 2]))", "(2 3)"),
    # Sequences.
    ("(range 5)", [0, 1, 2, 3, 4]),
    ("(range 1 5)", [1, 2, 3, 4]),
    ("(range -3)", [0, -1, -2]),
    ("(range 0 10 3)", [0, 3, 6, 9]),
    ("(seq->vector (take 5 (range 10 inf 5)))", [10, 15, 20, 25, 30]),
    ("(partition 2 3 [1 2 3 4 5 6 7 8 9 10])", [[1, 2], [4, 5], [7, 8], [10]]),
    ("(partition 3 1 [1 2 3 4])", [[1, 2, 3], [2, 3, 4], [3, 4], [4]]),
    ("(fold-right list 0 [1 2 3])", [1, [2, [3, 0]]]),
    ("(fold-left list 0 [1 2 3])", [[[0, 1], 2], 3]),
    ("(reduce + [])", 0),
    ("(->> [1 2 3] (map inc) (reduce +))", 9),
    ("(for ([x [1 2]] [y [10 20]]) (+ x y))", [11, 21, 12, 22]),
    ("(for [x []] x)", None),
    ("(for-each [x [1 2 3]] (* x x))", 9),
    ("(nth [1 2] 5 :d)", "d"),
    ("(get {:a 1} :b 0)", 0),
    ('(get {:a 1} "a")', 1),
    ("(assoc {:a 1} (:b . 2))", {"a": 1, "b": 2}),
    ("(assoc {:a 1} [:b 2])", {"a": 1, "b": 2}),
    ("(assoc* {} [:a 1] [:b 2])", {"a": 1, "b": 2}),
    ("(dissoc {:a 1 :b 2} :a)", {"b": 2}),
    ("(contains? {:a 1} :a)", True),
    ("(index-of [4 8 15] 15)", 2),
    ("(index-of [1] 9)", False),
    ("(reverse [1 2 3])", [3, 2, 1]),
    ("(reverse '(1 2 3))", [3, 2, 1]),
    ('(reverse "abc")', "cba"),
    ('(first "abc")', "a"),
    ('(rest "abc")', "bc"),
    ("(first [])", None),
    ("(rest [1])", []),
    ('(seq->object [:name "ale" :age 3])', {"name": "ale", "age": 3}),
    ("(conj [1 2] 3)", [1, 2, 3]),
    ("(conj '(1 2) 0)", [0, 1, 2]),
    ("(cons 0 [1 2])", [0, 1, 2]),
    ("(cons 1 2)", "(1 . 2)"),
    ("(last [1 2 3])", 3),
    ("(last [])", None),
    ('(length "héllo")', 5),
    ("(length! (map inc [1 2]))", 2),
    ("(cadr [1 2 3])", 2),
    ("(caddr '(1 2 3))", 3),
    ("(zip [1 2] [3 4])", [[1, 3], [2, 4]]),
    ("(mapcat (lambda (x) [x x]) [1 2])", [1, 1, 2, 2]),
    ('(concat [1] \'(2) "ab")', [1, 2, "a", "b"]),
    ("(take-while (lambda (x) (< x 3)) (range))", [0, 1, 2]),
    ("(drop 2 [1 2 3 4])", [3, 4]),
    ("(seq [])", False),
    ("(seq [1])", [1]),
    ('(empty? [] nil "")', True),
    ("(!empty? [1])", True),
    ("(number? 1 2.0 1/2)", True),
    ("(string? 1)", False),
    ("(list? nil '(1))", True),
    ("(procedure? inc)", True),
    ("(is-a :number 1)", True),
    # Callable values and higher-order functions.
    ("(1 [10 20])", 20),
    ("([1 2 3] 1)", [2, 3]),
    ('("abcd" 1 3)', "bc"),
    ("({:a 1} :a)", 1),
    ("(: {:f inc} :f 1)", 2),
    ("((comp inc (partial * 2)) 3)", 8),
    ("((juxt inc dec) 5)", [6, 4]),
    ("(apply + 1 2 [3 4])", 10),
    ("((constantly 3) 1 2)", 3),
    ("((thunk 1))", 1),
    ("(thunk 1)", "#<procedure>"),
    # Binding and control forms.
    ("((lambda [(x) x] [(x y) (+ x y)]) 1 2)", 3),
    ("((lambda (a . r) r) 1 2 3)", [2, 3]),
    ("((lambda args args) 1 2)", [1, 2]),
    ("((lambda (a . r) r) 1)", None),
    ("((λ (x) (* x x)) 3)", 9),
    ("((lambda-rec f (n) (if (= n 0) :done (f (dec n)))) 5)", "done"),
    ("((label f (lambda (n) (if (= n 0) 0 (f (dec n))))) 3)", 0),
    ("(let* ([a 1] [b (+ a 1)]) b)", 2),
    ("(let ([a 1] [b 2]) [a b])", [1, 2]),
    ("(let [x 1] (let [x 2] x))", 2),
    ("(let [eq 1] (case 2 [2 eq]))", 1),
    ("(begin 1 2 3)", 3),
    ("(begin)", None),
    ("(let-> [x 1] (+ x 1) (* x 10))", 20),
    ("(unless false 1 2)", 1),
    ("(when true 1 2)", 2),
    ("(when-not true 1)", None),
    ("(case 2 [1 :one] [(2 3) :two-three])", "two-three"),
    ("(when-let [x 5] (+ x 1))", 6),
    ("(if-let [x false] 1 2)", 2),
    ("(some-> {:a {:b 1}} :a :b)", 1),
    ("(some-> {:a nil} :a :b)", None),
    ("(cond-> 1 [odd? inc] [odd? (* 100)])", 2),
    ('(cond [false 1] ["yes" 2])', 2),
    ("(cond)", None),
    # Object literals.
    ('{1 "one"}', {"1": "one"}),
    ('{"s" 1 :k 2}', {"s": 1, "k": 2}),
    ('(object :a 1 "b" 2)', {"a": 1, "b": 2}),
]


@pytest.mark.parametrize(("source", "expected"), SEMANTICS, ids=[s for s, _ in SEMANTICS])
def test_ale_semantics(scripts_inproc: Scripts, source: str, expected: Any) -> None:
    assert same(ale(scripts_inproc, source), expected)


def test_integral_json_numbers_arrive_as_integers(scripts_inproc: Scripts) -> None:
    """SCRIPT-2 [DECISION]: 3 stays an integer; 3.0 stays a float."""
    assert ale(scripts_inproc, "(str x)", x=3) == "3"
    assert ale(scripts_inproc, "(eq x 3)", x=3) is True
    assert ale(scripts_inproc, "(/ x 2)", x=3) == "3/2"
    assert ale(scripts_inproc, "(str x)", x=2.0) == "2.0"
    assert ale(scripts_inproc, "(eq x 3)", x=3.0) is False
    assert ale(scripts_inproc, "(/ x 2)", x=3.0) == 1.5


def test_inputs_are_not_mutated(scripts_inproc: Scripts) -> None:
    order = {"items": [1, 2], "meta": {"a": 1}}
    ale(scripts_inproc, "(assoc (dissoc order :meta) :x (conj (:items order) 3))", order=order)
    assert order == {"items": [1, 2], "meta": {"a": 1}}


def test_big_integers_become_strings(scripts_inproc: Scripts) -> None:
    assert ale(scripts_inproc, "(* 9223372036854775807 10)") == "92233720368547758070"


COMPILE_ERRORS: list[tuple[str, str]] = [
    ("(> x 1)", "symbol not declared in namespace: x"),
    ("(map and [1])", "cannot take the value of a special form: and"),
    ("(define x 1)", "unsupported form: define"),
    ("(quote x)", "quoting symbols is not supported"),
    ("(if)", "wrong number of arguments to if"),
    ("(let [1 2] 3)", "invalid binding name"),
    ("(let [x] 1)", "invalid binding"),
    ("(cond [1])", "invalid cond clause"),
    ("(lambda)", "lambda requires a parameter list"),
    ("{:a}", "object literal requires key/value pairs"),
    ("(:k)", "keyword call takes 1 or 2 arguments"),
    ("#{1 2}", "sets"),
    ("`x", "syntax-quote is not supported"),
    ("(a ,b)", "unquote is not supported"),
    ("1.", "invalid number"),
    ("0b102", "invalid number"),
    ("09", "invalid number"),
    ('"open', "end of input"),
    (")", "unexpected ')'"),
    ("#x", "unexpected characters: #x"),
    ("(" * 300 + ")" * 300, "nested"),
]


@pytest.mark.parametrize(("source", "fragment"), COMPILE_ERRORS)
def test_ale_compile_errors(scripts_inproc: Scripts, source: str, fragment: str) -> None:
    with pytest.raises(ScriptCompileError) as caught:
        scripts_inproc.check("ale", source, [], "script")
    assert fragment in caught.value.message
    assert caught.value.message.startswith("script compile error: ")


RUNTIME_ERRORS: list[tuple[str, str]] = [
    ("(nth [1 2] 5)", "index out of bounds"),
    ("(get {:a 1} :b)", "key not found"),
    ('(= "a" "a")', "got string, expected number"),
    ("(first 5)", "got number, expected pair"),
    ("(:a [1])", "got vector, expected mapped"),
    ("(true)", "got boolean, expected procedure"),
    ("(map)", "wrong number of arguments"),
    ("((lambda (x) x))", "wrong number of arguments"),
    ("(length (map inc [1 2]))", "expected counted sequence"),
    ("(case 9 [1 :one])", "no cases could be matched"),
    ('(raise "x" 1)', "x1"),
    ("(/ 1.0 0)", "not a valid JSON number"),
    ("(let-rec ([a b] [b 1]) a)", "recursive binding used before it was bound"),
]


@pytest.mark.parametrize(("source", "fragment"), RUNTIME_ERRORS)
def test_ale_runtime_errors(scripts_inproc: Scripts, source: str, fragment: str) -> None:
    with pytest.raises(ScriptRuntimeError) as caught:
        ale(scripts_inproc, source)
    assert caught.value.message.startswith("error calling procedure: ")
    assert fragment in caught.value.message


def test_ale_shadowing_and_hygiene(scripts_inproc: Scripts) -> None:
    """Locals shadow prelude names; rewrites never capture user locals."""
    assert ale(scripts_inproc, "(let [map 5] (+ map 1))") == 6
    assert ale(scripts_inproc, "(let [if 1] (when true if))") == 1
    assert ale(scripts_inproc, "((lambda (str) (str 1)) inc)") == 2


@pytest.mark.parametrize(
    "python",
    [
        "import os",
        "x.y",
        "x[0]",
        "f(a=1)",
        "obj.method()",
        "[x for x in y]",
        "lambda: (yield)",
        "try:\n    pass\nexcept Exception:\n    pass",
        "global RESULT",
        "f'{x}'",
        "a1 == 1",
        "__import__('os')",
        "P1_x.__class__",
        "def RESULT(a1=1): pass",
        "unknown_name",
    ],
)
def test_validator_rejects_everything_outside_the_subset(python: str) -> None:
    with pytest.raises((UnsafeCode, SyntaxError)):
        validate(ast.parse(python), frozenset({"P1_x"}))


def test_validator_accepts_translator_output_shape() -> None:
    tree = ast.parse(
        "def RESULT(a1, *r2):\n    R_tick()\n    return P1_x(a1) if a1 is not False else C1"
    )
    validate(tree, frozenset({"P1_x", "R_tick", "C1"}))


def test_script_errors_carry_language(scripts_inproc: Scripts) -> None:
    with pytest.raises(ScriptError) as caught:
        ale(scripts_inproc, "(/ 1 0)")
    assert caught.value.language == "ale"
    assert caught.value.phase == "run"
