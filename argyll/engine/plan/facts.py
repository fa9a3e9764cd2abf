"""Per-step planning facts, derived once when a step enters the graph.

Pure data over one :class:`~argyll.model.step.Step`. No I/O. The planner and
the VAL-2 checks read these instead of re-deriving roles, collect modes and
match scripts from the step on every plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from argyll.model.step import Step, inner_name, input_collect

__all__ = ["InputFact", "StepFacts"]


@dataclass(frozen=True, slots=True)
class InputFact:
    """One input (required or optional) attribute of a step.

    Attributes:
        name: The attribute (outer) name.
        collect: The collect mode, ``first`` when unset (DATA-23).
        required: True for role ``required``, False for ``optional``.
        match: ``(language, source)`` of a non-empty ``required.match`` script,
            else ``None`` (an empty script counts as absent, EDGE-10).
    """

    name: str
    collect: str
    required: bool
    match: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class StepFacts:
    """What planning and catalog checks need to know about one step.

    Every name tuple is sorted, so plans and error texts are deterministic
    (EDGE-9) whatever the attribute order of the submitted JSON.

    Attributes:
        step: The stored step itself (a frozen snapshot).
        inputs: Required and optional attributes, sorted by name.
        input_names: Their names, in the same order.
        required: Names of required attributes, sorted.
        required_set: The same names as a set, for membership tests.
        outputs: Names of output attributes, sorted.
        none_inputs: Inputs with collect ``none``: blocked when init provides
            them (PLAN-3).
        gated: Required inputs with a match script (PLAN-9), sorted by name.
        types: ``(name, type)`` of every declared attribute, ``""`` when untyped.
        flow_goals: ``flow.goals`` of a ``flow`` step, else empty.
        guaranteed: Inner names of the attributes a child flow can count on
            (PLAN-10): required, const, meta, and optional with a default.
    """

    step: Step
    inputs: tuple[InputFact, ...]
    input_names: tuple[str, ...]
    required: tuple[str, ...]
    required_set: frozenset[str]
    outputs: tuple[str, ...]
    none_inputs: tuple[str, ...]
    gated: tuple[InputFact, ...]
    types: tuple[tuple[str, str], ...]
    flow_goals: tuple[str, ...]
    guaranteed: tuple[str, ...]

    @classmethod
    def of(cls, step: Step) -> StepFacts:
        """Derive the facts of ``step``; attributes declared ``null`` are ignored."""
        attrs = step.attrs()
        inputs: list[InputFact] = []
        outputs: list[str] = []
        guaranteed: list[str] = []
        for name in sorted(attrs):
            spec = attrs[name]
            role = spec.role
            if role == "output":
                outputs.append(name)
                continue
            if role in ("required", "optional"):
                match: tuple[str, str] | None = None
                if role == "required" and spec.required is not None:
                    script = spec.required.match
                    if script is not None and script.script:
                        match = (script.language, script.script)
                inputs.append(InputFact(name, input_collect(spec), role == "required", match))
            if _guaranteed(role, spec.optional.default if spec.optional is not None else ""):
                guaranteed.append(inner_name(name, spec))
        required = tuple(i.name for i in inputs if i.required)
        flow_goals: tuple[str, ...] = ()
        if step.type == "flow" and step.flow is not None:
            flow_goals = tuple(step.flow.goals)
        return cls(
            step=step,
            inputs=tuple(inputs),
            input_names=tuple(i.name for i in inputs),
            required=required,
            required_set=frozenset(required),
            outputs=tuple(outputs),
            none_inputs=tuple(i.name for i in inputs if i.collect == "none"),
            gated=tuple(i for i in inputs if i.match is not None),
            types=tuple((name, attrs[name].type) for name in sorted(attrs)),
            flow_goals=flow_goals,
            guaranteed=tuple(sorted(set(guaranteed))),
        )


def _guaranteed(role: str, default: str) -> bool:
    # PLAN-10: a child flow can rely on these inputs having a value.
    return role in ("required", "const", "meta") or (role == "optional" and default != "")
