"""Every rule tag the repository cites resolves to a rule in docs/reference/rules/.

Rule tags (``API-22``, ``WORK-7``, ...) name rules of the behaviour contract.
Code comments, docstrings, tests, examples and guides may cite them; each one
must be a heading on a page under ``docs/reference/rules/`` (see that
folder's ``index.md``). Tags are for maintainers, so none may appear in a
string the engine could show a user: error texts, log messages, HTTP bodies.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "reference" / "rules"
TAG = re.compile(r"\b[A-Z]+-\d+\b")
HEADING = re.compile(r"^#{2,4} ([A-Z]+-\d+) — \S", re.MULTILINE)
SCANNED = ("argyll", "tests", "examples", "docs")
SUFFIXES = {".py", ".md", ".lua", ".hy", ".json", ".jsonl"}

# Tokens that look like tags but are not rules.
NOT_RULES = {
    "UTF-8",  # the text encoding
    "SHA-256",  # the hash
    "RFC-9535",  # the JSONPath standard
    "ISO-8601",  # the date format
    "A-12",  # a product code in the script corpus
    "TRK-1",  # a tracking number in the step-types guide
}


def defined_rules() -> dict[str, Path]:
    """Tag -> the page defining it; a tag defined twice fails."""
    found: dict[str, Path] = {}
    for page in sorted(RULES.glob("*.md")):
        for tag in HEADING.findall(page.read_text(encoding="utf-8")):
            assert tag not in found, f"{tag} is defined on {found[tag].name} and {page.name}"
            found[tag] = page
    return found


def cited_tags() -> dict[str, list[str]]:
    """Tag -> the places (``path:line``) citing it."""
    cited: dict[str, list[str]] = {}
    for base in SCANNED:
        for path in sorted((ROOT / base).rglob("*")):
            if path.suffix not in SUFFIXES or not path.is_file() or ".venv" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                for tag in TAG.findall(line):
                    cited.setdefault(tag, []).append(f"{path.relative_to(ROOT)}:{number}")
    return cited


def test_every_cited_tag_resolves_to_a_rule() -> None:
    rules = defined_rules()
    assert len(rules) > 200  # the whole contract, not a stub
    cited = cited_tags()
    missing = {
        tag: places[:3]
        for tag, places in cited.items()
        if tag not in rules and tag not in NOT_RULES
    }
    assert missing == {}, "rule tags cited but not defined in docs/reference/rules/"


def test_allow_list_holds_no_rule_and_nothing_stale() -> None:
    rules = defined_rules()
    cited = cited_tags()
    assert NOT_RULES.isdisjoint(rules)
    assert NOT_RULES - {"RFC-9535", "ISO-8601"} <= set(cited)


def test_every_rule_page_is_listed_in_the_index() -> None:
    index = (RULES / "index.md").read_text(encoding="utf-8")
    pages = {p.name for p in RULES.glob("*.md")} - {"index.md"}
    linked = set(re.findall(r"\]\(([a-z-]+\.md)\)", index))
    assert pages == linked
    assert "reference/rules/index.md" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    # each page defines only the tag prefixes the index assigns to it
    for row in re.findall(r"^\| \[[^]]+\]\(([a-z-]+\.md)\) \| ([^|]+) \|", index, re.MULTILINE):
        page, prefixes = row[0], set(re.findall(r"`([A-Z]+)`", row[1]))
        text = (RULES / page).read_text(encoding="utf-8")
        assert {tag.split("-")[0] for tag in HEADING.findall(text)} == prefixes, page


def _documentation(tree: ast.AST) -> set[int]:
    """Ids of string constants that are documentation (a bare string statement)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }


def test_no_rule_tag_in_a_string_the_engine_can_show() -> None:
    """Error texts, log messages, response bodies and example output carry no tags."""
    leaks = []
    for path in sorted([*(ROOT / "argyll").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _documentation(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and TAG.search(node.value)
            ):
                leaks.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert leaks == []
