"""Wire types shared by the SDK and the engine (SPEC sections 1, 11, 12).

Everything here is a msgspec Struct or an enum with exactly the JSON of
SPEC.md, plus pure step validation. Importing this package is cheap: it
depends only on msgspec and the standard library.
"""

from argyll.model.enums import (
    AttributeRole,
    AttributeType,
    BackoffType,
    FlowStatus,
    HealthStatus,
    InputCollect,
    ScriptLanguage,
    StepStatus,
    StepType,
    WorkStatus,
)
from argyll.model.flow import AttributeValue, ExecutionState, FlowState, FlowSummary, WorkState
from argyll.model.ids import sanitize_id
from argyll.model.plan import AttributeEdges, Excluded, ExecutionPlan
from argyll.model.step import (
    AttributeMapping,
    AttributeSpec,
    ConstConfig,
    FlowConfig,
    HTTPConfig,
    MetaConfig,
    OptionalConfig,
    OutputConfig,
    RequiredConfig,
    ScriptConfig,
    Step,
    WorkConfig,
)
from argyll.model.validate import step_problems

__all__ = [
    "AttributeEdges",
    "AttributeMapping",
    "AttributeRole",
    "AttributeSpec",
    "AttributeType",
    "AttributeValue",
    "BackoffType",
    "ConstConfig",
    "Excluded",
    "ExecutionPlan",
    "ExecutionState",
    "FlowConfig",
    "FlowState",
    "FlowStatus",
    "FlowSummary",
    "HTTPConfig",
    "HealthStatus",
    "InputCollect",
    "MetaConfig",
    "OptionalConfig",
    "OutputConfig",
    "RequiredConfig",
    "ScriptConfig",
    "ScriptLanguage",
    "Step",
    "StepStatus",
    "StepType",
    "WorkConfig",
    "WorkState",
    "WorkStatus",
    "sanitize_id",
    "step_problems",
]
