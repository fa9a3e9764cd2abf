"""Step invocation by type (TYPE-1): scripts, HTTP calls and child flows.

The runner hands every ``InvokeWork`` and ``Compensate`` effect to an
:class:`Executor` after the events announcing it are durable; the outcome
comes back to the runner as a new decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from argyll.engine.execute.subflow import Subflows
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.tx import Compensate, InvokeWork
from argyll.errors import ScriptError
from argyll.model.flow import FlowState
from argyll.model.step import Step, output_inner_names, step_arg_names

if TYPE_CHECKING:
    from argyll.engine.execute.http import HTTPInvoker
    from argyll.engine.scripts import Scripts

__all__ = ["Executor"]


class Executor:
    """Performs work items for the runner (``execute.runner.Effects``).

    Args:
        scripts: Runs script steps in the sandbox.
        http: The shared outbound HTTP pool.
        subflows: Starts child flows and reports their outcome to parents.
    """

    def __init__(self, scripts: Scripts, http: HTTPInvoker, subflows: Subflows) -> None:
        self.scripts = scripts
        self.http = http
        self.subflows = subflows

    async def invoke(self, state: FlowState, step: Step, effect: InvokeWork) -> Outcome | None:
        """Run one work item; ``None`` when the result comes later (ASYNC-2, SUB-2)."""
        if step.type == "script" and step.script is not None:
            names = step_arg_names(step)
            args = {n: effect.args.get(n) for n in names}
            try:
                outputs = await self.scripts.run(
                    step.script.language, step.script.script, names, args, output_inner_names(step)
                )
            except ScriptError as exc:
                return Outcome("permanent", error=exc.message)  # SCRIPT-5
            return Outcome("success", outputs)
        if step.type in ("sync", "async"):
            result = await self.http.invoke(step, effect.args, effect.metadata)
            if step.type == "async" and result.kind == "success":
                return None  # ASYNC-2: the webhook completes it
            return result
        if step.type == "flow":
            return await self.subflows.start_child(state, step, effect)
        return Outcome("permanent", error=f"invalid step type: {step.type}")

    async def compensate(self, state: FlowState, step: Step, effect: Compensate) -> Outcome:
        """COMP-3: call the step's compensate endpoint for one succeeded item."""
        ex = state.executions[effect.step_id]
        item = ex.work_items[effect.token]
        inputs = dict(ex.inputs or {})
        inputs.update(item.inputs or {})
        metadata = dict(state.metadata)
        metadata.update(flow_id=state.id, step_id=step.id, receipt_token=effect.token)
        return await self.http.compensate(step, inputs, item.outputs, metadata)

    async def child_finished(self, child: FlowState) -> None:
        """SUB-5: a child flow was deactivated."""
        await self.subflows.propagate(child)
