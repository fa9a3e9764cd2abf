"""Argyll: a goal-driven orchestration engine and its Python SDK.

This module is the SDK surface of SDK.md. Importing it loads only
``argyll.errors``, ``argyll.model`` and ``argyll.sdk`` (httpx, msgspec): the
engine, scripting and step-server dependencies load when they run
(ARCHITECTURE principle 7). Exceptions live in ``argyll.errors``.
"""

from argyll.model.enums import (
    AttributeRole,
    AttributeType,
    BackoffType,
    InputCollect,
    ScriptLanguage,
    StepType,
)
from argyll.sdk import (
    AsyncContext,
    Client,
    FlowBuilder,
    FlowClient,
    StepBuilder,
    StepContext,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncContext",
    "AttributeRole",
    "AttributeType",
    "BackoffType",
    "Client",
    "FlowBuilder",
    "FlowClient",
    "InputCollect",
    "ScriptLanguage",
    "StepBuilder",
    "StepContext",
    "StepType",
]
