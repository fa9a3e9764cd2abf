"""The Python SDK: register steps, serve step handlers, start and watch flows.

Light by design (ARCHITECTURE principle 7): importing it loads httpx and
msgspec only. The step server (starlette, uvicorn) is imported inside
``start()`` and ``serve()``, the WebSocket client inside ``watch()``.
"""

from argyll.sdk.async_client import AsyncClient
from argyll.sdk.client import Client
from argyll.sdk.context import (
    AsyncContext,
    AsyncStepContext,
    CompensateHandler,
    StepContext,
    StepHandler,
)
from argyll.sdk.flow_builder import AsyncFlowBuilder, FlowBuilder
from argyll.sdk.flow_client import AsyncFlowClient, FlowClient
from argyll.sdk.problem import ProblemDetails
from argyll.sdk.results import (
    FlowEvent,
    FlowPage,
    FlowSnapshot,
    FlowState,
    FlowSummary,
    StepExecution,
    WorkItem,
)
from argyll.sdk.step_builder import AsyncStepBuilder, StepBuilder

__all__ = [
    "AsyncClient",
    "AsyncContext",
    "AsyncFlowBuilder",
    "AsyncFlowClient",
    "AsyncStepBuilder",
    "AsyncStepContext",
    "Client",
    "CompensateHandler",
    "FlowBuilder",
    "FlowClient",
    "FlowEvent",
    "FlowPage",
    "FlowSnapshot",
    "FlowState",
    "FlowSummary",
    "ProblemDetails",
    "StepBuilder",
    "StepContext",
    "StepExecution",
    "StepHandler",
    "WorkItem",
]
