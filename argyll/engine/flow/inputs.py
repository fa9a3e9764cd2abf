"""Input rules: provider summaries, candidates, collect modes, optional
decisions, match gates and input assembly (INPUT-*, OPT-*, MATCH-*, EXEC-3).

Pure functions over a ``Tx``'s working state. No I/O, no clock reads (the
decision time is ``tx.env.now``), no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argyll.engine.flow.tx import Tx
from argyll.errors import ScriptError
from argyll.model import events as ev
from argyll.model.codec import ZERO_TIME
from argyll.model.flow import AttributeValue
from argyll.model.step import AttributeSpec, Step, inner_name, input_collect
from argyll.model.validate import parse_json_text

__all__ = [
    "NOT_READY",
    "OptionalDecision",
    "ProviderSummary",
    "anchor",
    "assemble_inputs",
    "candidates",
    "fulfilled",
    "gated_inputs",
    "map_input",
    "match_status",
    "optional_decision",
    "provider_summary",
    "resolve",
    "unsatisfied_gates",
]


TERMINAL_STEP = ("completed", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class ProviderSummary:
    """EXEC-3 facts about the providers of one attribute."""

    terminal: bool
    all_succeeded: bool
    completed_at: datetime


def provider_summary(tx: Tx, name: str) -> ProviderSummary:
    """EXEC-3: terminal, all-succeeded and completed-at over the plan providers of ``name``."""
    state = tx.state
    edges = state.plan.attributes.get(name)
    if edges is None or not edges.providers:
        return ProviderSummary(True, True, state.created_at)
    terminal = True
    all_succeeded = True
    completed_at = ZERO_TIME
    values = state.attributes.get(name, [])
    for provider in edges.providers:
        ex = state.executions.get(provider)
        status = ex.status if ex is not None else "pending"
        if status not in TERMINAL_STEP:
            terminal = False
        if status != "completed" or not any(v.step == provider for v in values):
            all_succeeded = False
        if ex is not None and ex.completed_at > completed_at:
            completed_at = ex.completed_at
    return ProviderSummary(terminal, all_succeeded, completed_at)


def _match_script(spec: AttributeSpec) -> tuple[str, str] | None:
    if spec.role != "required" or spec.required is None or spec.required.match is None:
        return None
    match = spec.required.match
    return (match.language, match.script) if match.script else None


class MatchFailed(Exception):
    """A match script raised (MATCH-2): the step fails."""


def _matches(tx: Tx, step_id: str, script: tuple[str, str], value: Any) -> bool:
    try:
        return tx.env.scripts.match(script[0], script[1], value)
    except ScriptError as exc:
        tx.match_errors.setdefault(step_id, f"match evaluation failed: {exc}")
        raise MatchFailed(str(exc)) from exc


def candidates(
    tx: Tx, step_id: str, name: str, spec: AttributeSpec, cutoff: datetime | None = None
) -> list[AttributeValue]:
    """INPUT-2: the attribute's values, match-filtered for gated inputs, up to ``cutoff``."""
    values = tx.state.attributes.get(name, [])
    if cutoff is not None:
        values = [v for v in values if v.set_at <= cutoff]
    script = _match_script(spec)
    if script is None:
        return values
    return [v for v in values if _matches(tx, step_id, script, v.value)]


@dataclass(frozen=True, slots=True)
class Fulfilled:
    """INPUT-3 outcome: whether the input is fulfilled, its value and fulfilled-at."""

    ok: bool
    value: Any = None
    has_value: bool = False
    at: datetime = ZERO_TIME


_UNFULFILLED = Fulfilled(False)


def fulfilled(
    tx: Tx, step_id: str, name: str, spec: AttributeSpec, cutoff: datetime | None = None
) -> Fulfilled:
    """INPUT-3: is the input fulfilled under its collect mode, and with what."""
    cands = candidates(tx, step_id, name, spec, cutoff)
    collect = input_collect(spec)
    if collect == "first":
        if not cands:
            return _UNFULFILLED
        return Fulfilled(True, cands[0].value, True, cands[0].set_at)
    summary = provider_summary(tx, name)
    if not summary.terminal:
        return _UNFULFILLED
    if collect == "none":
        return Fulfilled(True, at=summary.completed_at) if not cands else _UNFULFILLED
    if not cands or (collect == "all" and not summary.all_succeeded):
        return _UNFULFILLED
    if collect == "last":
        return Fulfilled(True, cands[-1].value, True, cands[-1].set_at)
    return Fulfilled(True, [c.value for c in cands], True, max(c.set_at for c in cands))


def resolve(
    tx: Tx, step_id: str, name: str, spec: AttributeSpec, cutoff: datetime | None = None
) -> tuple[bool, Any]:
    """INPUT-5: the value the collect mode selects from the candidates up to ``cutoff``.

    The caller's decision already made the candidates final (a fulfilled input,
    or an optional input's timeout decision, OPT-3), so no provider state is
    consulted: at a deadline ``last``/``some`` use the values that arrived by
    then even while providers still run.
    """
    cands = candidates(tx, step_id, name, spec, cutoff)
    collect = input_collect(spec)
    if not cands or collect == "none":
        return False, None
    if collect == "last":
        return True, cands[-1].value
    if collect in ("some", "all"):
        return True, [c.value for c in cands]
    return True, cands[0].value


def anchor(tx: Tx, step: Step) -> datetime | None:
    """INPUT-4: the latest of created_at and the required inputs' fulfilled-at."""
    at = tx.state.created_at
    for name, spec in step.attrs().items():
        if spec.role != "required":
            continue
        f = fulfilled(tx, step.id, name, spec)
        if not f.ok:
            return None
        at = max(at, f.at)
    return at


@dataclass(frozen=True, slots=True)
class OptionalDecision:
    """OPT-2: ready or not; fallback, or resolve with an optional cutoff; re-check time."""

    ready: bool
    fallback: bool = False
    cutoff: datetime | None = None
    recheck_at: datetime | None = None


NOT_READY = OptionalDecision(False)
_FALLBACK = OptionalDecision(True, fallback=True)


def _timeout_decision(tx: Tx, name: str, spec: AttributeSpec, cutoff: datetime) -> OptionalDecision:
    # OPT-3
    if input_collect(spec) in ("last", "some", "none"):
        values = tx.state.attributes.get(name, [])
        if any(v.set_at <= cutoff for v in values):
            return OptionalDecision(True, cutoff=cutoff)
    return _FALLBACK


def optional_decision(
    tx: Tx, step: Step, name: str, spec: AttributeSpec, anchor_at: datetime
) -> OptionalDecision:
    """OPT-2: the decision for one optional input at ``tx.env.now``."""
    deadline = spec.optional.deadline if spec.optional is not None else 0
    at = anchor_at + timedelta(milliseconds=deadline)
    now = tx.env.now
    f = fulfilled(tx, step.id, name, spec)
    if f.ok:
        if f.at > at:
            return _timeout_decision(tx, name, spec, at)
        return OptionalDecision(True)
    edges = tx.state.plan.attributes.get(name)
    if edges is None or not edges.providers:
        return _FALLBACK
    if deadline == 0 or provider_summary(tx, name).terminal:
        return _timeout_decision(tx, name, spec, now)
    if at <= now:
        return _timeout_decision(tx, name, spec, at)
    return OptionalDecision(False, recheck_at=at)


def gated_inputs(step: Step) -> list[str]:
    """Required inputs with a non-empty match script, sorted."""
    return step.gated_names


def match_status(tx: Tx, step: Step, name: str) -> str:
    """MATCH-3: ``matched``, ``unmatched`` or ``unknown`` for one gated input."""
    spec = step.attrs()[name]
    script = _match_script(spec)
    assert script is not None
    values = tx.state.attributes.get(name, [])
    matched = sum(1 for v in values if _matches(tx, step.id, script, v.value))
    unmatched = len(values) - matched
    summary = provider_summary(tx, name)
    collect = input_collect(spec)
    if collect == "none":
        return "unmatched" if matched else ("matched" if summary.terminal else "unknown")
    if collect == "last":
        if summary.terminal:
            return "matched" if matched else "unmatched"
        return "unknown"
    if collect == "all":
        if unmatched:
            return "unmatched"
        if matched and summary.terminal and summary.all_succeeded:
            return "matched"
        return "unmatched" if summary.terminal else "unknown"
    if matched:
        return "matched"
    return "unmatched" if summary.terminal else "unknown"


def unsatisfied_gates(tx: Tx, step: Step) -> list[str]:
    """MATCH-5: gated inputs with terminal providers whose status is ``unmatched``.

    A match-script error is recorded in ``tx.match_errors`` and counts as no
    unsatisfied gate, so the step is prepared and fails there (MATCH-2).
    """
    out: list[str] = []
    try:
        for name in gated_inputs(step):
            if provider_summary(tx, name).terminal and match_status(tx, step, name) == "unmatched":
                out.append(name)
    except MatchFailed:
        return []
    return out


def map_input(tx: Tx, step: Step, name: str, spec: AttributeSpec, inner: str, value: Any) -> Any:
    """MAP-2: apply an input mapping script; on failure keep ``value`` and record why."""
    mapping = spec.mapping
    if mapping is None or mapping.script is None or not mapping.script.script:
        return value
    try:
        return tx.env.scripts.mapping(mapping.script.language, mapping.script.script, inner, value)
    except ScriptError as exc:
        tx.raise_(
            ev.MappingFailed(
                flow_id=tx.flow_id,
                step_id=step.id,
                attribute=name,
                direction="input",
                error=f"input mapping failed, the original value is used: {exc}",
            )
        )
        return value


def _resolve_optional(
    tx: Tx, step: Step, name: str, spec: AttributeSpec, anchor_at: datetime
) -> tuple[bool, Any]:
    decision = optional_decision(tx, step, name, spec, anchor_at)
    if not decision.ready:
        return False, None
    default = spec.optional.default if spec.optional is not None else ""
    if not decision.fallback:
        present, value = resolve(tx, step.id, name, spec, decision.cutoff)
        if present:
            return True, value
    if default:
        return True, parse_json_text(default)
    return False, None


def assemble_inputs(tx: Tx, step: Step) -> dict[str, Any]:
    """INPUT-5: the step's inputs map, keyed by inner names.

    Raises:
        MatchFailed: a match script raised (the caller fails the step).
    """
    inputs: dict[str, Any] = {}
    anchor_at = anchor(tx, step) or tx.state.created_at
    for name, spec in step.attrs().items():
        if spec.role == "const":
            inputs[name] = parse_json_text(spec.const.value if spec.const else "")
            continue
        if spec.role not in ("required", "optional"):
            continue
        inner = inner_name(name, spec)
        if spec.role == "optional":
            present, value = _resolve_optional(tx, step, name, spec, anchor_at)
        else:
            f = fulfilled(tx, step.id, name, spec)
            present, value = f.ok and f.has_value, f.value
        if present:
            inputs[inner] = map_input(tx, step, name, spec, inner, value)
    return inputs
