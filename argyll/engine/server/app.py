"""The engine's starlette application: route families, CORS and one error handler.

Every ``EngineError`` is rendered as ``{"error", "status"}`` (CONV-3);
unknown paths and unsupported methods answer 404; any ``OPTIONS`` request
answers 200 with an empty body (SPEC 12). Anything unexpected answers 500
``failed to <operation>: <cause>`` and is logged with its traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from argyll.engine.server.ops import install_ops
from argyll.engine.server.responses import CORS_HEADERS, JSONResponse, error_response
from argyll.engine.server.routes_catalog import catalog_routes
from argyll.engine.server.routes_flows import flow_routes
from argyll.engine.server.routes_health import health_routes
from argyll.engine.server.routes_ui import ui_routes
from argyll.engine.server.routes_webhook import webhook_routes
from argyll.engine.server.websocket import WebSocketHub, websocket_routes
from argyll.errors import EngineError, NotFoundError

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["create_app"]

log = logging.getLogger("argyll.server")

_CORS_RAW = [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]


class CORSMiddleware:
    """Adds the CORS headers to every response and answers every OPTIONS with 200."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await Response(status_code=200, headers=CORS_HEADERS)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _CORS_RAW
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _operation(request: Request) -> str:
    return f"{request.method} {request.url.path}"


def create_app(engine: Engine, *, manage_engine: bool = True) -> Starlette:
    """The ASGI application serving ``engine``.

    Args:
        engine: The engine to serve.
        manage_engine: Start the engine at application start-up and stop it
            at shutdown (the lifespan); tests that manage it themselves pass
            ``False``.
    """

    hub = WebSocketHub(engine)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_engine:
            await engine.start()
        try:
            yield
        finally:
            hub.close()
            if manage_engine:
                await engine.stop()

    async def engine_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, EngineError)
        return error_response(exc)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (404, 405):
            return error_response(NotFoundError("not found"))
        return JSONResponse(
            {"error": exc.detail, "status": exc.status_code}, status_code=exc.status_code
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in %s", _operation(request), exc_info=exc)
        return JSONResponse(
            {"error": f"failed to handle {_operation(request)}: {exc}", "status": 500},
            status_code=500,
            headers=CORS_HEADERS,
        )

    async def health(_: Request) -> JSONResponse:
        body = {
            "service": "argyll-engine",
            "status": "healthy",
            "details": {
                "websocket": {"clients": hub.clients},
                "backend": engine.store_status(),
            },
        }
        return JSONResponse(body, headers={"X-Argyll-Raft-State": engine.role})

    routes: list[BaseRoute] = [Route("/health", health, methods=["GET"])]
    routes += catalog_routes(engine)
    routes += flow_routes(engine)
    routes += webhook_routes(engine)
    routes += health_routes(engine)
    routes += websocket_routes(hub)
    routes += ui_routes()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            EngineError: engine_error,
            HTTPException: http_error,
            Exception: unexpected,
        },
    )
    app.add_middleware(CORSMiddleware)
    # docs, metrics, version, access log, auth, retention
    install_ops(app, engine, websocket_clients=lambda: hub.clients)
    return app
