"""Operations at the edge: docs, metrics, version, access log, auth, flow log, retention.

``install_ops(app, engine)`` adds all of it to the application built by
``create_app``, without the flow core knowing:

- routes ``/openapi.json``, ``/docs``, ``/metrics``, ``/version``;
- middleware, outermost first: the access log (and request metrics), then
  whatever ``create_app`` added (CORS), then authentication when
  ``API_TOKENS`` is set, innermost, so preflights and CORS headers work for
  401/403 answers too;
- bus subscribers for metrics and the flow log;
- the retention sweeper, started and stopped with the application's lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware

from argyll.engine.retention import RetentionSweeper
from argyll.engine.server.access_log import AccessLogMiddleware
from argyll.engine.server.auth import AuthMiddleware
from argyll.engine.server.docs_page import docs_routes
from argyll.engine.server.flow_log import FlowLog
from argyll.engine.server.metrics import Metrics, metrics_routes
from argyll.engine.server.version import version_routes
from argyll.errors import StoreError

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["Ops", "install_ops"]


class Ops:
    """What ``install_ops`` attached (tests reach the metrics and the sweeper here)."""

    def __init__(self, engine: Engine, websocket_clients: Callable[[], int]) -> None:
        self.metrics = Metrics(engine, websocket_clients)
        self.flow_log = FlowLog()
        retention = engine.config.flow_retention_s
        self.retention = RetentionSweeper(engine, retention) if retention > 0 else None


def install_ops(
    app: Starlette, engine: Engine, websocket_clients: Callable[[], int] = lambda: 0
) -> Ops:
    """Add the operations routes, middleware, subscribers and sweeper to ``app``.

    Args:
        app: The application ``create_app`` built.
        engine: The engine it serves.
        websocket_clients: Open WebSocket connections, read at scrape time.
    """
    ops = Ops(engine, websocket_clients)
    app.state.ops = ops
    ops.metrics.install()
    engine.bus.subscribe(ops.flow_log.on_events)
    app.router.routes.extend(
        [*docs_routes(), *metrics_routes(ops.metrics), *version_routes(engine)]
    )
    if engine.config.api_tokens:
        app.user_middleware.append(Middleware(AuthMiddleware, tokens=engine.config.api_tokens))
    app.add_middleware(AccessLogMiddleware, observers=[ops.metrics.on_request])

    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Starlette) -> AsyncIterator[None]:
        async with inner(a):
            with contextlib.suppress(StoreError):  # an engine the caller has not started
                await ops.metrics.seed()
            if ops.retention is not None:
                ops.retention.start()
            try:
                yield
            finally:
                if ops.retention is not None:
                    await ops.retention.stop()

    app.router.lifespan_context = lifespan
    return ops
