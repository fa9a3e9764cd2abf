"""The OpenAPI 3.1 document, generated from the route table and the msgspec wire types.

``build_document(routes)`` walks the application's routes; each
``(method, path)`` must have an entry in ``OPERATIONS`` (summary, request and
response types, error statuses), and every schema comes from
``msgspec.json.schema_components`` over those types, so the document cannot
drift from the code: a new route without an entry fails
``build_document`` (and its test), a changed wire type changes the schema.

The step interface (what the engine sends to an HTTP step, its headers, the
compensation call and the health check) is described under the document's
``webhooks``: the engine is the caller there. The webhook a step posts its
result to is an ordinary route (``POST /webhook/...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.routing import BaseRoute, Route, WebSocketRoute

from argyll.engine.health import HealthState
from argyll.engine.server.openapi_types import (
    CatalogState,
    ClusterState,
    CompensationRequest,
    EngineState,
    EventList,
    FlowStatus,
    Message,
    ProblemDetails,
    ServiceHealth,
)
from argyll.engine.server.version import VersionInfo
from argyll.model.flow import FlowState, FlowSummary
from argyll.model.plan import ExecutionPlan
from argyll.model.requests import (
    ErrorBody,
    FlowListResponse,
    FlowQuery,
    FlowStartRequest,
    FlowStartResponse,
    PlanRequest,
    StepListResponse,
    StepResponse,
)
from argyll.model.step import Step

__all__ = ["OPERATIONS", "Op", "build_document", "route_operations"]

_REF = "#/components/schemas/{name}"

_ERRORS = {
    400: "Invalid request: the error names what is wrong",
    401: "Missing or invalid bearer token (only when API_TOKENS is set)",
    403: "The token may only read (only when API_TOKENS is set), or the request's "
    "Origin is neither the engine's own nor listed in CORS_ORIGINS",
    404: "Not found",
    409: "Conflict with existing state",
    500: "Engine failure: `failed to <operation>: <cause>`",
    503: "Overloaded: nothing was recorded; retry after `Retry-After` seconds",
}


@dataclass(frozen=True)
class Param:
    """A query or header parameter (path parameters come from the route path)."""

    name: str
    where: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Op:
    """How one route is described.

    Attributes:
        summary: One line.
        tag: The group in the docs page.
        description: Longer text (Markdown).
        body: The request body type (JSON), if any.
        status: The success status.
        response: The success body type; ``None`` for an empty body.
        media: The success media type when not JSON.
        errors: Error statuses besides the auth ones.
        params: Query and header parameters.
        headers: Success response headers: name to description.
        auth: Needs a token when API_TOKENS is set.
        example: An example request body.
        links: Follow-up operations: link name to (method, path as
            registered, ``{param: runtime expression}`` source), e.g. the
            flow ID a start returns.
    """

    summary: str
    tag: str
    description: str = ""
    body: Any = None
    status: int = 200
    response: Any = None
    media: str = "application/json"
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    links: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    example: Any = None


_STEP_EXAMPLE = {
    "id": "answer",
    "name": "The answer",
    "type": "script",
    "attributes": {"answer": {"role": "output", "type": "number"}},
    "script": {"language": "lua", "script": "return {answer = 42}"},
}

_STEP_ID = "Step IDs are sanitized (letters, digits and `_.-+ ` are kept) before use."

#: The description of every route, by (method, path as registered).
OPERATIONS: dict[tuple[str, str], Op] = {
    ("GET", "/health"): Op(
        "Service health",
        "service",
        response=ServiceHealth,
        auth=False,
        headers={"X-Argyll-Raft-State": "`leader`, `candidate`, `follower` or `unknown`"},
    ),
    ("GET", "/version"): Op(
        "Engine version, store kind and node ID", "service", response=VersionInfo, auth=False
    ),
    ("GET", "/metrics"): Op(
        "Prometheus metrics",
        "service",
        media="text/plain",
        response={"type": "string"},
        description="Prometheus text exposition format; see docs/guides/monitoring.md.",
    ),
    ("GET", "/openapi.json"): Op(
        "This document", "service", response={"type": "object"}, auth=False
    ),
    ("GET", "/docs"): Op(
        "Interactive API documentation",
        "service",
        media="text/html",
        response={"type": "string"},
        auth=False,
    ),
    ("GET", "/"): Op(
        "Redirect to the web UI",
        "web UI",
        status=307,
        auth=False,
        headers={"Location": "`/ui/`"},
    ),
    ("GET", "/ui"): Op(
        "Redirect to the web UI",
        "web UI",
        status=307,
        auth=False,
        headers={"Location": "`/ui/`"},
    ),
    ("GET", "/ui/"): Op(
        "The web UI",
        "web UI",
        media="text/html",
        response={"type": "string"},
        auth=False,
        errors=(404,),
        description="404 `web UI not built: run scripts/build-ui` when the "
        "package was installed without the built UI.",
    ),
    ("GET", "/ui/{path:path}"): Op(
        "The web UI's files; other paths answer the UI page",
        "web UI",
        media="*/*",
        response={"type": "string"},
        auth=False,
        errors=(404,),
    ),
    ("GET", "/engine"): Op("Catalog and per-node step health", "catalog", response=EngineState),
    ("GET", "/engine/"): Op("Catalog and per-node step health", "catalog", response=EngineState),
    ("GET", "/engine/catalog"): Op("The step catalog", "catalog", response=CatalogState),
    ("GET", "/engine/catalog/events"): Op("Catalog events", "catalog", response=EventList),
    ("GET", "/engine/step"): Op("Registered steps, by ID", "steps", response=StepListResponse),
    ("POST", "/engine/step"): Op(
        "Register a step",
        "steps",
        example=_STEP_EXAMPLE,
        body=Step,
        status=201,
        response=StepResponse,
        errors=(400, 409),
        description=_STEP_ID,
        links={
            "GetStep": ("GET", "/engine/step/{step_id:path}", "$response.body#/step/id"),
            "UpdateStep": ("PUT", "/engine/step/{step_id:path}", "$response.body#/step/id"),
            "DeleteStep": ("DELETE", "/engine/step/{step_id:path}", "$response.body#/step/id"),
            "StepHealth": ("GET", "/engine/health/{step_id:path}", "$response.body#/step/id"),
        },
    ),
    ("GET", "/engine/step/{step_id:path}"): Op("One step", "steps", response=Step, errors=(404,)),
    ("PUT", "/engine/step/{step_id:path}"): Op(
        "Update a step",
        "steps",
        example=_STEP_EXAMPLE,
        body=Step,
        response=StepResponse,
        errors=(400, 404),
        description="The path ID and the body's `id` must match after sanitizing.",
    ),
    ("DELETE", "/engine/step/{step_id:path}"): Op(
        "Unregister a step", "steps", response=Message, errors=(404,)
    ),
    ("GET", "/engine/cluster"): Op("Step health per node", "health", response=ClusterState),
    ("GET", "/engine/cluster/events"): Op("Cluster events", "health", response=EventList),
    ("GET", "/engine/health"): Op(
        "Step health per node, every step listed", "health", response=ClusterState
    ),
    ("GET", "/engine/health/{step_id:path}"): Op(
        "One step's health merged over nodes", "health", response=HealthState, errors=(404,)
    ),
    ("POST", "/engine/plan"): Op(
        "Preview the execution plan for goals",
        "flows",
        example={"goals": ["answer"], "init": {}},
        body=PlanRequest,
        response=ExecutionPlan,
        errors=(400, 404, 500),
        description="Missing inputs are listed in `required`, never an error.",
    ),
    ("POST", "/engine/flow"): Op(
        "Start a flow",
        "flows",
        example={"id": "order-42", "goals": ["answer"], "labels": {"team": "docs"}},
        body=FlowStartRequest,
        status=201,
        response=FlowStartResponse,
        errors=(400, 404, 409, 500),
        links={
            "GetFlow": ("GET", "/engine/flow/{flow_id}", "$response.body#/flow_id"),
            "FlowStatus": ("GET", "/engine/flow/{flow_id}/status", "$response.body#/flow_id"),
            "FlowEvents": ("GET", "/engine/flow/{flow_id}/events", "$response.body#/flow_id"),
        },
        description="Answered once the flow's first events are durable. Starting the same "
        "flow again (same goals and init) is accepted; a different one with the same ID is "
        "a 409.",
    ),
    ("GET", "/engine/flow"): Op(
        "List flows: active first, then terminal, most recent first",
        "flows",
        response=list[FlowSummary],
        errors=(400,),
        params=(
            Param(
                "limit",
                "query",
                "At most this many flows (1..1000); all when absent",
                {"type": "integer", "minimum": 1, "maximum": 1000},
            ),
            Param(
                "cursor",
                "query",
                "The `X-Next-Cursor` of the previous page",
                {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"},
            ),
        ),
        headers={"X-Next-Cursor": "Cursor of the next page; absent on the last page"},
    ),
    ("POST", "/engine/flow/query"): Op(
        "Query flows by ID prefix, labels and status",
        "flows",
        example={"labels": {"team": "docs"}, "statuses": ["completed"], "limit": 10},
        body=FlowQuery,
        response=FlowListResponse,
        errors=(400,),
    ),
    ("GET", "/engine/flow/{flow_id}"): Op(
        "A flow's state", "flows", response=FlowState, errors=(400, 404)
    ),
    ("GET", "/engine/flow/{flow_id}/status"): Op(
        "A flow's indexed status", "flows", response=FlowStatus, errors=(400, 404)
    ),
    ("GET", "/engine/flow/{flow_id}/events"): Op(
        "A flow's events", "flows", response=EventList, errors=(400, 404)
    ),
    ("POST", "/webhook/{flow_id}/{step_id}/{token}"): Op(
        "Complete an async step's work item",
        "step interface",
        auth=False,
        body={"oneOf": [{"type": "object"}, {"type": "null"}]},
        response=None,
        errors=(400, 401, 500),
        description="Post the URL from the `Argyll-Webhook-URL` header exactly as given "
        "(it may carry a credential in its query string). A JSON object body is the "
        "work item's outputs; `Content-Type: application/problem+json` fails it with the "
        "problem's `detail` (else `title`). The first result wins; later ones answer 200 "
        "and change nothing. No bearer token is needed: the receipt token and the "
        "credential authorise it.",
    ),
    ("GET", "/engine/ws"): Op(
        "Subscribe to events (WebSocket)",
        "events",
        status=101,
        response=None,
        errors=(400,),
        description="Upgrade to a WebSocket, then send "
        '`{"type": "subscribe", "data": {"sub_id", "aggregate_ids", "event_types", '
        '"include_state"}}`. With API_TOKENS set, pass a read token as '
        "`Authorization: Bearer`, the `token` query parameter, or the subprotocols "
        "`bearer`, `<token>`. A plain GET answers 400.",
    ),
}

# The step interface: requests the engine makes (OpenAPI 3.1 ``webhooks``).
_STEP_HEADERS = [
    ("Argyll-Flow-ID", "The flow ID", True),
    ("Argyll-Step-ID", "The step ID", True),
    ("Argyll-Receipt-Token", "The work item's token: the idempotency key", True),
    ("User-Agent", "`Argyll-Engine/<version>`", True),
]


def _step_interface() -> dict[str, Any]:
    headers = [
        {"name": n, "in": "header", "required": r, "description": d, "schema": {"type": "string"}}
        for n, d, r in _STEP_HEADERS
    ]
    webhook_header = {
        "name": "Argyll-Webhook-URL",
        "in": "header",
        "required": False,
        "description": "Async steps only: where to POST the result later (use it verbatim)",
        "schema": {"type": "string", "format": "uri"},
    }
    outputs = {"type": "object", "description": "Output attributes by name"}
    problem = {"$ref": _REF.format(name="ProblemDetails")}
    invocation = {
        "summary": "The engine invokes an HTTP step",
        "description": (
            "Sent to the step's `http.endpoint` with `http.method` (default POST; `{name}` "
            "placeholders filled from the arguments, percent-encoded). The body (not for GET) "
            "is a JSON object of the invocation arguments: inputs, const and meta values, by "
            "their inner names. Timeout: `http.timeout` ms, else STEP_TIMEOUT. A sync step "
            "answers its outputs; an async step answers 2xx at once and posts its result to "
            "the webhook URL later. The same receipt token may arrive again after a restart "
            "or a retry: be idempotent on it."
        ),
        "operationId": "invokeStep",
        "tags": ["step interface"],
        "parameters": [*headers, webhook_header],
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": {
            "200": {
                "description": "Success: the outputs (empty body or `null`: no outputs)",
                "content": {"application/json": {"schema": outputs}},
            },
            "204": {"description": "Success without outputs"},
            "4XX": {
                "description": "Permanent failure (problem+json `detail`/`title` is the error)",
                "content": {"application/problem+json": {"schema": problem}},
            },
            "5XX": {"description": "Transient failure: retried with backoff"},
        },
    }
    compensation = {
        "summary": "The engine compensates a succeeded work item",
        "description": (
            "When a step with `http.compensate` fails after some of its items succeeded, "
            "each succeeded item is compensated: POST to `http.compensate` (placeholders "
            "from the item's inputs and outputs) with the item's inputs and raw outputs."
        ),
        "operationId": "compensateStep",
        "tags": ["step interface"],
        "parameters": headers,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(name="CompensationRequest")}}
            },
        },
        "responses": {
            "2XX": {"description": "Compensated"},
            "4XX": {"description": "Compensation failed permanently"},
            "5XX": {"description": "Transient: retried with backoff"},
        },
    }
    health = {
        "summary": "The engine checks a step's health",
        "description": "GET `http.health_check` periodically (HEALTH_CHECK_INTERVAL): 2xx is "
        "healthy, anything else or no answer unhealthy. Unhealthy steps get no new work.",
        "operationId": "checkStepHealth",
        "tags": ["step interface"],
        "responses": {"2XX": {"description": "Healthy"}, "default": {"description": "Unhealthy"}},
    }
    return {
        "stepInvocation": {"post": invocation},
        "stepCompensation": {"post": compensation},
        "stepHealthCheck": {"get": health},
    }


def route_operations(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """Every described ``(method, path)`` of the routes (HEAD and hidden routes left out)."""
    found: dict[tuple[str, str], None] = {}
    for route in routes:
        if isinstance(route, WebSocketRoute):
            found[("GET", route.path)] = None
        elif isinstance(route, Route) and route.include_in_schema:
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found[(method, route.path)] = None
    return list(found)


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", path)


def _schema(kind: Any, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    if isinstance(kind, dict):
        return kind
    return refs[kind]


def _operation(method: str, path: str, op: Op, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)", path)
    ]
    params += [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required,
            "description": p.description,
            "schema": p.schema,
        }
        for p in op.params
    ]
    ok: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        ok["content"] = {op.media: {"schema": _schema(op.response, refs)}}
    if op.links:
        ok["links"] = {
            name: {
                "operationId": _operation_id(m, p),
                "parameters": {re.findall(r"\{(\w+)", p)[0]: source},
            }
            for name, (m, p, source) in op.links.items()
        }
    if op.headers:
        ok["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in op.headers.items()
        }
    responses: dict[str, Any] = {str(op.status): ok}
    errors = set(op.errors) | ({401, 403} if op.auth else set())
    error_content = {"application/json": {"schema": {"$ref": _REF.format(name="ErrorBody")}}}
    if path != "/health" and not path.startswith("/webhook/"):
        errors.add(503)  # back-pressure (server/admission.py)
    for status in sorted(errors):
        responses[str(status)] = {"description": _ERRORS[status], "content": error_content}
    if "503" in responses:
        responses["503"]["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}
        }
    entry: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(method, path),
        "tags": [op.tag],
        "responses": responses,
    }
    if op.description:
        entry["description"] = op.description
    if params:
        entry["parameters"] = params
    if op.body is not None:
        media: dict[str, Any] = {"schema": _schema(op.body, refs)}
        if op.example is not None:
            media["example"] = op.example
        entry["requestBody"] = {"required": True, "content": {"application/json": media}}
    if op.auth:
        entry["security"] = [{}, {"bearer": []}]
    return entry


def _operation_id(method: str, path: str) -> str:
    words = re.findall(r"[A-Za-z]+", _openapi_path(path).replace("{", "by_"))
    slash = "Slash" if path.endswith("/") else ""
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words) + slash


def build_document(routes: Sequence[BaseRoute], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes``.

    Raises:
        KeyError: a route has no entry in ``OPERATIONS``.
    """
    ops = route_operations(routes)
    missing = [f"{m} {p}" for m, p in ops if (m, p) not in OPERATIONS]
    if missing:
        raise KeyError(f"routes without an OpenAPI description: {', '.join(missing)}")
    types: list[Any] = []
    for key in ops:
        op = OPERATIONS[key]
        types += [t for t in (op.body, op.response) if t is not None and not isinstance(t, dict)]
    types += [ErrorBody, CompensationRequest, ProblemDetails]
    unique = list(dict.fromkeys(types))
    schemas, components = msgspec.json.schema_components(unique, ref_template=_REF)
    refs = dict(zip(unique, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for method, path in ops:
        item = paths.setdefault(_openapi_path(path), {})
        item[method.lower()] = _operation(method, path, OPERATIONS[(method, path)], refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Argyll engine",
            "version": version,
            "description": "Goal-driven orchestration engine. Errors are "
            '`{"error": "...", "status": N}`. The step interface (what the engine sends '
            "to HTTP steps) is under `webhooks`.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "webhooks": _step_interface(),
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from API_TOKENS (only when it is set)",
                }
            },
        },
    }
