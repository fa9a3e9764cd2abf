"""Step readiness, skipping, reachability, settling and terminal rules
(EXEC-2, EXEC-4, EXEC-12..15, EXEC-20, TERM-1..4, TERM-7). No I/O.
"""

from __future__ import annotations

from datetime import datetime

from argyll.engine.flow import inputs as inp
from argyll.engine.flow.tx import ArmDeadline, Tx
from argyll.model import events as ev
from argyll.model.step import Step, input_collect

__all__ = [
    "can_complete",
    "can_start",
    "check_deactivation",
    "check_terminal",
    "outputs_needed",
    "settle",
]

TERMINAL_STEP = inp.TERMINAL_STEP
MATCH_SKIP = "required match did not match"
PREDICATE_SKIP = "predicate returned false"
UNUSED_SKIP = "outputs not needed"
UNREACHABLE = "required input no longer available"


def _status(tx: Tx, step_id: str) -> str:
    ex = tx.state.executions.get(step_id)
    return ex.status if ex is not None else "pending"


def _will_skip(tx: Tx, step: Step) -> bool:
    if not step.gated_names:
        return False
    memo = tx.memo("will_skip")
    known = memo.get(step.id)
    if known is None:
        known = memo[step.id] = bool(inp.unsatisfied_gates(tx, step))
    return bool(known)


def outputs_needed(tx: Tx, step_id: str) -> bool:
    """EXEC-2: is a pending step's output wanted by a goal or a live consumer."""
    plan = tx.state.plan
    if step_id in plan.goals:
        return True
    memo = tx.memo("outputs_needed")
    known = memo.get(step_id)
    if known is None:
        known = memo[step_id] = _outputs_needed(tx, step_id)
    return bool(known)


def _outputs_needed(tx: Tx, step_id: str) -> bool:
    plan = tx.state.plan
    step = plan.steps[step_id]
    for out in step.output_names:
        edges = plan.attributes.get(out)
        if edges is None:
            continue
        for consumer_id in edges.consumers:
            if _status(tx, consumer_id) != "pending":
                continue
            consumer = plan.steps[consumer_id]
            if _will_skip(tx, consumer):
                continue
            spec = consumer.attrs().get(out)
            if spec is None:
                continue
            collect = input_collect(spec)
            try:
                has_value = bool(inp.candidates(tx, consumer_id, out, spec))
            except inp.MatchFailed:
                return True
            if collect == "all" and not _terminal_providers_produced(tx, out):
                continue
            if not has_value or collect != "first":
                return True
    return False


def _terminal_providers_produced(tx: Tx, name: str) -> bool:
    edges = tx.state.plan.attributes.get(name)
    if edges is None:
        return True
    values = tx.state.attributes.get(name, [])
    for provider in edges.providers:
        status = _status(tx, provider)
        if status in TERMINAL_STEP and (
            status != "completed" or not any(v.step == provider for v in values)
        ):
            return False
    return True


def can_start(tx: Tx, step_id: str) -> tuple[bool, datetime | None]:
    """EXEC-4: can the step start now; else the next time optional decisions change.

    The conditions are checked cheapest first: most pending steps are waiting
    for a required input, which is quicker to see than whether their outputs
    are still needed.
    """
    if _status(tx, step_id) != "pending":
        return False, None
    step = tx.state.plan.steps[step_id]
    skips = step_id in tx.match_errors or _will_skip(tx, step)
    anchor_at = None
    if not skips:
        try:
            anchor_at = inp.anchor(tx, step)
        except inp.MatchFailed:
            skips = True
        else:
            if anchor_at is None:
                return False, None
    if not outputs_needed(tx, step_id):
        return False, None
    if skips or anchor_at is None:
        return True, None
    recheck: datetime | None = None
    for name, spec in step.attrs().items():
        if spec.role != "optional":
            continue
        decision = inp.optional_decision(tx, step, name, spec, anchor_at)
        if (
            not decision.ready
            and decision.recheck_at is not None
            and (recheck is None or decision.recheck_at < recheck)
        ):
            recheck = decision.recheck_at
    if recheck is not None:
        return False, recheck
    return True, None


def can_complete(tx: Tx, step_id: str, visiting: frozenset[str] = frozenset()) -> bool:
    """EXEC-13: can the step still complete.

    Inputs are judged by fulfilment (INPUT-3) rather than by the mere presence
    of a value: a ``collect: all`` input whose terminal providers did not all
    produce it, or a ``first`` input with no value left to come, has no path
    (EDGE-12, EDGE-14).
    """
    status = _status(tx, step_id)
    if status in TERMINAL_STEP:
        return status == "completed"
    if step_id in visiting:
        return False
    # Within one unchanged state the answer cannot change; plans are acyclic
    # (VAL-2), so memoizing across the recursion is sound.
    memo = tx.memo("can_complete")
    known = memo.get(step_id)
    if known is not None:
        return bool(known)
    result = _can_complete(tx, step_id, visiting)
    memo[step_id] = result
    return result


def _can_complete(tx: Tx, step_id: str, visiting: frozenset[str]) -> bool:
    step = tx.state.plan.steps[step_id]
    if step_id in tx.match_errors or _will_skip(tx, step):
        return True
    for name in inp.gated_inputs(step):
        if not inp.provider_summary(tx, name).terminal:
            return True
    inner_visiting = visiting | {step_id}
    attrs = step.attrs()
    for name in step.required_names:
        # A fulfilled input is settled. An unfulfilled one needs a provider that
        # can still run: once every provider is terminal nothing more can arrive
        # (EDGE-12, EDGE-14), so the step cannot complete.
        try:
            if inp.fulfilled(tx, step_id, name, attrs[name]).ok:
                continue
        except inp.MatchFailed:
            return True
        edges = tx.state.plan.attributes.get(name)
        if edges is None or not edges.providers:
            return False
        if not any(
            _status(tx, p) not in TERMINAL_STEP and can_complete(tx, p, inner_visiting)
            for p in edges.providers
        ):
            return False
    return True


def _pending(tx: Tx) -> list[str]:
    return [sid for sid, ex in tx.state.executions.items() if ex.status == "pending"]


def skip_unused(tx: Tx) -> bool:
    """EXEC-12: skip pending steps whose outputs are not needed; True if any."""
    changed = False
    progress = True
    while progress:
        progress = False
        for step_id in _pending(tx):
            if not outputs_needed(tx, step_id):
                tx.raise_(ev.StepSkipped(flow_id=tx.flow_id, step_id=step_id, reason=UNUSED_SKIP))
                progress = changed = True
    return changed


def _partial_inputs(tx: Tx, step: Step) -> dict[str, object]:
    try:
        return inp.assemble_inputs(tx, step)
    except inp.MatchFailed:
        return {}


def fail_unreachable(tx: Tx) -> bool:
    """EXEC-14: fail pending steps that can no longer complete; True if any.

    Skipped when nothing since the last pass could have cut a path (``Tx.reach_dirty``).
    """
    if not tx.reach_dirty:
        return False
    tx.reach_dirty = False
    changed = False
    progress = True
    while progress:
        progress = False
        for step_id in _pending(tx):
            if not can_complete(tx, step_id):
                step = tx.state.plan.steps[step_id]
                tx.raise_(
                    ev.StepFailed(
                        flow_id=tx.flow_id,
                        step_id=step_id,
                        error=UNREACHABLE,
                        inputs=_partial_inputs(tx, step),
                    )
                )
                progress = changed = True
    return changed


def start_ready(tx: Tx) -> bool:
    """EXEC-15 and FLOW-6: prepare every pending step that can start; True if any.

    The list is computed before preparing, so preparing one step never removes
    another from it. Steps held back only by optional deadlines get a timer.
    """
    from argyll.engine.flow.work import prepare

    ready: list[str] = []
    for step_id in _pending(tx):
        ok, recheck = can_start(tx, step_id)
        if ok:
            ready.append(step_id)
        elif recheck is not None:
            tx.effect(ArmDeadline(step_id, recheck))
    for step_id in ready:
        if tx.terminal:
            break
        prepare(tx, step_id)
    return bool(ready)


def _match_pruned(tx: Tx, goal: str) -> bool:
    ex = tx.state.executions.get(goal)
    return ex is not None and ex.status == "skipped" and ex.error == MATCH_SKIP


def check_terminal(tx: Tx, *, reachability_checked: bool = False) -> bool:
    """TERM-1..4: complete or fail the flow if its outcome is decided; True if terminal.

    Args:
        reachability_checked: An EXEC-14 pass just ran, so every pending goal
            that cannot complete has already failed; the per-goal walk is skipped.
    """
    if tx.terminal:
        return True
    state = tx.state
    plan = state.plan
    goals = plan.goals
    in_plan = [g for g in goals if g in plan.steps]
    blocked = any(g in plan.excluded.blocked for g in goals)
    failed_goals = [g for g in in_plan if _status(tx, g) == "failed"]
    pruned = [g for g in in_plan if _match_pruned(tx, g)]
    all_pruned = bool(goals) and len(pruned) == len(goals)
    all_terminal = all(ex.status in TERMINAL_STEP for ex in state.executions.values())
    if all_terminal and not failed_goals and not all_pruned and not blocked:
        result: dict[str, object] = {}
        for goal in goals:
            ex = state.executions.get(goal)
            if ex is not None and ex.outputs:
                result.update(ex.outputs)
        tx.raise_(ev.FlowCompleted(flow_id=tx.flow_id, result=result))
        return True
    stuck = [
        g
        for g in ([] if reachability_checked else in_plan)
        if not _match_pruned(tx, g) and _status(tx, g) != "skipped" and not can_complete(tx, g)
    ]
    if failed_goals or stuck or all_pruned or blocked:
        tx.raise_(ev.FlowFailed(flow_id=tx.flow_id, error=_failure_text(tx, failed_goals)))
        return True
    return False


def _failure_text(tx: Tx, failed_goals: list[str]) -> str:
    # TERM-4: a failed goal if any, else the lowest-ID failed step.
    failed = failed_goals or sorted(
        sid for sid, ex in tx.state.executions.items() if ex.status == "failed"
    )
    if not failed:
        return "flow failed"
    step_id = failed[0]
    return f"step {step_id} failed: {tx.state.executions[step_id].error}"


def check_deactivation(tx: Tx) -> bool:
    """TERM-7: deactivate a terminal flow with no active or compensating items."""
    state = tx.state
    if not tx.terminal or state.deactivated_at.year > 1:
        return False
    for ex in state.executions.values():
        for item in ex.work_items.values():
            if item.status in ("active", "compensating"):
                return False
    tx.raise_(ev.FlowDeactivated(flow_id=tx.flow_id, status=state.status))
    return True


def settle(tx: Tx) -> None:
    """EXEC-20 as a fixpoint: unreachable, skip unused, terminal check, start ready.

    Ends with the deactivation check (TERM-7).
    """
    while not tx.terminal:
        fail_unreachable(tx)
        skip_unused(tx)
        if check_terminal(tx, reachability_checked=not tx.reach_dirty):
            break
        before = len(tx.events)
        if not start_ready(tx):
            break
        # Starting steps adds no value and ends no step, so no other step can
        # become ready and no outcome changes; only providers of a started step
        # may have lost their last pending consumer (EXEC-2). Another full pass
        # is needed only if that skips something.
        if all(isinstance(e, _STARTS) for e in tx.events[before:]) and not skip_unused(tx):
            break
    check_deactivation(tx)


_STARTS = (ev.StepStarted, ev.WorkStarted, ev.DispatchDeferred)
