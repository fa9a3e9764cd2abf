"""Match gates at plan time (PLAN-9 over MATCH-3). Pure; no I/O.

Scripts are not run here: the caller passes a ``match`` callable (the engine
passes its script runner's ``match``; tests pass a predicate table). A
:class:`~argyll.errors.ScriptError` from it makes that input's status
``unknown`` (PLAN-9); any other exception propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from argyll.engine.plan.facts import InputFact, StepFacts
from argyll.errors import ScriptError

__all__ = ["Gate", "MatchEvaluator", "MatchStatus", "match_status", "step_gate"]

MatchEvaluator = Callable[[str, str, Any], bool]
"""``match(language, source, value) -> bool``: does ``value`` pass the script (MATCH-2)?"""

MatchStatus = Literal["matched", "unmatched", "unknown"]
Gate = Literal["open", "closed", "unknown"]


def match_status(
    collect: str, matched: int, unmatched: int, terminal: bool, all_succeeded: bool
) -> MatchStatus:
    """MATCH-3: the status of one gated input from candidate counts and provider facts.

    Args:
        collect: The input's collect mode (``first`` when unset).
        matched: Number of candidates the match script accepted.
        unmatched: Number of candidates it rejected.
        terminal: Every provider of the attribute is terminal.
        all_succeeded: Every provider succeeded and produced the attribute.
    """
    if collect == "none":
        if matched:
            return "unmatched"
        return "matched" if terminal else "unknown"
    if collect == "last":
        if terminal:
            return "matched" if matched else "unmatched"
        return "unknown"
    if collect == "all":
        if unmatched:
            return "unmatched"
        if matched and terminal and all_succeeded:
            return "matched"
        return "unmatched" if terminal else "unknown"
    if matched:
        return "matched"
    return "unmatched" if terminal else "unknown"


def step_gate(
    facts: StepFacts,
    init: Mapping[str, Sequence[Any]],
    provided: Callable[[str], bool],
    match: MatchEvaluator | None,
) -> tuple[Gate, dict[str, MatchStatus]]:
    """PLAN-9: the plan-time gate of a step and the status of each gated input.

    Candidates are the init values of the attribute; its providers count as
    terminal and all-succeeded exactly when init has values and the catalog
    has no provider for it. A script error (or no ``match`` callable while
    there are candidates to test) makes that input ``unknown``.

    Args:
        facts: The step's planning facts.
        init: The plan's initial values.
        provided: Whether the catalog has a provider for an attribute name.
        match: The match script evaluator, or ``None``.

    Returns:
        ``("open", {})`` for a step without gated inputs; otherwise the
        combined gate (any ``unmatched`` -> ``closed``, else any ``unknown``
        -> ``unknown``, else ``open``) and the per-input statuses.
    """
    if not facts.gated:
        return "open", {}
    statuses = {inp.name: _input_status(inp, init, provided, match) for inp in facts.gated}
    found = set(statuses.values())
    if "unmatched" in found:
        return "closed", statuses
    if "unknown" in found:
        return "unknown", statuses
    return "open", statuses


def _input_status(
    inp: InputFact,
    init: Mapping[str, Sequence[Any]],
    provided: Callable[[str], bool],
    match: MatchEvaluator | None,
) -> MatchStatus:
    values = init.get(inp.name) or ()
    complete = bool(values) and not provided(inp.name)
    language, source = inp.match or ("", "")
    matched = unmatched = 0
    for value in values:
        if match is None:
            return "unknown"
        try:
            ok = match(language, source, value)
        except ScriptError:
            # PLAN-9: an evaluation error leaves the gate undecided at plan time.
            return "unknown"
        if ok:
            matched += 1
        else:
            unmatched += 1
    return match_status(inp.collect, matched, unmatched, complete, complete)
