"""Step preparation and work items: expansion, dispatch, results, completion
(EXEC-5, PRED-1/2, WORK-3..11, MEMO-4). No I/O.
"""

from __future__ import annotations

import itertools
from typing import Any

from argyll.engine.flow import inputs as inp
from argyll.engine.flow.deferral import deferral, deferral_reason
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.outputs import step_outputs
from argyll.engine.flow.retry import schedule_retry
from argyll.engine.flow.tx import ArmDispatch, InvokeWork, MemoPut, Tx
from argyll.errors import ScriptError
from argyll.model import events as ev
from argyll.model.flow import ExecutionState
from argyll.model.step import Step, inner_name, step_arg_names

__all__ = [
    "Outcome",
    "TooManyWorkItems",
    "check_step_completion",
    "dispatch",
    "expand_work_items",
    "invocation",
    "prepare",
    "record_result",
]

MATCH_SKIP = "required match did not match"
PREDICATE_SKIP = "predicate returned false"
DISPATCH_RETRY_MS = 1000


class TooManyWorkItems(Exception):
    """WORK-3: the cartesian product exceeds the limit."""


def expand_work_items(step: Step, inputs: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """WORK-3: one overlay per work item (first for_each attribute varies slowest).

    Raises:
        TooManyWorkItems: more than ``limit`` items.
    """
    lists: list[tuple[str, list[Any]]] = []
    for name in sorted(step.attrs()):
        spec = step.attributes[name]
        assert spec is not None
        if not spec.for_each:
            continue
        inner = inner_name(name, spec)
        value = inputs.get(inner)
        if isinstance(value, list):
            lists.append((inner, value))
    if not lists:
        return [{}]
    total = 1
    for _, values in lists:
        total *= len(values)
    if total > limit:
        raise TooManyWorkItems(f"too many work items: {total} (max {limit})")
    names = [n for n, _ in lists]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(values for _, values in lists))
    ]


def _predicate(tx: Tx, step: Step, args: dict[str, Any]) -> bool | str:
    """PRED-1: True/False, or the failure text."""
    pred = step.predicate
    if pred is None or not pred.script:
        return True
    try:
        return tx.env.scripts.predicate(pred.language, pred.script, step_arg_names(step), args)
    except ScriptError as exc:
        if exc.phase == "compile":
            return f"predicate compilation failed: {exc}"
        return f"predicate evaluation failed: {exc}"


def _fail_step(
    tx: Tx,
    step_id: str,
    error: str,
    inputs: dict[str, Any] | None,
    unsatisfied: list[str] | None = None,
) -> None:
    tx.raise_(
        ev.StepFailed(
            flow_id=tx.flow_id,
            step_id=step_id,
            error=error,
            inputs=inputs,
            unsatisfied=unsatisfied or [],
        )
    )


def prepare(tx: Tx, step_id: str) -> None:
    """EXEC-5: skip, fail or start a pending step, then dispatch its work."""
    ex = tx.state.executions.get(step_id)
    if ex is None or ex.status != "pending":
        return
    step = tx.state.plan.steps[step_id]
    unsatisfied = inp.unsatisfied_gates(tx, step)
    try:
        inputs = inp.assemble_inputs(tx, step)
    except inp.MatchFailed:
        inputs = None
    if step_id in tx.match_errors:
        _fail_step(tx, step_id, tx.match_errors[step_id], inputs)
        return
    assert inputs is not None
    if unsatisfied:
        tx.raise_(
            ev.StepSkipped(
                flow_id=tx.flow_id,
                step_id=step_id,
                reason=MATCH_SKIP,
                inputs=inputs,
                unsatisfied=unsatisfied,
            )
        )
        return
    verdict = _predicate(tx, step, inputs)
    if isinstance(verdict, str):
        _fail_step(tx, step_id, verdict, inputs)
        return
    if not verdict:
        tx.raise_(
            ev.StepSkipped(
                flow_id=tx.flow_id, step_id=step_id, reason=PREDICATE_SKIP, inputs=inputs
            )
        )
        return
    try:
        overlays = expand_work_items(step, inputs, tx.env.max_work_items)
    except TooManyWorkItems as exc:
        if tx.initial:
            raise  # FLOW-9: the start is aborted, nothing is recorded
        _fail_step(tx, step_id, str(exc), inputs)  # EDGE-11
        return
    items = {tx.env.token(tx.flow_id, step_id, i): overlay for i, overlay in enumerate(overlays)}
    tx.raise_(ev.StepStarted(flow_id=tx.flow_id, step_id=step_id, inputs=inputs, work_items=items))
    if not items:
        _complete_step(tx, step_id)  # EDGE-5
        return
    dispatch(tx, step_id)


def item_inputs(ex: ExecutionState, token: str) -> dict[str, Any]:
    """WORK-4: the step inputs overlaid by the item's overlay (no meta values)."""
    merged = dict(ex.inputs or {})
    overlay = ex.work_items[token].inputs
    if overlay:
        merged.update(overlay)
    return merged


def invocation(tx: Tx, step: Step, token: str, inputs: dict[str, Any]) -> InvokeWork:
    """TYPE-2: the invocation arguments (inputs + meta values) and metadata."""
    metadata = dict(tx.state.metadata)
    metadata.update(flow_id=tx.flow_id, step_id=step.id, receipt_token=token)
    if step.type == "async":
        base = tx.env.webhook_base_url
        metadata["webhook_url"] = f"{base}/webhook/{tx.flow_id}/{step.id}/{token}"
    args = dict(inputs)
    for name, spec in step.attrs().items():
        if spec.role == "meta" and spec.meta is not None and spec.meta.key in metadata:
            args[name] = metadata[spec.meta.key]
    return InvokeWork(step.id, token, args, metadata)


def start_item(tx: Tx, step_id: str, token: str) -> None:
    """Raise ``work_started`` and schedule the invocation (same token on retries, RETRY-6)."""
    ex = tx.state.executions[step_id]
    step = tx.state.plan.steps[step_id]
    inputs = item_inputs(ex, token)
    tx.raise_(ev.WorkStarted(flow_id=tx.flow_id, step_id=step_id, token=token, inputs=inputs))
    tx.effect(invocation(tx, step, token, inputs))


def dispatch(tx: Tx, step_id: str, *, continuation: bool = False) -> None:
    """WORK-6: start pending items up to the step's parallelism."""
    state = tx.state
    ex = state.executions.get(step_id)
    if tx.terminal or state.deactivated_at.year > 1 or ex is None or ex.status != "active":
        return
    step = state.plan.steps[step_id]
    limit = max(1, step.work_config.parallelism if step.work_config else 0)
    now = tx.env.now
    # One pass over the items (a fan-out has thousands): count the active
    # ones and collect the due pending ones in creation order (WORK-5).
    active = 0
    due: list[str] = []
    for token, item in ex.work_items.items():
        status = item.status
        if status == "active":
            active += 1
        elif status == "pending" and not (item.next_retry_at.year > 1 and item.next_retry_at > now):
            due.append(token)
    deferred = False
    changed = False
    for token in due:
        if active >= limit:
            break
        item = ex.work_items[token]
        inputs = item_inputs(ex, token)
        if item.inputs and step.predicate is not None and step.predicate.script:
            verdict = _predicate(tx, step, inputs)  # PRED-2
            if isinstance(verdict, str):
                _fail_step(tx, step_id, verdict, ex.inputs)
                return
            if not verdict:
                tx.raise_(
                    ev.WorkSkipped(
                        flow_id=tx.flow_id, step_id=step_id, token=token, reason=PREDICATE_SKIP
                    )
                )
                changed = True
                continue
        if step.memoizable:
            cached = tx.env.memo.get(step, inputs)
            if cached is not None:  # MEMO-4
                tx.raise_(
                    ev.WorkSucceeded(
                        flow_id=tx.flow_id,
                        step_id=step_id,
                        token=token,
                        outputs=cached,
                        cached=True,
                    )
                )
                active += 1
                changed = True
                continue
        if not tx.env.healthy(step_id):
            deferred = True
            continue
        start_item(tx, step_id, token)
        active += 1
    if deferred:
        reason = deferral_reason(step_id, tx.env.health_error(step_id))
        if (event := deferral(tx.flow_id, step_id, ex, reason)) is not None:
            tx.raise_(event)  # HEALTH-6: once per episode, with the reason
        tx.effect(ArmDispatch(step_id, tx.env.after(DISPATCH_RETRY_MS)))
    if changed:
        check_step_completion(tx, step_id, dispatch_more=True)


def _complete_step(tx: Tx, step_id: str) -> None:
    """WORK-9..11: attribute_set per declared output, then step_completed."""
    ex = tx.state.executions[step_id]
    step = tx.state.plan.steps[step_id]
    outputs = step_outputs(tx, step, ex)
    for key in step.output_names:
        if key in outputs:
            tx.raise_(
                ev.AttributeSet(flow_id=tx.flow_id, step_id=step_id, key=key, value=outputs[key])
            )
    duration = max(0, int((tx.env.now - ex.started_at).total_seconds() * 1000))
    tx.raise_(
        ev.StepCompleted(flow_id=tx.flow_id, step_id=step_id, outputs=outputs, duration=duration)
    )


def check_step_completion(tx: Tx, step_id: str, *, dispatch_more: bool = True) -> str:
    """WORK-8: fail, complete or continue an active step; returns what happened.

    Returns:
        ``failed``, ``completed``, ``skipped`` or ``running``.
    """
    from argyll.engine.flow.compensate import start_compensation

    ex = tx.state.executions.get(step_id)
    if ex is None or ex.status != "active":
        return "none"
    items = ex.work_items
    # One pass: the earliest failure (by completion time, then creation order),
    # whether every item finished, and whether every item was skipped.
    earliest: tuple[Any, int, str] | None = None
    finished = True
    all_skipped = True
    for i, w in enumerate(items.values()):
        status = w.status
        if status == "failed":
            if earliest is None or (w.completed_at, i) < earliest[:2]:
                earliest = (w.completed_at, i, w.error)
        elif status == "succeeded":
            all_skipped = False
        elif status != "skipped":
            finished = all_skipped = False
    if earliest is not None:
        _fail_step(tx, step_id, earliest[2] or "work item failed", ex.inputs)
        start_compensation(tx, step_id)
        return "failed"
    if finished:
        if items and all_skipped:
            tx.raise_(
                ev.StepSkipped(
                    flow_id=tx.flow_id, step_id=step_id, reason=PREDICATE_SKIP, inputs=ex.inputs
                )
            )
            return "skipped"
        _complete_step(tx, step_id)
        return "completed"
    if dispatch_more:
        dispatch(tx, step_id, continuation=True)
    return "running"


_ACCEPTS = {
    "success": ("pending", "active", "not_completed"),
    "permanent": ("pending", "active", "not_completed"),
    "transient": ("active",),
}


def record_result(tx: Tx, step_id: str, token: str, outcome: Outcome) -> bool:
    """WORK-7 and WORK-2: record an invocation outcome; False if ignored."""
    ex = tx.state.executions.get(step_id)
    item = ex.work_items.get(token) if ex is not None else None
    if ex is None or item is None or item.status not in _ACCEPTS.get(outcome.kind, ()):
        return False
    if outcome.kind == "success":
        tx.raise_(
            ev.WorkSucceeded(
                flow_id=tx.flow_id, step_id=step_id, token=token, outputs=outcome.outputs
            )
        )
        step = tx.state.plan.steps[step_id]
        if step.memoizable:
            tx.effect(MemoPut(step, item_inputs(ex, token), outcome.outputs))
    elif outcome.kind == "permanent":
        tx.raise_(
            ev.WorkFailed(flow_id=tx.flow_id, step_id=step_id, token=token, error=outcome.error)
        )
    else:
        tx.raise_(
            ev.WorkNotCompleted(
                flow_id=tx.flow_id, step_id=step_id, token=token, error=outcome.error
            )
        )
        if not tx.terminal and ex.status == "active":
            schedule_retry(tx, step_id, token, outcome.error)
    return True
