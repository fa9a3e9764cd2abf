"""Flow steps: starting child flows and propagating their outcome (SUB-1..5)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.tx import InvokeWork
from argyll.errors import ConflictError, EngineError
from argyll.model.flow import FlowState
from argyll.model.step import Step

if TYPE_CHECKING:
    from argyll.engine.execute.runner import FlowRunner

__all__ = ["PARENT_KEYS", "Subflows", "child_flow_id"]

log = logging.getLogger("argyll.subflow")

PARENT_KEYS = ("parent_flow_id", "parent_step_id", "parent_work_item_token")


def child_flow_id(parent_flow_id: str, step_id: str, token: str) -> str:
    """DATA-5: ``<parent_flow_id>:<step_id>:<token>``."""
    return f"{parent_flow_id}:{step_id}:{token}"


def child_outcome(parent_step: Step, child: FlowState) -> Outcome:
    """SUB-5: the parent item's outcome from a deactivated child."""
    if child.status != "completed":
        return Outcome("permanent", error=child.error or "child flow failed")
    outputs = {name: values[0].value for name, values in child.attributes.items() if values}
    for _, spec in sorted(parent_step.attrs().items()):
        mapping = spec.mapping
        if (
            spec.role == "output"
            and mapping is not None
            and mapping.name
            and mapping.name not in outputs
        ):
            return Outcome("permanent", error=f"flow output missing: {mapping.name}")
    return Outcome("success", outputs)


class Subflows:
    """Starts child flows for flow-step work items and reports back to parents."""

    def __init__(self, runner: FlowRunner) -> None:
        self.runner = runner

    async def start_child(
        self, parent: FlowState, step: Step, effect: InvokeWork
    ) -> Outcome | None:
        """SUB-1: start (or re-attach to) the child flow of one work item.

        Returns an outcome only when the item fails at once; otherwise the
        child's deactivation reports (SUB-2, SUB-5).
        """
        plan = parent.plan.children.get(step.id)
        if plan is None:
            return Outcome("permanent", error=f"no child plan for step {step.id}")
        child_id = child_flow_id(parent.id, step.id, effect.token)
        init: dict[str, list[Any]] = {k: [v] for k, v in effect.args.items()}
        missing = [n for n in plan.required if not init.get(n)]
        if missing:
            return Outcome(
                "permanent", error=f"required inputs not provided: [{' '.join(missing)}]"
            )
        metadata = dict(parent.metadata)
        metadata.update(
            parent_flow_id=parent.id,
            parent_step_id=step.id,
            parent_work_item_token=effect.token,
        )
        try:
            started = await self.runner.start(child_id, plan, init, metadata=metadata)
        except ConflictError as exc:
            return Outcome("permanent", error=exc.message)
        except EngineError as exc:
            return Outcome("permanent", error=exc.message)
        if not started:
            # Idempotent re-invocation (REC-4): report at once if already over.
            child = await self.runner.state(child_id)
            if child is not None and child.deactivated_at.year > 1:
                return child_outcome(step, child)
        return None

    async def propagate(self, child: FlowState) -> None:
        """SUB-5/TERM-9: a child was deactivated; complete or fail the parent item."""
        meta = child.metadata
        if not all(k in meta for k in PARENT_KEYS):
            return
        parent_id = str(meta["parent_flow_id"])
        step_id = str(meta["parent_step_id"])
        token = str(meta["parent_work_item_token"])
        parent = await self.runner.state(parent_id)
        if parent is None or step_id not in parent.plan.steps:
            log.warning("child %s has no parent step %s/%s", child.id, parent_id, step_id)
            return
        outcome = child_outcome(parent.plan.steps[step_id], child)
        await self.runner.record(parent_id, step_id, token, outcome)
