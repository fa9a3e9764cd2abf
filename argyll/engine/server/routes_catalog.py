"""Routes for steps, the catalog and engine state (API-2..4, API-10..14)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import Route

from argyll.engine.server.body import decode_body, read_body
from argyll.engine.server.responses import JSONResponse
from argyll.model.requests import StepListResponse, StepResponse
from argyll.model.step import Step

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["catalog_routes"]


def catalog_routes(engine: Engine) -> list[Route]:
    """The catalog route family bound to ``engine``."""
    depth = engine.config.guards.max_depth

    async def engine_state(_: Request) -> JSONResponse:
        return JSONResponse(engine.engine_state())

    async def catalog_state(_: Request) -> JSONResponse:
        return JSONResponse(engine.catalog_state())

    async def catalog_events(_: Request) -> JSONResponse:
        return JSONResponse(await engine.catalog_events())

    async def list_steps(_: Request) -> JSONResponse:
        steps = engine.list_steps()
        return JSONResponse(StepListResponse(steps=steps, count=len(steps)))

    async def get_step(request: Request) -> JSONResponse:
        return JSONResponse(engine.get_step(request.path_params["step_id"]))

    async def register_step(request: Request) -> JSONResponse:
        body = await read_body(request, engine.config.limits.step_body, depth)
        step = await engine.register_step(decode_body(body, Step))
        return JSONResponse(StepResponse(message="Step registered", step=step), status_code=201)

    async def update_step(request: Request) -> JSONResponse:
        body = await read_body(request, engine.config.limits.step_body, depth)
        step = await engine.update_step(request.path_params["step_id"], decode_body(body, Step))
        return JSONResponse(StepResponse(message="Step updated", step=step))

    async def delete_step(request: Request) -> JSONResponse:
        await engine.unregister_step(request.path_params["step_id"])
        return JSONResponse({"message": "Step unregistered"})

    return [
        Route("/engine", engine_state, methods=["GET"]),
        Route("/engine/", engine_state, methods=["GET"]),
        Route("/engine/catalog", catalog_state, methods=["GET"]),
        Route("/engine/catalog/events", catalog_events, methods=["GET"]),
        Route("/engine/step", list_steps, methods=["GET"]),
        Route("/engine/step", register_step, methods=["POST"]),
        Route("/engine/step/{step_id:path}", get_step, methods=["GET"]),
        Route("/engine/step/{step_id:path}", update_step, methods=["PUT"]),
        Route("/engine/step/{step_id:path}", delete_step, methods=["DELETE"]),
    ]
