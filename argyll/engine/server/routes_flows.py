"""Routes for plans and flows (API-20..26)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import Route

from argyll.engine.flows import list_page
from argyll.engine.server.body import decode_body, read_body
from argyll.engine.server.responses import JSONResponse
from argyll.model.requests import FlowQuery, FlowStartRequest, FlowStartResponse, PlanRequest

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["flow_routes"]


def flow_routes(engine: Engine) -> list[Route]:
    """The plan and flow route family bound to ``engine``."""
    limits = engine.config.limits

    async def preview_plan(request: Request) -> JSONResponse:
        body = decode_body(await read_body(request, limits.flow_body), PlanRequest)
        return JSONResponse(engine.preview_plan(body.goals, body.init))

    async def start_flow(request: Request) -> JSONResponse:
        body = decode_body(await read_body(request, limits.flow_body), FlowStartRequest)
        flow_id, started = await engine.start_flow_request(body)
        message = "flow started" if started else "flow already exists"  # FLOW-3
        return JSONResponse(FlowStartResponse(message=message, flow_id=flow_id), status_code=201)

    async def list_flows(request: Request) -> JSONResponse:
        limit, after = list_page(request.query_params, limits)
        page = await engine.list_flows(limit, after)
        headers = {"X-Next-Cursor": page.next_cursor} if page.next_cursor else None
        return JSONResponse(page.flows, headers=headers)

    async def query_flows(request: Request) -> JSONResponse:
        body = decode_body(await read_body(request, limits.flow_body), FlowQuery)
        return JSONResponse(await engine.query_flows(body))

    async def get_flow(request: Request) -> JSONResponse:
        return JSONResponse(await engine.get_flow(request.path_params["flow_id"]))

    async def flow_status(request: Request) -> JSONResponse:
        return JSONResponse(await engine.flow_status(request.path_params["flow_id"]))

    async def flow_events(request: Request) -> JSONResponse:
        return JSONResponse(await engine.flow_events(request.path_params["flow_id"]))

    return [
        Route("/engine/plan", preview_plan, methods=["POST"]),
        Route("/engine/flow", start_flow, methods=["POST"]),
        Route("/engine/flow", list_flows, methods=["GET"]),
        Route("/engine/flow/query", query_flows, methods=["POST"]),
        Route("/engine/flow/{flow_id}/status", flow_status, methods=["GET"]),
        Route("/engine/flow/{flow_id}/events", flow_events, methods=["GET"]),
        Route("/engine/flow/{flow_id}", get_flow, methods=["GET"]),
    ]
