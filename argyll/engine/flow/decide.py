"""Entry points of the pure core: one function per thing that can happen to a flow.

Each takes the flow's current state (mutated in place into the next state:
callers that must keep the old one pass ``copy_state(state)``) and an ``Env``,
and returns the ``Tx`` whose events the runner appends atomically and whose
effects it performs after the commit. No I/O, no clock, no randomness.
"""

from __future__ import annotations

from typing import Any

from argyll.engine.flow.compensate import record_comp_result, start_compensation
from argyll.engine.flow.deferral import deferral, deferral_reason
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.progress import check_deactivation, check_terminal, settle, start_ready
from argyll.engine.flow.state import new_state
from argyll.engine.flow.tx import ArmCompRetry, ArmRetry, Compensate, Env, Tx
from argyll.engine.flow.work import (
    check_step_completion,
    dispatch,
    record_result,
    start_item,
)
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.plan import ExecutionPlan

__all__ = [
    "Outcome",
    "on_comp_result",
    "on_comp_timer",
    "on_deadline",
    "on_dispatch",
    "on_result",
    "on_results",
    "on_retry_timer",
    "recover",
    "start",
]


def start(
    env: Env,
    flow_id: str,
    plan: ExecutionPlan,
    init: dict[str, list[Any]],
    *,
    labels: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tx:
    """FLOW-1/4..8: ``flow_started``, the initial steps, then settle and terminal check.

    Raises:
        TooManyWorkItems: an initial step expands past the work-item limit;
            the start is aborted with nothing recorded (FLOW-9).
    """
    tx = Tx(new_state(), env, reach_dirty=True)
    tx.raise_(
        ev.FlowStarted(
            flow_id=flow_id,
            plan=plan,
            init=init,
            metadata=metadata or {},
            labels=labels or {},
        )
    )
    tx.initial = True
    start_ready(tx)  # FLOW-6: the initial list, computed before preparing any
    tx.initial = False
    settle(tx)
    return tx


def _after_change(tx: Tx) -> None:
    if tx.terminal:
        check_deactivation(tx)
    else:
        settle(tx)


def on_result(state: FlowState, env: Env, step_id: str, token: str, outcome: Outcome) -> Tx:
    """WORK-7/8, TERM-6: record a work result, then completion check and settle."""
    tx = Tx(state, env)
    if not record_result(tx, step_id, token, outcome):
        return tx
    check_step_completion(tx, step_id, dispatch_more=not tx.terminal)
    _after_change(tx)
    return tx


def on_results(state: FlowState, env: Env, results: list[tuple[str, str, Outcome]]) -> Tx:
    """Several work results in one write (the runner batches those that arrive
    while the flow's previous write is committing).

    Every result is recorded first (WORK-7), then each step they touched gets
    one completion check (WORK-8) and the flow settles once, so a fan-out pays
    one pass over its items per batch instead of per result. The final state
    equals applying the results one by one; only the interleaving of events
    inside the write differs (the step's failure names the earliest-created
    failed item, as all items of a write share one timestamp).
    """
    tx = Tx(state, env)
    touched: dict[str, None] = {}
    for step_id, token, outcome in results:
        if record_result(tx, step_id, token, outcome):
            touched[step_id] = None
    if not touched:
        return tx
    for step_id in touched:
        check_step_completion(tx, step_id, dispatch_more=not tx.terminal)
    _after_change(tx)
    return tx


def on_retry_timer(state: FlowState, env: Env, step_id: str, token: str) -> Tx:
    """RETRY-5: a retry timer fired."""
    tx = Tx(state, env)
    ex = state.executions.get(step_id)
    item = ex.work_items.get(token) if ex is not None else None
    if tx.terminal or ex is None or item is None:
        return tx
    if item.status == "pending":
        if item.next_retry_at.year > 1 and item.next_retry_at > env.now:
            tx.effect(ArmRetry(step_id, token, item.next_retry_at))
            return tx
        dispatch(tx, step_id, continuation=True)
    elif item.status in ("active", "not_completed") and ex.status == "active":
        if env.healthy(step_id):
            start_item(tx, step_id, token)
        else:
            reason = deferral_reason(step_id, env.health_error(step_id))
            if (event := deferral(tx.flow_id, step_id, ex, reason)) is not None:
                tx.raise_(event)  # HEALTH-6: once per episode
            tx.effect(ArmRetry(step_id, token, env.after(1000)))
    else:
        return tx
    check_step_completion(tx, step_id, dispatch_more=False)
    _after_change(tx)
    return tx


def on_deadline(state: FlowState, env: Env, step_id: str) -> Tx:
    """OPT-6: an optional-input deadline passed; prepare the step if it can start."""
    tx = Tx(state, env)
    if tx.terminal:
        return tx
    settle(tx)
    return tx


def on_dispatch(state: FlowState, env: Env, step_id: str) -> Tx:
    """WORK-6, HEALTH-6: retry dispatching a step's pending work."""
    tx = Tx(state, env)
    if tx.terminal:
        return tx
    dispatch(tx, step_id, continuation=True)
    _after_change(tx)
    return tx


def on_comp_result(
    state: FlowState, env: Env, step_id: str, token: str, kind: str, error: str = ""
) -> Tx:
    """COMP-4/5: record a compensation outcome, then the deactivation check."""
    tx = Tx(state, env)
    if record_comp_result(tx, step_id, token, kind, error):
        check_deactivation(tx)
    return tx


def on_comp_timer(state: FlowState, env: Env, step_id: str, token: str) -> Tx:
    """COMP-4: a compensation retry is due: ``comp_started`` again and re-invoke."""
    tx = Tx(state, env)
    ex = state.executions.get(step_id)
    item = ex.work_items.get(token) if ex is not None else None
    if item is None or item.status != "compensating":
        return tx
    if item.next_retry_at.year > 1 and item.next_retry_at > env.now:
        tx.effect(ArmCompRetry(step_id, token, item.next_retry_at))
        return tx
    tx.raise_(ev.CompStarted(flow_id=tx.flow_id, step_id=step_id, token=token))
    tx.effect(Compensate(step_id, token))
    return tx


def recover(state: FlowState, env: Env) -> Tx:
    """REC-3: resume a flow after a restart."""
    tx = Tx(state, env, reach_dirty=True)
    for step_id, ex in list(state.executions.items()):
        for token, item in ex.work_items.items():
            if item.status == "compensating":
                at = item.next_retry_at
                if at.year > 1 and at > env.now:
                    tx.effect(ArmCompRetry(step_id, token, at))
                else:
                    tx.effect(Compensate(step_id, token))
        comp_begun = any(
            w.status in ("compensating", "compensated", "compensation_failed")
            for w in ex.work_items.values()
        )
        if ex.status == "failed" and not comp_begun:
            start_compensation(tx, step_id)
    if tx.terminal:
        check_deactivation(tx)
        return tx
    for step_id, ex in list(state.executions.items()):
        if ex.status != "active":
            continue
        for token, item in list(ex.work_items.items()):
            if item.status in ("active", "not_completed"):
                if env.healthy(step_id):
                    start_item(tx, step_id, token)
                else:
                    tx.effect(ArmRetry(step_id, token, env.after(1000)))
            elif item.status == "pending" and item.next_retry_at.year > 1:
                tx.effect(ArmRetry(step_id, token, item.next_retry_at))
        dispatch(tx, step_id)
        check_step_completion(tx, step_id, dispatch_more=False)
    settle(tx)
    if not tx.terminal:
        check_terminal(tx)
    return tx
