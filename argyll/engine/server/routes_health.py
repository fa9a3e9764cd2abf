"""Routes for step health and the cluster aggregate (API-5, API-6, API-15, API-16)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import Route

from argyll.engine.server.responses import JSONResponse

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["health_routes"]


def health_routes(engine: Engine) -> list[Route]:
    """The health and cluster route family bound to ``engine``."""

    async def cluster_state(_: Request) -> JSONResponse:
        return JSONResponse(engine.cluster_state())

    async def cluster_events(_: Request) -> JSONResponse:
        return JSONResponse(await engine.cluster_events())

    async def all_health(_: Request) -> JSONResponse:
        # [DOC-DIFF] API-15: the cluster-state shape, every catalog step filled in.
        return JSONResponse(engine.cluster_state(filled=True))

    async def step_health(request: Request) -> JSONResponse:
        return JSONResponse(engine.resolved_health(request.path_params["step_id"]))

    return [
        Route("/engine/cluster", cluster_state, methods=["GET"]),
        Route("/engine/cluster/events", cluster_events, methods=["GET"]),
        Route("/engine/health", all_health, methods=["GET"]),
        Route("/engine/health/{step_id:path}", step_health, methods=["GET"]),
    ]
