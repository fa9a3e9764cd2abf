"""Step outputs: singleton, aggregate and output mapping (WORK-9, WORK-10, MAP-3). No I/O."""

from __future__ import annotations

from typing import Any

from argyll.engine.flow.tx import Tx
from argyll.errors import ScriptError
from argyll.model import events as ev
from argyll.model.flow import ExecutionState
from argyll.model.step import Step, inner_name

__all__ = ["aggregate", "map_outputs", "step_outputs"]


_ABSENT = object()


def aggregate(step: Step, ex: ExecutionState) -> dict[str, list[dict[str, Any]]]:
    """WORK-10: per raw output key, one entry per succeeded item in creation order."""
    outer_of = {inner_name(n, s): n for n, s in step.attrs().items() if s.for_each}
    result: dict[str, list[dict[str, Any]]] = {}
    for item in ex.work_items.values():
        if item.status != "succeeded" or not item.outputs:
            continue
        overlay = item.inputs or {}
        for key, value in item.outputs.items():
            entry = {outer_of.get(k, k): v for k, v in overlay.items()}
            entry[key] = value
            result.setdefault(key, []).append(entry)
    return result


def map_outputs(tx: Tx, step: Step, raw: dict[str, Any]) -> dict[str, Any]:
    """MAP-3: declared outputs only, renamed and transformed; failures drop the output."""
    mapped: dict[str, Any] = {}
    for name, spec in step.attrs().items():
        if spec.role != "output":
            continue
        mapping = spec.mapping
        if mapping is not None and mapping.script is not None and mapping.script.script:
            try:
                mapped[name] = tx.env.scripts.mapping(
                    mapping.script.language, mapping.script.script, name, raw
                )
            except ScriptError as exc:
                tx.raise_(
                    ev.MappingFailed(
                        flow_id=tx.flow_id,
                        step_id=step.id,
                        attribute=name,
                        direction="output",
                        error=f"output mapping failed, the output is dropped: {exc}",
                    )
                )
            continue
        value = raw.get(inner_name(name, spec), _ABSENT)
        if value is not _ABSENT:
            mapped[name] = value
    return mapped


def step_outputs(tx: Tx, step: Step, ex: ExecutionState) -> dict[str, Any]:
    """WORK-9: no outputs, the single item's mapped outputs, or the mapped aggregate."""
    succeeded = [w for w in ex.work_items.values() if w.status == "succeeded"]
    if not succeeded:
        return {}
    if len(succeeded) == 1:
        return map_outputs(tx, step, succeeded[0].outputs or {})
    return map_outputs(tx, step, dict(aggregate(step, ex)))
