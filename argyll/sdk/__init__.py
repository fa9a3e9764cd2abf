"""The Python SDK: register steps, serve step handlers, start and watch flows.

Light by design (ARCHITECTURE principle 7): importing it loads httpx and
msgspec only. The step server (starlette, uvicorn) is imported inside
``StepBuilder.start()`` and ``StepBuilder.serve()``.
"""

from argyll.sdk.client import Client
from argyll.sdk.context import AsyncContext, CompensateHandler, StepContext, StepHandler
from argyll.sdk.flow_builder import FlowBuilder
from argyll.sdk.flow_client import FlowClient
from argyll.sdk.step_builder import StepBuilder

__all__ = [
    "AsyncContext",
    "Client",
    "CompensateHandler",
    "FlowBuilder",
    "FlowClient",
    "StepBuilder",
    "StepContext",
    "StepHandler",
]
