"""Argyll jpath: RFC 9535 JSONPath plus the top-level filter shorthand (JPATH-1..3).

Queries are parsed by :mod:`.parser` into jsonpath-ng nodes (with the filter,
selector-list and descendant nodes of :mod:`.nodes`) and evaluated in
process: evaluation is linear in the document except for descendant segments,
and every visited node is charged against the call's time budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argyll.errors import ScriptCompileError, ScriptLimitExceeded

from ..limits import Budget, LimitKind

__all__ = ["CompiledJPath", "compile_jpath", "find_values"]


@dataclass(frozen=True)
class CompiledJPath:
    """A parsed query; ``path.find(document)`` yields the matching nodes."""

    source: str
    path: Any


def compile_jpath(source: str) -> CompiledJPath:
    """Parse a jpath query.

    Raises:
        ScriptCompileError: ``jpath compile error: <source>``.
    """
    from .parser import JPathSyntaxError, parse_query

    try:
        return CompiledJPath(source, parse_query(source))
    except (JPathSyntaxError, RecursionError):
        raise ScriptCompileError(f"jpath compile error: {source}", "jpath") from None


def find_values(compiled: CompiledJPath, document: Any, budget: Budget) -> list[Any]:
    """Every value the query selects from ``document`` (``null`` values included).

    Raises:
        ScriptLimitExceeded: The evaluation ran past ``budget.timeout``, visited
            more than ``10 x budget.max_items`` nodes or selected more than
            ``budget.max_items``.
    """
    from .nodes import JPathLimit, Meter, set_meter

    set_meter(Meter(budget.timeout, budget.max_items * 10))
    try:
        values = [match.value for match in compiled.path.find(document)]
    except JPathLimit as exc:
        kind: LimitKind = "size" if exc.kind == "size" else "time"
        raise ScriptLimitExceeded(budget.message(kind), "jpath", kind) from None
    except RecursionError:
        raise ScriptLimitExceeded(budget.message("depth"), "jpath", "depth") from None
    finally:
        set_meter(None)
    if len(values) > budget.max_items:
        raise ScriptLimitExceeded(budget.message("size"), "jpath", "size")
    return values
