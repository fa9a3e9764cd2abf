"""Wire shapes that the engine builds as plain dicts, as msgspec types for the OpenAPI document.

The routes answer these shapes (built by the catalog, health monitor and
event log); the types here only describe them, so ``openapi.py`` can
generate schemas with ``msgspec.json.schema_components`` like it does for
the request and response types of ``argyll.model``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from argyll.engine.health import HealthState, NodeHealth
from argyll.model.events import Event
from argyll.model.plan import AttributeEdges
from argyll.model.step import Step

__all__ = [
    "CatalogState",
    "ClusterState",
    "CompensationRequest",
    "EngineState",
    "EventList",
    "FlowStatus",
    "HealthState",
    "Message",
    "ProblemDetails",
    "ServiceHealth",
]


class Message(msgspec.Struct):
    """A confirmation such as ``{"message": "Step unregistered"}``."""

    message: str


class EventList(msgspec.Struct):
    """``{"events", "count"}`` (API-4, API-6, API-26)."""

    events: list[Event]
    count: int


class CatalogState(msgspec.Struct):
    """``GET /engine/catalog`` (API-3)."""

    last_updated: datetime
    steps: dict[str, Step]
    attributes: dict[str, AttributeEdges]


class EngineState(msgspec.Struct):
    """``GET /engine`` (API-2): the catalog plus every node's step health."""

    last_updated: datetime
    steps: dict[str, Step]
    attributes: dict[str, AttributeEdges]
    health: dict[str, NodeHealth]


class ClusterState(msgspec.Struct):
    """``GET /engine/cluster`` and ``GET /engine/health`` (API-5, API-15)."""

    last_updated: datetime
    nodes: dict[str, NodeHealth]


class FlowStatus(msgspec.Struct):
    """``GET /engine/flow/{flow_id}/status`` (API-25): the indexed status."""

    id: str
    status: str


class ServiceHealth(msgspec.Struct):
    """``GET /health`` (API-1)."""

    service: str
    status: str
    details: dict[str, Any]


class CompensationRequest(msgspec.Struct):
    """The body the engine posts to a step's ``http.compensate`` URL (COMP-3)."""

    input: dict[str, Any]
    output: dict[str, Any] | None


class ProblemDetails(msgspec.Struct, omit_defaults=True):
    """An ``application/problem+json`` failure (RFC 9457) from a step or to a webhook."""

    type: str = ""
    title: str = ""
    status: int = 0
    detail: str = ""
