"""Script corpus: inputs and expected results per language and kind.

Drawn from SPEC.md (SCRIPT-*, JPATH-*, MAP-*, MATCH-2, PRED-1), the original
Argyll docs (predicates.md, step-types.md, quickstart, examples/simple-step)
and the original engine's script tests. Plain data, importable by other test
modules (e.g. end-to-end tests that run each case through a real step):

    from script_corpus import CASES, Case, same

Kinds and how to run a case:

- ``script``:    ``await scripts.run(lang, source, case.names, case.args)`` == expected outputs
- ``predicate``: ``scripts.predicate(lang, source, case.names, case.args)`` == expected bool
- ``match``:     ``scripts.match(lang, source, case.args["value"])`` == expected bool
- ``mapping``:   ``scripts.mapping(lang, source, name, value)`` == expected, where
  ``(name, value)`` is the single item of ``case.args``

An expected error is ``error`` = ``compile`` | ``runtime`` | ``limit`` plus a
message ``fragment``. Numbers compare by value (``42 == 42.0``), floats with a
small tolerance (:func:`same`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CASES", "Case", "same"]


@dataclass(frozen=True)
class Case:
    """One corpus entry."""

    id: str
    language: str
    kind: str
    source: str
    args: dict[str, Any] = field(default_factory=dict)
    expected: Any = None
    error: str | None = None
    fragment: str = ""
    rule: str = ""
    arg_names: tuple[str, ...] | None = None

    @property
    def names(self) -> list[str]:
        """The step's runtime input names (the args' keys unless given)."""
        if self.arg_names is not None:
            return list(self.arg_names)
        return sorted(self.args)


def same(actual: Any, expected: Any) -> bool:
    """Value equality for JSON results: numbers by value, floats approximately."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    return bool(actual == expected) and type(actual) is type(expected)


def _c(case_id: str, language: str, kind: str, source: str, **kwargs: Any) -> Case:
    return Case(case_id, language, kind, source, **kwargs)


_COMPLEX_ARGS = {
    "is_active": True,
    "name": "test-item",
    "count": 42,
    "price": 99.99,
    "items": ["item1", "item2", "item3"],
    "nested_obj": {"key1": "value1", "key2": 123},
    "optional": None,
}

_PRICE_CALCULATOR = """(let* ([subtotal (* quantity unit_price)]
       [tax      (* subtotal 0.08)]
       [shipping (if (> quantity 5) 0.0 9.99)])
  {:subtotal subtotal
   :tax      tax
   :shipping shipping
   :total    (+ subtotal tax shipping)})"""

_ELIGIBILITY_CHECKER = """local eligible = false
local reason = ""

if age < 18 then
	reason = "age below minimum (18)"
elseif age > 75 then
	reason = "age above maximum (75)"
elseif income < 30000 then
	reason = "income below minimum ($30,000)"
elseif credit_score < 600 then
	reason = "credit score below minimum (600)"
else
	eligible = true
	reason = "all criteria met"
end

return {
	eligible = eligible,
	reason = reason,
	risk_level = credit_score >= 750 and "low" or
				(credit_score >= 650 and "medium" or "high")
}"""

ALE_SCRIPTS = [
    _c(
        "ale-add",
        "ale",
        "script",
        "{:result (+ a b)}",
        args={"a": 5, "b": 10},
        expected={"result": 15},
        rule="SCRIPT-2 SCRIPT-3",
    ),
    _c("ale-plain-value", "ale", "script", "(+ 1 2)", expected={"result": 3}, rule="SCRIPT-3"),
    _c("ale-const", "ale", "script", "{:result 42}", expected={"result": 42}, rule="SCRIPT-3"),
    _c(
        "ale-mul",
        "ale",
        "script",
        "{:result (* a b)}",
        args={"a": 6, "b": 7},
        expected={"result": 42},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-greeting",
        "ale",
        "script",
        '{:greeting (str "Hello, " name)}',
        args={"name": "World"},
        expected={"greeting": "Hello, World"},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-list-result",
        "ale",
        "script",
        "{:list_result (list 1 2 3)}",
        expected={"list_result": [1, 2, 3]},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-list-5",
        "ale",
        "script",
        "{:list_result (list 1 2 3 4 5)}",
        expected={"list_result": [1, 2, 3, 4, 5]},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-complex-conversion",
        "ale",
        "script",
        "{:bool_val is_active :string_val name :int_val count :float_val price\n"
        " :array_val items :nested nested_obj :null_val optional}",
        args=_COMPLEX_ARGS,
        expected={
            "bool_val": True,
            "string_val": "test-item",
            "int_val": 42,
            "float_val": 99.99,
            "array_val": ["item1", "item2", "item3"],
            "nested": {"key1": "value1", "key2": 123},
            "null_val": None,
        },
        rule="SCRIPT-2 SCRIPT-3",
    ),
    _c(
        "ale-complex-script",
        "ale",
        "script",
        '{:sum (+ a b) :product (* a b) :greeting (str "Hello " name)}',
        args={"a": 10, "b": 5, "name": "World"},
        expected={"sum": 15, "product": 50, "greeting": "Hello World"},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-float-input",
        "ale",
        "script",
        "{:result (* x 2)}",
        args={"x": 21.0},
        expected={"result": 42.0},
        rule="SCRIPT-2",
    ),
    _c(
        "ale-text-formatter",
        "ale",
        "script",
        '{\n  :formatted_text (str "[" name "] " text)\n}',
        args={"text": "Welcome to Argyll!", "name": "Alice Johnson"},
        expected={"formatted_text": "[Alice Johnson] Welcome to Argyll!"},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-price-calculator",
        "ale",
        "script",
        _PRICE_CALCULATOR,
        args={"quantity": 3, "unit_price": 29.99},
        expected={"subtotal": 89.97, "tax": 7.1976, "shipping": 9.99, "total": 107.1576},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-discount",
        "ale",
        "script",
        "{:discounted_amount (* amount (- 1 discount_percent))}",
        args={"amount": 100, "discount_percent": 0.2},
        expected={"discounted_amount": 80.0},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-quickstart",
        "ale",
        "script",
        "{:greeting name}",
        args={"name": "Ada"},
        expected={"greeting": "Ada"},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-double",
        "ale",
        "script",
        "(* value 2)",
        args={"value": 21},
        expected={"result": 42},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-missing-input-null",
        "ale",
        "script",
        "{:v x}",
        args={},
        arg_names=("x",),
        expected={"v": None},
        rule="SCRIPT-2",
    ),
    _c(
        "ale-int-stays-int",
        "ale",
        "script",
        '{:s (str "n=" qty) :e (eq qty 3)}',
        args={"qty": 3},
        expected={"s": "n=3", "e": True},
        rule="SCRIPT-2",
    ),
    _c("ale-ratio", "ale", "script", "(/ 5 2)", expected={"result": "5/2"}, rule="SCRIPT-3"),
    _c(
        "ale-float-str",
        "ale",
        "script",
        '(str 15.0 " " 1.5 " " 1234567.5)',
        expected={"result": "15.0 1.5 1.2345675e+06"},
        rule="SCRIPT-3",
    ),
    _c("ale-empty-list-null", "ale", "script", "'()", expected={"result": None}, rule="SCRIPT-3"),
    _c("ale-list-call-null", "ale", "script", "(list)", expected={"result": None}, rule="SCRIPT-3"),
    _c("ale-empty-vector", "ale", "script", "[]", expected={"result": []}, rule="SCRIPT-3"),
    _c(
        "ale-keyword-name",
        "ale",
        "script",
        ":pending",
        expected={"result": "pending"},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-extra-outputs",
        "ale",
        "script",
        "{:total 5 :debug 1}",
        expected={"total": 5, "debug": 1},
        rule="SCRIPT-3 MAP-3",
    ),
    _c(
        "ale-map-filter",
        "ale",
        "script",
        "(seq->vector (map (lambda (x) (* x 2)) (filter (lambda (x) (> x 1)) items)))",
        args={"items": [1, 2, 3]},
        expected={"result": [4, 6]},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-lazy-realised",
        "ale",
        "script",
        "(map inc [1 2 3])",
        expected={"result": [2, 3, 4]},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-reduce",
        "ale",
        "script",
        "(reduce + 0 (map inc (range 10)))",
        expected={"result": 55},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-cond",
        "ale",
        "script",
        '(cond [(> x 1) "big"] [:else "small"])',
        args={"x": 0},
        expected={"result": "small"},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-let",
        "ale",
        "script",
        "(let [y (* x 2)] {:y y})",
        args={"x": 4},
        expected={"y": 8},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-let-parallel",
        "ale",
        "script",
        "(let ([a 1] [b 2]) (+ a b))",
        expected={"result": 3},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-thread-first",
        "ale",
        "script",
        "(-> x (+ 1) (* 2))",
        args={"x": 3},
        expected={"result": 8},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-keyword-lookup",
        "ale",
        "script",
        "{:kind (:kind order) :missing (:nope order 7)}",
        args={"order": {"kind": "email"}},
        expected={"kind": "email", "missing": 7},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-first-rest",
        "ale",
        "script",
        "{:f (first xs) :r (rest xs) :n (length xs) :c (count xs)}",
        args={"xs": [1, 2, 3]},
        expected={"f": 1, "r": [2, 3], "n": 3, "c": 3},
        rule="SCRIPT-7",
    ),
    _c(
        "ale-recursion",
        "ale",
        "script",
        "(let-rec [f (lambda (n) (if (= n 0) 1 (* n (f (dec n)))))] (f 10))",
        expected={"result": 3628800},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-assoc",
        "ale",
        "script",
        '(assoc order :status "paid")',
        args={"order": {"id": 1}},
        expected={"id": 1, "status": "paid"},
        rule="SCRIPT-3",
    ),
    _c(
        "ale-div-zero",
        "ale",
        "script",
        "(/ 1 0)",
        error="runtime",
        fragment="error calling procedure",
        rule="SCRIPT-5",
    ),
    _c(
        "ale-raise",
        "ale",
        "script",
        '(raise "bad input: " x)',
        args={"x": 3},
        error="runtime",
        fragment="bad input: 3",
        rule="SCRIPT-5",
    ),
    _c(
        "ale-type-error",
        "ale",
        "script",
        '(+ "a" 1)',
        error="runtime",
        fragment="expected number",
        rule="SCRIPT-5",
    ),
    _c(
        "ale-syntax-error",
        "ale",
        "script",
        "{:result",
        error="compile",
        fragment="end of input",
        rule="SCRIPT-5 VAL-1",
    ),
    _c("ale-unclosed", "ale", "script", "{:result (+ 1 2", error="compile", rule="SCRIPT-5"),
    _c(
        "ale-bad-symbol",
        "ale",
        "script",
        "!!!bad",
        error="compile",
        fragment="symbol not declared",
        rule="SCRIPT-5",
    ),
    _c(
        "ale-unbound-arg",
        "ale",
        "script",
        "{:result (* amount 2)}",
        args={"inner_amount": 2},
        error="compile",
        fragment="amount",
        rule="SCRIPT-2",
    ),
    _c(
        "ale-unsupported-eval",
        "ale",
        "script",
        "(eval '(+ 1 2))",
        error="compile",
        fragment="unsupported form: eval",
        rule="SCRIPT-6",
    ),
    _c(
        "ale-python-operator",
        "ale",
        "script",
        "value == 'match'",
        args={"value": 1},
        error="compile",
        rule="SCRIPT-5",
    ),
]

ALE_PREDICATES = [
    _c(
        "ale-gt-false",
        "ale",
        "predicate",
        "(> amount 100)",
        args={"amount": 50},
        expected=False,
        rule="PRED-1",
    ),
    _c(
        "ale-gt-true",
        "ale",
        "predicate",
        "(> amount 100)",
        args={"amount": 150},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "ale-ge",
        "ale",
        "predicate",
        "(>= amount 1000)",
        args={"amount": 1000},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "ale-length-empty",
        "ale",
        "predicate",
        "(> (length items) 0)",
        args={"items": []},
        expected=False,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-length",
        "ale",
        "predicate",
        "(> (length items) 0)",
        args={"items": [1]},
        expected=True,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-and-eq",
        "ale",
        "predicate",
        '(and (>= years_member 2) (eq account_status "active"))',
        args={"years_member": 3, "account_status": "active"},
        expected=True,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-and-eq-false",
        "ale",
        "predicate",
        '(and (>= years_member 2) (eq account_status "active"))',
        args={"years_member": 3, "account_status": "closed"},
        expected=False,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-or",
        "ale",
        "predicate",
        '(or (eq region "US") (eq region "EU"))',
        args={"region": "EU"},
        expected=True,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-first-eq",
        "ale",
        "predicate",
        '(eq (first statuses) "paid")',
        args={"statuses": ["paid", "open"]},
        expected=True,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-tier",
        "ale",
        "predicate",
        '(eq customer_tier "premium")',
        args={"customer_tier": "basic"},
        expected=False,
        rule="PRED-1",
    ),
    _c(
        "ale-flag-true",
        "ale",
        "predicate",
        "(eq feature_enabled true)",
        args={"feature_enabled": True},
        expected=True,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-gold",
        "ale",
        "predicate",
        '(and (> order_total 1000) (eq customer_tier "gold"))',
        args={"order_total": 1500, "customer_tier": "gold"},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "ale-x-y",
        "ale",
        "predicate",
        "(and (> x 10) (< y 20))",
        args={"x": 15, "y": 15},
        expected=True,
        rule="PRED-1",
    ),
    _c("ale-literal-true", "ale", "predicate", "true", expected=True, rule="SCRIPT-4"),
    _c("ale-literal-false", "ale", "predicate", "false", expected=False, rule="SCRIPT-4"),
    _c("ale-hash-f", "ale", "predicate", "#f", expected=False, rule="SCRIPT-4"),
    _c(
        "ale-null-is-true",
        "ale",
        "predicate",
        "(first expensive_lookup)",
        args={"expensive_lookup": None},
        expected=True,
        rule="SCRIPT-4",
    ),
    _c("ale-nil-is-true", "ale", "predicate", "nil", expected=True, rule="SCRIPT-4 SCRIPT-7"),
    _c("ale-zero-is-true", "ale", "predicate", "0", expected=True, rule="SCRIPT-4"),
    _c("ale-empty-string-true", "ale", "predicate", '""', expected=True, rule="SCRIPT-4"),
    _c(
        "ale-not",
        "ale",
        "predicate",
        "(not (> x 1))",
        args={"x": 0},
        expected=True,
        rule="SCRIPT-7",
    ),
    _c(
        "ale-if-null-branch",
        "ale",
        "predicate",
        "(if nil false true)",
        expected=False,
        rule="SCRIPT-4",
    ),
    _c(
        "ale-pred-error",
        "ale",
        "predicate",
        "(/ 1 0)",
        error="runtime",
        fragment="error calling procedure",
        rule="PRED-1",
    ),
]

ALE_MATCHES = [
    _c(
        "ale-match-email",
        "ale",
        "match",
        '(eq (:kind value) "email")',
        args={"value": {"kind": "email"}},
        expected=True,
        rule="MATCH-2",
    ),
    _c(
        "ale-match-postal",
        "ale",
        "match",
        '(eq (:kind value) "email")',
        args={"value": {"kind": "postal"}},
        expected=False,
        rule="MATCH-2",
    ),
    _c(
        "ale-match-number",
        "ale",
        "match",
        "(> value 10)",
        args={"value": 15},
        expected=True,
        rule="MATCH-2",
    ),
    _c(
        "ale-match-error",
        "ale",
        "match",
        "(> value 10)",
        args={"value": "x"},
        error="runtime",
        fragment="expected number",
        rule="MATCH-2",
    ),
]

ALE_MAPPINGS = [
    _c(
        "ale-map-double",
        "ale",
        "mapping",
        "(* value 2)",
        args={"value": 21},
        expected=42,
        rule="MAP-2 MAP-4",
    ),
    _c(
        "ale-map-inner-name",
        "ale",
        "mapping",
        "(* amount 2)",
        args={"amount": 2.5},
        expected=5.0,
        rule="MAP-2",
    ),
    _c(
        "ale-map-value-key",
        "ale",
        "mapping",
        '{:value (str "id-" v) :other 1}',
        args={"v": 7},
        expected="id-7",
        rule="MAP-4",
    ),
    _c(
        "ale-map-whole",
        "ale",
        "mapping",
        "{:a v :b 2}",
        args={"v": 1},
        expected={"a": 1, "b": 2},
        rule="MAP-4",
    ),
    _c("ale-map-empty", "ale", "mapping", "{}", args={"v": 1}, expected=None, rule="MAP-4"),
    _c(
        "ale-map-single",
        "ale",
        "mapping",
        "{:only (:x v)}",
        args={"v": {"x": 5}},
        expected=5,
        rule="MAP-4",
    ),
    _c(
        "ale-map-error",
        "ale",
        "mapping",
        '(raise "nope")',
        args={"v": 1},
        error="runtime",
        fragment="nope",
        rule="MAP-2",
    ),
]

LUA_SCRIPTS = [
    _c(
        "lua-add",
        "lua",
        "script",
        "return {result = a + b}",
        args={"a": 5, "b": 10},
        expected={"result": 15},
        rule="SCRIPT-2 SCRIPT-3",
    ),
    _c("lua-x42", "lua", "script", "return {x = 42}", expected={"x": 42}, rule="SCRIPT-3"),
    _c("lua-empty", "lua", "script", "return {}", expected={}, rule="SCRIPT-3"),
    _c("lua-plain", "lua", "script", "return 1 + 2", expected={"result": 3}, rule="SCRIPT-3"),
    _c(
        "lua-complex-conversion",
        "lua",
        "script",
        "return {\n bool_val = is_active,\n string_val = name,\n int_val = count,\n"
        " float_val = price\n}",
        args={"is_active": True, "name": "test-item", "count": 42, "price": 99.99},
        expected={"bool_val": True, "string_val": "test-item", "int_val": 42, "float_val": 99.99},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-array",
        "lua",
        "script",
        "return {numbers = {1, 2, 3, 4, 5}, count = 5}",
        expected={"numbers": [1, 2, 3, 4, 5], "count": 5},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-int64-input",
        "lua",
        "script",
        "return {result = val}",
        args={"val": 123456789},
        expected={"result": 123456789},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-float-input",
        "lua",
        "script",
        "return {result = val * 2}",
        args={"val": 3.14},
        expected={"result": 6.28},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-nil-input",
        "lua",
        "script",
        "return {result = val == nil}",
        args={"val": None},
        expected={"result": True},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-array-input",
        "lua",
        "script",
        "return {result = #items}",
        args={"items": [1, 2, 3]},
        expected={"result": 3},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-map-input",
        "lua",
        "script",
        "return {result = data.key}",
        args={"data": {"key": "value"}},
        expected={"result": "value"},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-empty-table-is-map",
        "lua",
        "script",
        "return {items = {}}",
        expected={"items": {}},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-nested-arrays",
        "lua",
        "script",
        "return {matrix = {{1, 2}, {3, 4}, {5, 6}}}",
        expected={"matrix": [[1, 2], [3, 4], [5, 6]]},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-nil-field-dropped",
        "lua",
        "script",
        "return {result = nil}",
        expected={},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-empty-result-table",
        "lua",
        "script",
        "return {result = {}}",
        expected={"result": {}},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-nested-map",
        "lua",
        "script",
        'return {result = {overall = "medium", score = 6,\n'
        ' reasons = {"missing extracted fields", "document inconsistencies"}}}',
        expected={
            "result": {
                "overall": "medium",
                "score": 6,
                "reasons": ["missing extracted fields", "document inconsistencies"],
            }
        },
        rule="SCRIPT-3",
    ),
    _c(
        "lua-loop-array",
        "lua",
        "script",
        "local arr = {}\nfor i = 1, 10 do\n arr[i] = i * 10\nend\nreturn {numbers = arr}",
        expected={"numbers": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-eligible",
        "lua",
        "script",
        _ELIGIBILITY_CHECKER,
        args={"age": 35, "income": 75000, "credit_score": 720},
        expected={"eligible": True, "reason": "all criteria met", "risk_level": "medium"},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-too-young",
        "lua",
        "script",
        _ELIGIBILITY_CHECKER,
        args={"age": 16, "income": 75000, "credit_score": 800},
        expected={"eligible": False, "reason": "age below minimum (18)", "risk_level": "low"},
        rule="SCRIPT-3",
    ),
    _c(
        "lua-or-default",
        "lua",
        "script",
        "return { result = (x or 0) * 3 }",
        args={},
        arg_names=("x",),
        expected={"result": 0},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-or-value",
        "lua",
        "script",
        "return { result = (x or 0) * 3 }",
        args={"x": 4},
        expected={"result": 12},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-number-format",
        "lua",
        "script",
        'return tostring(x / 2) .. " v" .. x * 1.5',
        args={"x": 4},
        expected={"result": "2 v6"},
        rule="SCRIPT-2",
    ),
    _c(
        "lua-nil-return", "lua", "script", "local x = 1", expected={"result": None}, rule="SCRIPT-3"
    ),
    _c(
        "lua-number-keys",
        "lua",
        "script",
        "return {[1] = 'a', name = 'n'}",
        expected={"1": "a", "name": "n"},
        rule="SCRIPT-3",
    ),
    _c("lua-fraction", "lua", "script", "return {r = 7 / 2}", expected={"r": 3.5}, rule="SCRIPT-3"),
    _c(
        "lua-error",
        "lua",
        "script",
        "error('boom')",
        error="runtime",
        fragment="boom",
        rule="SCRIPT-5",
    ),
    _c(
        "lua-error-message",
        "lua",
        "script",
        'error("Lua error message")',
        error="runtime",
        fragment="lua execution error",
        rule="SCRIPT-5",
    ),
    _c("lua-syntax", "lua", "script", "return {result =", error="compile", rule="SCRIPT-5"),
    _c(
        "lua-bad-param-name",
        "lua",
        "script",
        "return 1",
        args={"not valid": 1},
        error="compile",
        fragment="invalid parameter name",
        rule="SCRIPT-2",
    ),
]

LUA_PREDICATES = [
    _c(
        "lua-gt-true",
        "lua",
        "predicate",
        "return x > 10",
        args={"x": 15},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "lua-gt-false",
        "lua",
        "predicate",
        "return x > 10",
        args={"x": 5},
        expected=False,
        rule="PRED-1",
    ),
    _c(
        "lua-and",
        "lua",
        "predicate",
        "return x > 10 and y < 20",
        args={"x": 15, "y": 15},
        expected=True,
        rule="PRED-1",
    ),
    _c("lua-true", "lua", "predicate", "return true", expected=True, rule="SCRIPT-4"),
    _c("lua-false", "lua", "predicate", "return false", expected=False, rule="SCRIPT-4"),
    _c("lua-no-return", "lua", "predicate", "local a = 1", expected=False, rule="SCRIPT-4"),
    _c("lua-zero-true", "lua", "predicate", "return 0", expected=True, rule="SCRIPT-4"),
    _c("lua-empty-string-true", "lua", "predicate", 'return ""', expected=True, rule="SCRIPT-4"),
    _c(
        "lua-order",
        "lua",
        "predicate",
        "return order.total > 500 and order.region == 'international' and order.method == 'card'",
        args={"order": {"total": 600, "region": "international", "method": "card"}},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "lua-epoch",
        "lua",
        "predicate",
        "return current_epoch < offer_expiry",
        args={"current_epoch": 10, "offer_expiry": 20},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "lua-email-find",
        "lua",
        "predicate",
        "return email:find('@') ~= nil",
        args={"email": "a@b.c"},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "lua-email-find-false",
        "lua",
        "predicate",
        "return email:find('@') ~= nil",
        args={"email": "abc"},
        expected=False,
        rule="PRED-1",
    ),
    _c(
        "lua-items",
        "lua",
        "predicate",
        'return #items > 0 and items[1].status == "approved"',
        args={"items": [{"status": "approved"}]},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "lua-if-block",
        "lua",
        "predicate",
        'if amount > 100 and status == "active" then\n  return true\nelse\n  return false\nend',
        args={"amount": 150, "status": "active"},
        expected=True,
        rule="PRED-1",
    ),
    _c(
        "lua-pred-error",
        "lua",
        "predicate",
        "error('boom')",
        error="runtime",
        fragment="boom",
        rule="PRED-1",
    ),
    _c(
        "lua-pred-type-guard",
        "lua",
        "predicate",
        "if type(items) ~= 'table' then error('boom') end; return true",
        args={"items": "x"},
        error="runtime",
        fragment="boom",
        rule="PRED-2",
    ),
]

LUA_MATCHES = [
    _c(
        "lua-match-kind",
        "lua",
        "match",
        'return value.kind == "email" and value.region == "us"',
        args={"value": {"kind": "email", "region": "us"}},
        expected=True,
        rule="MATCH-2",
    ),
    _c(
        "lua-match-kind-eu",
        "lua",
        "match",
        'return value.kind == "email" and value.region == "us"',
        args={"value": {"kind": "email", "region": "eu"}},
        expected=False,
        rule="MATCH-2",
    ),
    _c(
        "lua-match-postal",
        "lua",
        "match",
        'return value == "postal"',
        args={"value": "postal"},
        expected=True,
        rule="MATCH-2",
    ),
    _c(
        "lua-match-paid",
        "lua",
        "match",
        'return value == "paid"',
        args={"value": "open"},
        expected=False,
        rule="MATCH-2",
    ),
]

LUA_MAPPINGS = [
    _c(
        "lua-map-value",
        "lua",
        "mapping",
        "return {value = x * 2}",
        args={"x": 4},
        expected=8,
        rule="MAP-2 MAP-4",
    ),
    _c(
        "lua-map-result",
        "lua",
        "mapping",
        "return x .. '!'",
        args={"x": "hi"},
        expected="hi!",
        rule="MAP-4",
    ),
    _c(
        "lua-map-whole",
        "lua",
        "mapping",
        "return {a = x, b = 2}",
        args={"x": 1},
        expected={"a": 1, "b": 2},
        rule="MAP-4",
    ),
    _c("lua-map-empty", "lua", "mapping", "return {}", args={"x": 1}, expected=None, rule="MAP-4"),
]

JPATH_PREDICATES = [
    _c(
        "jpath-flag",
        "jpath",
        "predicate",
        "$.flag",
        args={"flag": True},
        expected=True,
        rule="JPATH-3",
    ),
    _c(
        "jpath-flag-missing",
        "jpath",
        "predicate",
        "$.flag",
        args={},
        expected=False,
        rule="JPATH-3",
    ),
    _c(
        "jpath-flag-null",
        "jpath",
        "predicate",
        "$.flag",
        args={"flag": None},
        expected=True,
        rule="JPATH-3",
    ),
    _c(
        "jpath-shorthand-true",
        "jpath",
        "predicate",
        '$.product_info.name == "Professional Laptop"',
        args={"product_info": {"name": "Professional Laptop", "sku": "123"}},
        expected=True,
        rule="JPATH-1",
    ),
    _c(
        "jpath-shorthand-false",
        "jpath",
        "predicate",
        '$.product_info.name == "Professional Laptop"',
        args={"product_info": {"name": "Basic Laptop", "sku": "123"}},
        expected=False,
        rule="JPATH-1",
    ),
    _c(
        "jpath-customer-active",
        "jpath",
        "predicate",
        "$.customer.active",
        args={"customer": {"active": False}},
        expected=True,
        rule="JPATH-3",
    ),
    _c(
        "jpath-filter",
        "jpath",
        "predicate",
        '$.items[?(@.status=="ready")]',
        args={"items": [{"status": "ready"}]},
        expected=True,
        rule="JPATH-1",
    ),
    _c(
        "jpath-filter-none",
        "jpath",
        "predicate",
        '$.items[?(@.status=="ready")]',
        args={"items": [{"status": "new"}]},
        expected=False,
        rule="JPATH-1",
    ),
    _c(
        "jpath-length",
        "jpath",
        "predicate",
        "length($.items) > 0",
        args={"items": [1]},
        expected=True,
        rule="JPATH-1",
    ),
    _c(
        "jpath-and-or",
        "jpath",
        "predicate",
        "$.a > 1 && ($.b == 'x' || !$.c)",
        args={"a": 2, "b": "y"},
        expected=True,
        rule="JPATH-1",
    ),
    _c(
        "jpath-match-fn",
        "jpath",
        "predicate",
        '$.items[?match(@.sku, "A-[0-9]+")]',
        args={"items": [{"sku": "A-12"}]},
        expected=True,
        rule="JPATH-1",
    ),
]

JPATH_MATCHES = [
    _c(
        "jpath-match-email",
        "jpath",
        "match",
        '$.kind == "email"',
        args={"value": {"kind": "email"}},
        expected=True,
        rule="MATCH-2 JPATH-3",
    ),
    _c(
        "jpath-match-postal",
        "jpath",
        "match",
        '$.kind == "email"',
        args={"value": {"kind": "postal"}},
        expected=False,
        rule="MATCH-2 JPATH-3",
    ),
    _c(
        "jpath-match-null",
        "jpath",
        "match",
        "$.optional",
        args={"value": {"optional": None}},
        expected=True,
        rule="JPATH-3",
    ),
    _c(
        "jpath-match-kind",
        "jpath",
        "match",
        "$.kind",
        args={"value": {"kind": "x"}},
        expected=True,
        rule="JPATH-3",
    ),
    _c(
        "jpath-scalar-never",
        "jpath",
        "match",
        '$ == "x"',
        args={"value": "x"},
        expected=False,
        rule="JPATH-3",
    ),
    _c(
        "jpath-at-child",
        "jpath",
        "match",
        '@.name == "x"',
        args={"value": [{"name": "y"}, {"name": "x"}]},
        expected=True,
        rule="JPATH-1",
    ),
]

JPATH_MAPPINGS = [
    _c(
        "jpath-map-foo",
        "jpath",
        "mapping",
        "$.foo",
        args={"input": {"foo": "bar"}},
        expected="bar",
        rule="JPATH-2",
    ),
    _c(
        "jpath-map-multi",
        "jpath",
        "mapping",
        "$..book",
        args={"output": {"books": [{"book": "A"}, {"book": "B"}]}},
        expected=["A", "B"],
        rule="JPATH-2",
    ),
    _c(
        "jpath-map-null",
        "jpath",
        "mapping",
        "$.v",
        args={"input": {"v": None}},
        expected=None,
        rule="JPATH-2",
    ),
    _c(
        "jpath-map-total",
        "jpath",
        "mapping",
        "$.data.order.total",
        args={"payload": {"data": {"order": {"total": 12.5}}}},
        expected=12.5,
        rule="JPATH-2",
    ),
    _c(
        "jpath-map-ids",
        "jpath",
        "mapping",
        "$.items[*].id",
        args={"input": {"items": [{"id": 1}, {"id": 2}]}},
        expected=[1, 2],
        rule="JPATH-2",
    ),
    _c(
        "jpath-map-missing",
        "jpath",
        "mapping",
        "$.missing",
        args={"input": {"foo": "bar"}},
        error="runtime",
        fragment="jpath produced no matches",
        rule="JPATH-2 MAP-2",
    ),
    _c(
        "jpath-compile-error",
        "jpath",
        "mapping",
        "$..[",
        args={"input": {}},
        error="compile",
        fragment="jpath compile error: $..[",
        rule="JPATH-1",
    ),
    _c(
        "jpath-open-filter",
        "jpath",
        "predicate",
        "$[?",
        args={},
        error="compile",
        fragment="jpath compile error",
        rule="JPATH-1",
    ),
    _c(
        "jpath-leading-space",
        "jpath",
        "predicate",
        " $.a",
        args={},
        error="compile",
        fragment="jpath compile error",
        rule="JPATH-1",
    ),
]

CASES: list[Case] = [
    *ALE_SCRIPTS,
    *ALE_PREDICATES,
    *ALE_MATCHES,
    *ALE_MAPPINGS,
    *LUA_SCRIPTS,
    *LUA_PREDICATES,
    *LUA_MATCHES,
    *LUA_MAPPINGS,
    *JPATH_PREDICATES,
    *JPATH_MATCHES,
    *JPATH_MAPPINGS,
]
"""Every corpus case; ids are unique."""
