"""Request and response bodies of the REST API (SPEC 12)."""

from __future__ import annotations

from typing import Any

import msgspec

from argyll.model.flow import FlowSummary
from argyll.model.step import Step
from argyll.model.wire import Wire

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


class ErrorBody(Wire):
    """Every error response (CONV-3)."""

    error: str
    status: int


class FlowStartRequest(Wire, omit_defaults=True):
    """``POST /engine/flow`` (DATA-31)."""

    id: str = ""
    goals: list[str] = msgspec.field(default_factory=list)
    init: dict[str, list[Any]] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class FlowStartResponse(Wire):
    """``201`` answer of ``POST /engine/flow`` (API-21)."""

    message: str
    flow_id: str


class PlanRequest(Wire, omit_defaults=True):
    """``POST /engine/plan`` (API-20)."""

    goals: list[str] = msgspec.field(default_factory=list)
    init: dict[str, list[Any]] = msgspec.field(default_factory=dict)


class FlowQuery(Wire, omit_defaults=True):
    """``POST /engine/flow/query`` (API-23)."""

    id_prefix: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    statuses: list[str] = msgspec.field(default_factory=list)
    limit: int = 0
    cursor: str = ""
    sort: str = ""


class FlowListResponse(Wire, omit_defaults=True):
    """Answer of ``POST /engine/flow/query`` (API-23)."""

    flows: list[FlowSummary]
    count: int
    total: int = 0
    has_more: bool = False
    next_cursor: str = ""


class StepResponse(Wire):
    """Answer of step register/update (API-12, API-13)."""

    message: str
    step: Step


class StepListResponse(Wire):
    """Answer of ``GET /engine/step`` (API-10)."""

    steps: list[Step]
    count: int
