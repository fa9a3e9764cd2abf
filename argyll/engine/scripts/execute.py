"""Evaluate compiled Ale and Lua scripts in the current process, and shape results.

Used by :class:`~argyll.engine.scripts.Scripts` for predicates, matches and
mappings (in process, under the small ``eval`` budget) and by worker
processes for step scripts. Shaping follows SCRIPT-3 (outputs) and MAP-4
(mapping extraction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .ale import call_ale
from .limits import Budget
from .lua.engine import sandbox_for_thread

__all__ = ["extract_mapping", "outputs_from", "run_ale", "run_lua"]


def outputs_from(value: Any) -> dict[str, Any]:
    """SCRIPT-3 for Ale: an object result is the outputs, anything else is ``result``."""
    if type(value) is dict:
        return value
    return {"result": value}


def extract_mapping(outputs: dict[str, Any]) -> Any:
    """MAP-4: empty -> null; a ``value`` key wins; one key -> its value; else the map."""
    if not outputs:
        return None
    if "value" in outputs:
        return outputs["value"]
    if len(outputs) == 1:
        return next(iter(outputs.values()))
    return outputs


def run_ale(compiled: Any, args: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """Run a compiled Ale script and return its outputs (SCRIPT-3)."""
    _, converted = call_ale(compiled, args, budget)
    return outputs_from(converted)


def run_lua(
    key: str,
    source: str,
    arg_names: Sequence[str],
    args: dict[str, Any],
    budget: Budget,
    cache_size: int,
) -> dict[str, Any]:
    """Compile (cached per thread) and run a Lua script; return its outputs (SCRIPT-3)."""
    sandbox = sandbox_for_thread(cache_size)
    chunk = sandbox.compile(key, source, arg_names)
    result = sandbox.call(chunk, arg_names, args, budget)
    return sandbox.to_outputs(result, budget)
