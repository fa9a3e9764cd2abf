"""Request and response bodies of the REST API (SPEC 12)."""

from __future__ import annotations

from typing import Any

import msgspec

from argyll.model.flow import FlowSummary
from argyll.model.step import Step

__all__ = [
    "ErrorBody",
    "FlowListResponse",
    "FlowQuery",
    "FlowStartRequest",
    "FlowStartResponse",
    "PlanRequest",
    "StepListResponse",
    "StepResponse",
]


class ErrorBody(msgspec.Struct):
    """Every error response (CONV-3)."""

    error: str
    status: int


class FlowStartRequest(msgspec.Struct, omit_defaults=True):
    """``POST /engine/flow`` (DATA-31)."""

    id: str = ""
    goals: list[str] = msgspec.field(default_factory=list)
    init: dict[str, list[Any]] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class FlowStartResponse(msgspec.Struct):
    """``201`` answer of ``POST /engine/flow`` (API-21)."""

    message: str
    flow_id: str


class PlanRequest(msgspec.Struct, omit_defaults=True):
    """``POST /engine/plan`` (API-20)."""

    goals: list[str] = msgspec.field(default_factory=list)
    init: dict[str, list[Any]] = msgspec.field(default_factory=dict)


class FlowQuery(msgspec.Struct, omit_defaults=True):
    """``POST /engine/flow/query`` (API-23)."""

    id_prefix: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    statuses: list[str] = msgspec.field(default_factory=list)
    limit: int = 0
    cursor: str = ""
    sort: str = ""


class FlowListResponse(msgspec.Struct, omit_defaults=True):
    """Answer of ``POST /engine/flow/query`` (API-23)."""

    flows: list[FlowSummary]
    count: int
    total: int = 0
    has_more: bool = False
    next_cursor: str = ""


class StepResponse(msgspec.Struct):
    """Answer of step register/update (API-12, API-13)."""

    message: str
    step: Step


class StepListResponse(msgspec.Struct):
    """Answer of ``GET /engine/step`` (API-10)."""

    steps: list[Step]
    count: int
