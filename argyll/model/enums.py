"""String enums whose values are the wire values of SPEC.md.

Wire structs keep these fields as plain ``str`` so that invalid values reach
validation (and its exact VAL-1 messages) instead of failing to decode; the
enums are ``str`` subclasses, so they can be assigned to those fields.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = [
    "AttributeRole",
    "AttributeType",
    "BackoffType",
    "FlowStatus",
    "FlowStatusName",
    "HealthStatus",
    "InputCollect",
    "ScriptLanguage",
    "StepStatus",
    "StepStatusName",
    "StepType",
    "WorkStatus",
    "WorkStatusName",
]


class StepType(StrEnum):
    """How a step runs (TYPE-1)."""

    SYNC = "sync"
    ASYNC = "async"
    SCRIPT = "script"
    FLOW = "flow"


class AttributeRole(StrEnum):
    """The role of an attribute in a step (DATA-22)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    CONST = "const"
    META = "meta"
    OUTPUT = "output"


class AttributeType(StrEnum):
    """The declared type of an attribute: a validation hint (DATA-20)."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"
    NULL = "null"
    ANY = "any"


class InputCollect(StrEnum):
    """How an input gathers values from its providers (INPUT-3)."""

    FIRST = "first"
    LAST = "last"
    ALL = "all"
    SOME = "some"
    NONE = "none"


class ScriptLanguage(StrEnum):
    """Script languages (DATA-12); all three run step scripts (JPATH-4)."""

    ALE = "ale"
    LUA = "lua"
    JPATH = "jpath"


class BackoffType(StrEnum):
    """Retry backoff shapes (RETRY-4)."""

    FIXED = "fixed"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


class FlowStatus(StrEnum):
    """Flow statuses (TERM-1..8)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"


class StepStatus(StrEnum):
    """Step execution statuses (EXEC-1)."""

    PENDING = "pending"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class WorkStatus(StrEnum):
    """Work-item statuses (WORK-1)."""

    PENDING = "pending"
    ACTIVE = "active"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_COMPLETED = "not_completed"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"
    SKIPPED = "skipped"


class HealthStatus(StrEnum):
    """Step health (HEALTH-1)."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


#: The status words as types: fields typed with these let mypy's strict
#: equality catch a misspelt status wherever the engine compares one.
FlowStatusName = Literal["active", "completed", "failed"]
StepStatusName = Literal["pending", "active", "completed", "failed", "skipped"]
WorkStatusName = Literal[
    "pending",
    "active",
    "succeeded",
    "failed",
    "not_completed",
    "compensating",
    "compensated",
    "compensation_failed",
    "skipped",
]
