"""jpath: RFC 9535 JSONPath on jsonpath-ng plus the Argyll filter shorthand (JPATH-1..3)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from script_corpus import same

from argyll.engine.scripts import Scripts
from argyll.engine.scripts.jpath.iregexp import IRegexp, IRegexpError
from argyll.errors import ScriptCompileError, ScriptLimitExceeded

STORE: dict[str, Any] = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
            {
                "category": "fiction",
                "author": "Herman Melville",
                "title": "Moby Dick",
                "isbn": "0-553-21311-3",
                "price": 8.99,
            },
            {
                "category": "fiction",
                "author": "J. R. R. Tolkien",
                "title": "The Lord",
                "isbn": "0-395-19395-8",
                "price": 22.99,
            },
        ],
        "bicycle": {"color": "red", "price": 399},
    },
    "flag": None,
    "limit": 10,
    "n": 1,
}

QUERIES: list[tuple[str, Any]] = [
    ("$.store.book[0].title", ["Sayings"]),
    ("$['store']['bicycle']['color']", ["red"]),
    ('$["store"].bicycle.price', [399]),
    ("$.store.book[-1].title", ["The Lord"]),
    ("$.store.book[0,2].price", [8.95, 8.99]),
    ("$.store.book[1:3].price", [12.99, 8.99]),
    ("$.store.book[::-1].price", [22.99, 8.99, 12.99, 8.95]),
    ("$.store.book[::-1][0]", []),
    ("$.store.book[::2].price", [8.95, 8.99]),
    ("$.store.book[0:4:0]", []),
    (
        "$.store.book[*].author",
        ["Nigel Rees", "Evelyn Waugh", "Herman Melville", "J. R. R. Tolkien"],
    ),
    ("$..isbn", ["0-553-21311-3", "0-395-19395-8"]),
    ("$.store..price", [8.95, 12.99, 8.99, 22.99, 399]),
    ("$.store.bicycle.*", ["red", 399]),
    ("$.store.book[?@.isbn].title", ["Moby Dick", "The Lord"]),
    ("$.store.book[?@.price < 10].title", ["Sayings", "Moby Dick"]),
    ("$.store.book[?(@.price < 10)].title", ["Sayings", "Moby Dick"]),
    ("$.store.book[?@.price < $.limit].title", ["Sayings", "Moby Dick"]),
    ('$.store.book[?@.category == "fiction" && @.price > 10].title', ["Sword", "The Lord"]),
    ('$.store.book[?@.price > 20 || @.author == "Nigel Rees"].title', ["Sayings", "The Lord"]),
    ("$.store.book[?!@.isbn].title", ["Sayings", "Sword"]),
    ('$.store.book[?!(@.category == "fiction")].title', ["Sayings"]),
    ('$.store.book[?match(@.author, "[A-Z].* Waugh")].title', ["Sword"]),
    ('$.store.book[?search(@.title, "ick")].title', ["Moby Dick"]),
    ("$.store.book[?length(@.title) == 5].title", ["Sword"]),
    ("$.store[?count(@.*) == 2].color", ["red"]),
    ('$.store.book[?value(@..isbn) == "0-553-21311-3"].title', ["Moby Dick"]),
    ("$.store.book[?@.price == 8.95].title", ["Sayings"]),
    ("$[?@ == 1]", [1]),
    ("$[?@ == true]", []),
    ("$.flag", [None]),
    ("$.nope", []),
    ("$.n[0]", []),
    ("$.limit.*", []),
    ("$", [STORE]),
    ("$['*']", []),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_rfc9535_queries(scripts: Scripts, query: str, expected: list[Any]) -> None:
    if not expected:
        with pytest.raises(Exception, match="jpath produced no matches"):
            scripts.mapping("jpath", query, "doc", STORE)
        return
    result = scripts.mapping("jpath", query, "doc", STORE)
    assert same(result if len(expected) > 1 else [result], expected)


SHORTHAND: list[tuple[str, Any, bool]] = [
    ('$.kind == "email"', {"kind": "email"}, True),
    ('$.kind == "email"', {"kind": "postal"}, False),
    ('$.kind == "email"', {}, False),
    ('$ == "x"', "x", False),
    ("$.a == 1", {"a": 1}, True),
    ("$.a == 1", {"a": True}, False),
    ("$.a != 1", {"b": 2}, True),
    ("$.a == $.b", {"x": 1}, True),
    ('@.name == "x"', [{"name": "x"}], True),
    ('@.name == "x"', {"one": {"name": "x"}}, True),
    ("length($.items) > 1", {"items": [1, 2]}, True),
    ("$.items[?@ > 1]", {"items": [1, 2]}, True),
    ("$.a && !$.b", {"a": 0}, True),
    ("($.a || $.b) && $.c", {"b": 1, "c": None}, True),
    ("$.x", [1, 2], False),
]


@pytest.mark.parametrize(("query", "document", "expected"), SHORTHAND)
def test_shorthand_and_match_semantics(
    scripts: Scripts, query: str, document: Any, expected: bool
) -> None:
    """JPATH-1: a non-path query means $[?query]; JPATH-3: any node counts."""
    assert scripts.match("jpath", query, document) is expected


BAD_QUERIES = [
    "",
    " $.a",
    "$.a ",
    "$..[",
    "$[?",
    "$.a ==",
    "foo",
    "$.store.book[?@.* == 1]",
    "$[?length(@) ]",
    '$[?match(@.a, "(")]',
    "$[?unknown(@)]",
    "$[?count(1) == 1]",
    "$[01]",
    "$[-0]",
    "$.a.",
    "$['unterminated]",
    "$[?@.a == 'x' &&]",
    "$[?" + "(" * 100 + "@" + ")" * 100 + "]",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_compile_errors(scripts: Scripts, query: str) -> None:
    with pytest.raises(ScriptCompileError) as caught:
        scripts.check("jpath", query, [], "predicate")
    assert caught.value.message == f"jpath compile error: {query}"


def test_predicate_document_is_the_inputs_map(scripts: Scripts) -> None:
    """JPATH-3: predicate document = the step inputs map."""
    assert scripts.predicate("jpath", "$.a", ["a", "b"], {"a": None})
    assert not scripts.predicate("jpath", "$.c", ["a", "b"], {"a": 1})


def test_iregexp_is_linear() -> None:
    """No catastrophic backtracking: (a|aa)*b on 'a' * 5000 finishes fast."""
    regex = IRegexp("(a|aa)*b")
    started = time.monotonic()
    assert not regex.fullmatch("a" * 5000, lambda _: None)
    assert time.monotonic() - started < 1.0
    assert IRegexp("\\p{Lu}[a-z]{2,3}").fullmatch("Abc", lambda _: None)
    assert not IRegexp("[^0-9]+").search("123", lambda _: None)
    assert IRegexp("x{0,1}y").fullmatch("y", lambda _: None)
    for bad in ("(", "a{3,1}", "\\q", "[b-a]", "a{2000}"):
        with pytest.raises(IRegexpError):
            IRegexp(bad)


def test_evaluation_is_time_bounded(scripts: Scripts) -> None:
    deep: Any = 0
    for _ in range(60):
        deep = [deep, deep]
    with pytest.raises(ScriptLimitExceeded) as caught:
        scripts.predicate("jpath", "$..*..*", [], {"x": deep})
    assert caught.value.message == "script exceeded its time limit (100ms)"


def test_result_size_is_bounded() -> None:
    from argyll.engine.scripts import ScriptLimits

    small = Scripts(ScriptLimits(workers=0, max_items=50))
    try:
        with pytest.raises(ScriptLimitExceeded) as caught:
            small.mapping("jpath", "$..*", "doc", {"xs": list(range(100))})
        assert caught.value.message == "script result too large (limit 50 items)"
        with pytest.raises(ScriptLimitExceeded):
            small.predicate("jpath", "$..*..*", [], {"xs": [[1] * 30] * 30})
    finally:
        small.close()


def test_deep_comparisons_are_metered(scripts: Scripts) -> None:
    """Comparing every child with the whole document is charged per element."""
    doc = {"xs": [list(range(2000)) for _ in range(2000)]}
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded):
        scripts.predicate("jpath", "$.xs[?@ == $.xs[0] && @ != $.xs]", [], doc)
    assert time.monotonic() - started < 1.0
