"""Local step validation for ``StepBuilder.build()``: every problem at once.

The shared VAL-1 rules (``argyll.model.validate.step_problems``) stop at the
first failing stage, as the engine must. A builder's user is better served by
the whole list, so the rules run on three probes of the step (the step
itself, its attributes alone, its work config alone) and the SDK adds its own
checks in front. Scripts are not compiled here: that needs the engine.
"""

from __future__ import annotations

from msgspec import structs

from argyll.model.step import HTTPConfig, ScriptConfig, Step
from argyll.model.validate import step_problems

__all__ = ["build_problems"]

_PROBE_ID = "probe"
_PROBE_SCRIPT = ScriptConfig(language="ale", script="probe")


def _has_no_execution_config(step: Step) -> bool:
    return (
        step.type in ("sync", "async")
        and step.http is None
        and step.script is None
        and step.flow is None
    )


def build_problems(step: Step, *, has_compensate_handler: bool = False) -> list[str]:
    """Every problem of ``step`` that can be found without the engine.

    Args:
        step: The step, its ID already derived from the name when unset.
        has_compensate_handler: The builder serves a compensation handler
            (which implies a compensate URL once served).

    Returns:
        Problems in VAL-1 order without duplicates; empty when valid.
    """
    problems: list[str] = []
    if not step.id:
        problems.append("step ID empty: call with_id(...) or with_name(...)")
    if not step.name:
        problems.append("step name empty: call with_name(...)")
    no_execution = _has_no_execution_config(step)
    if no_execution:
        problems.append(
            "no execution config: call with_endpoint(url), with_script(source) or "
            "with_flow_goals(*goals), or serve the step with start(handler)"
        )
    compensates = has_compensate_handler or (step.http is not None and bool(step.http.compensate))
    if step.memoizable and compensates:
        problems.append("compensate not allowed for memoizable steps")

    probe = structs.replace(step, id=step.id or _PROBE_ID, name=step.name or _PROBE_ID)
    if no_execution:
        probe = structs.replace(probe, http=HTTPConfig(endpoint="http://probe/"))
    problems += step_problems(probe)
    # The shared rules stop at the first failing stage; probe the later
    # stages separately so that one build() reports everything.
    base = Step(id=_PROBE_ID, name=_PROBE_ID, type="script", script=_PROBE_SCRIPT)
    problems += step_problems(structs.replace(base, attributes=step.attributes))
    problems += step_problems(structs.replace(base, work_config=step.work_config))
    return list(dict.fromkeys(problems))
