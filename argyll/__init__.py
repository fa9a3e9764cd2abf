"""Argyll: a goal-driven orchestration engine and its Python SDK.

This module is the SDK surface of SDK.md, including every public name of the
original Argyll Python SDK (so code written for it runs unchanged). Importing
it loads only ``argyll.errors``, ``argyll.model`` and ``argyll.sdk`` (httpx,
msgspec): the engine, scripting and step-server dependencies load when they
run (ARCHITECTURE principle 7). Every exception is also in ``argyll.errors``.
"""

from argyll.errors import (
    ArgyllError,
    ClientError,
    FlowError,
    HTTPError,
    StepRegistrationError,
    StepValidationError,
    WaitTimeoutError,
    WebhookError,
)
from argyll.model.enums import (
    AttributeRole,
    AttributeType,
    BackoffType,
    FlowStatus,
    InputCollect,
    ScriptLanguage,
    StepStatus,
    StepType,
    WorkStatus,
)
from argyll.model.plan import ExecutionPlan
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
from argyll.sdk import (
    AsyncClient,
    AsyncContext,
    AsyncFlowBuilder,
    AsyncFlowClient,
    AsyncStepBuilder,
    AsyncStepContext,
    Client,
    CompensateHandler,
    FlowBuilder,
    FlowClient,
    FlowEvent,
    FlowPage,
    FlowSnapshot,
    FlowState,
    FlowSummary,
    ProblemDetails,
    StepBuilder,
    StepContext,
    StepExecution,
    StepHandler,
    WorkItem,
)
from argyll.sdk.aliases import Args, FlowID, InitArgs, Labels, Metadata, StepID

#: The original SDK's name for an attribute mapping (``AttributeMapping``).
MappingConfig = AttributeMapping
#: The original SDK's name for a predicate script (a ``ScriptConfig``).
PredicateConfig = ScriptConfig

__version__ = "0.1.0"

__all__ = [
    "Args",
    "ArgyllError",
    "AsyncClient",
    "AsyncContext",
    "AsyncFlowBuilder",
    "AsyncFlowClient",
    "AsyncStepBuilder",
    "AsyncStepContext",
    "AttributeMapping",
    "AttributeRole",
    "AttributeSpec",
    "AttributeType",
    "BackoffType",
    "Client",
    "ClientError",
    "CompensateHandler",
    "ConstConfig",
    "ExecutionPlan",
    "FlowBuilder",
    "FlowClient",
    "FlowConfig",
    "FlowError",
    "FlowEvent",
    "FlowID",
    "FlowPage",
    "FlowSnapshot",
    "FlowState",
    "FlowStatus",
    "FlowSummary",
    "HTTPConfig",
    "HTTPError",
    "InitArgs",
    "InputCollect",
    "Labels",
    "MappingConfig",
    "MetaConfig",
    "Metadata",
    "OptionalConfig",
    "OutputConfig",
    "PredicateConfig",
    "ProblemDetails",
    "RequiredConfig",
    "ScriptConfig",
    "ScriptLanguage",
    "Step",
    "StepBuilder",
    "StepContext",
    "StepExecution",
    "StepHandler",
    "StepID",
    "StepRegistrationError",
    "StepStatus",
    "StepType",
    "StepValidationError",
    "WaitTimeoutError",
    "WebhookError",
    "WorkConfig",
    "WorkItem",
    "WorkStatus",
]
