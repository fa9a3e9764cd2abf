"""Step definitions: the JSON of SPEC section 1.2-1.3 as frozen msgspec Structs.

Fields that SPEC.md says are "always serialized" use a custom default
factory (msgspec never omits those); every other zero/empty field is omitted
(CONV-2). Enumerated fields are plain ``str`` so that invalid values reach
validation (argyll.model.validate) and its VAL-1 messages.
"""

from __future__ import annotations

from typing import Any

import msgspec

from argyll.model.wire import FrozenWire

__all__ = [
    "AttributeMapping",
    "AttributeSpec",
    "ConstConfig",
    "FlowConfig",
    "HTTPConfig",
    "MetaConfig",
    "OptionalConfig",
    "OutputConfig",
    "RequiredConfig",
    "ScriptConfig",
    "Step",
    "WorkConfig",
    "inner_name",
    "input_collect",
    "output_inner_names",
    "step_arg_names",
    "with_work_defaults",
]

INPUT_ROLES = ("required", "optional")
RUNTIME_INPUT_ROLES = ("required", "optional", "const", "meta")


def _empty_str() -> str:
    return ""


def _zero() -> int:
    return 0


def _empty_attributes() -> dict[str, AttributeSpec | None]:
    return {}


class ScriptConfig(FrozenWire, frozen=True, omit_defaults=True):
    """A script: ``{"language": "ale"|"lua"|"jpath", "script": "<source>"}`` (DATA-12)."""

    language: str = ""
    script: str = ""


class AttributeMapping(FrozenWire, frozen=True, omit_defaults=True):
    """Renaming (``name``, the inner name) and/or a transform ``script`` (DATA-27)."""

    name: str = ""
    script: ScriptConfig | None = None


class RequiredConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Sub-config of a ``required`` attribute (DATA-23, DATA-26)."""

    collect: str = ""
    for_each: bool = False
    match: ScriptConfig | None = None
    mapping: AttributeMapping | None = None


class OptionalConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Sub-config of an ``optional`` attribute (DATA-23..25).

    ``default`` is a JSON text (``'"guest"'``, ``"0"``); ``""`` means none.
    ``deadline`` is in ms; ``0`` means "do not wait" (OPT rules).
    """

    collect: str = ""
    for_each: bool = False
    default: str = ""
    deadline: int = 0
    mapping: AttributeMapping | None = None


class ConstConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Sub-config of a ``const`` attribute: ``value`` is a JSON text (DATA-24)."""

    value: str = ""


class MetaConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Sub-config of a ``meta`` attribute: the metadata ``key`` (DATA-22)."""

    key: str = ""


class OutputConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Sub-config of an ``output`` attribute."""

    mapping: AttributeMapping | None = None


class AttributeSpec(FrozenWire, frozen=True, omit_defaults=True):
    """One attribute of a step (DATA-20..27)."""

    role: str = ""
    type: str = ""
    required: RequiredConfig | None = None
    optional: OptionalConfig | None = None
    const: ConstConfig | None = None
    meta: MetaConfig | None = None
    output: OutputConfig | None = None

    @property
    def mapping(self) -> AttributeMapping | None:
        """The mapping of the role's sub-config, if any."""
        if self.role == "required" and self.required is not None:
            return self.required.mapping
        if self.role == "optional" and self.optional is not None:
            return self.optional.mapping
        if self.role == "output" and self.output is not None:
            return self.output.mapping
        return None

    @property
    def for_each(self) -> bool:
        """True for a required/optional input marked ``for_each``."""
        if self.role == "required" and self.required is not None:
            return self.required.for_each
        if self.role == "optional" and self.optional is not None:
            return self.optional.for_each
        return False

    @property
    def is_input(self) -> bool:
        """True for required and optional attributes."""
        return self.role in INPUT_ROLES


class HTTPConfig(FrozenWire, frozen=True, omit_defaults=True):
    """HTTP settings of sync/async steps (DATA-11).

    ``endpoint`` and ``timeout`` are always serialized; ``timeout <= 0``
    means "use STEP_TIMEOUT"; an empty ``method`` means ``POST``.
    """

    method: str = ""
    endpoint: str = msgspec.field(default_factory=_empty_str)
    health_check: str = ""
    compensate: str = ""
    timeout: int = msgspec.field(default_factory=_zero)

    @property
    def effective_method(self) -> str:
        """The method after defaulting (``""`` -> ``POST``)."""
        return self.method or "POST"


class FlowConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Flow-step settings: the child flow's goals (DATA-13)."""

    goals: list[str] = msgspec.field(default_factory=list)


class WorkConfig(FrozenWire, frozen=True, omit_defaults=True):
    """Retry and parallelism settings (DATA-14); zero fields mean "global default"."""

    max_retries: int = 0
    init_backoff: int = 0
    max_backoff: int = 0
    backoff_type: str = ""
    parallelism: int = 0


class Step(FrozenWire, frozen=True, omit_defaults=True):
    """A step definition (SPEC 1.2), as registered and as stored."""

    id: str = msgspec.field(default_factory=_empty_str)
    name: str = msgspec.field(default_factory=_empty_str)
    type: str = msgspec.field(default_factory=_empty_str)
    attributes: dict[str, AttributeSpec | None] = msgspec.field(default_factory=_empty_attributes)
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    predicate: ScriptConfig | None = None
    memoizable: bool = False
    http: HTTPConfig | None = None
    script: ScriptConfig | None = None
    flow: FlowConfig | None = None
    work_config: WorkConfig | None = None

    def attrs(self) -> dict[str, AttributeSpec]:
        """The attributes without ``null`` entries (only invalid steps have those).

        Cached per step object: steps are immutable, and the flow core asks
        for these on every decision. Do not mutate the returned dict.
        """
        return _facts(self).attrs

    def names_with_role(self, *roles: str) -> list[str]:
        """Attribute names whose role is one of ``roles``, sorted."""
        return sorted(k for k, v in self.attrs().items() if v.role in roles)

    @property
    def input_names(self) -> list[str]:
        """Required and optional attribute names, sorted (cached; do not mutate)."""
        return _facts(self).inputs

    @property
    def required_names(self) -> list[str]:
        """Required attribute names, sorted (cached; do not mutate)."""
        return _facts(self).required

    @property
    def gated_names(self) -> list[str]:
        """Required inputs with a non-empty match script, sorted (cached; do not mutate)."""
        return _facts(self).gated

    @property
    def output_names(self) -> list[str]:
        """Output attribute names, sorted (cached; do not mutate)."""
        return _facts(self).outputs


class _Facts:
    __slots__ = ("attrs", "gated", "inputs", "outputs", "required", "step")

    def __init__(self, step: Step) -> None:
        self.step = step  # keeps id(step) valid while cached
        self.attrs = {k: v for k, v in step.attributes.items() if v is not None}
        self.inputs = sorted(k for k, v in self.attrs.items() if v.role in INPUT_ROLES)
        self.required = sorted(k for k, v in self.attrs.items() if v.role == "required")
        self.outputs = sorted(k for k, v in self.attrs.items() if v.role == "output")
        self.gated = sorted(
            k
            for k, v in self.attrs.items()
            if v.role == "required"
            and v.required is not None
            and v.required.match is not None
            and v.required.match.script
        )


_FACTS: dict[int, _Facts] = {}
_FACTS_LIMIT = 8192


def _facts(step: Step) -> _Facts:
    facts = _FACTS.get(id(step))
    if facts is None or facts.step is not step:
        if len(_FACTS) >= _FACTS_LIMIT:
            _FACTS.clear()
        facts = _FACTS[id(step)] = _Facts(step)
    return facts


def inner_name(name: str, spec: AttributeSpec) -> str:
    """The inner (mapped) name of an attribute: ``mapping.name`` or its own name."""
    mapping = spec.mapping
    return mapping.name if mapping is not None and mapping.name else name


def input_collect(spec: AttributeSpec) -> str:
    """The collect mode of an attribute; const/meta and unset count as ``first``."""
    if spec.role == "required" and spec.required is not None:
        return spec.required.collect or "first"
    if spec.role == "optional" and spec.optional is not None:
        return spec.optional.collect or "first"
    return "first"


def step_arg_names(step: Step) -> list[str]:
    """Sorted inner names of every runtime input (SCRIPT-2)."""
    return sorted(
        {inner_name(n, s) for n, s in step.attrs().items() if s.role in RUNTIME_INPUT_ROLES}
    )


def output_inner_names(step: Step) -> list[str]:
    """Sorted inner names of the step's outputs (the keys a raw result uses, MAP-1)."""
    return sorted({inner_name(n, s) for n, s in step.attrs().items() if s.role == "output"})


def with_work_defaults(step: Step, defaults: WorkConfig) -> Step:
    """The stored form of ``step`` (DATA-15): zero retry fields take ``defaults``."""
    wc = step.work_config or WorkConfig()
    merged = WorkConfig(
        max_retries=wc.max_retries or defaults.max_retries,
        init_backoff=wc.init_backoff or defaults.init_backoff,
        max_backoff=wc.max_backoff or defaults.max_backoff,
        backoff_type=wc.backoff_type or defaults.backoff_type,
        parallelism=wc.parallelism,
    )
    return msgspec.structs.replace(step, work_config=merged)


def comparable(step: Step) -> Any:
    """A value equal for steps CAT-2 treats as identical (method after defaulting)."""
    if step.http is not None and not step.http.method:
        step = msgspec.structs.replace(step, http=msgspec.structs.replace(step.http, method="POST"))
    return msgspec.to_builtins(step)
