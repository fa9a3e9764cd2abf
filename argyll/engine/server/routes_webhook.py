"""The async-step webhook route (API-40); the rules are in ``execute.webhook``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from argyll.engine.engine import FORWARDED_HEADER
from argyll.engine.server.body import read_body

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["WEBHOOK_BODY_LIMIT", "webhook_routes"]

WEBHOOK_BODY_LIMIT = 1024 * 1024


def webhook_routes(engine: Engine) -> list[Route]:
    """The webhook route bound to ``engine``."""

    async def webhook(request: Request) -> Response:
        params = request.path_params
        body = await read_body(request, WEBHOOK_BODY_LIMIT)
        query = request.url.query
        await engine.record_webhook(
            params["flow_id"],
            params["step_id"],
            params["token"],
            request.headers.get("content-type", ""),
            body,
            path=request.url.path + (f"?{query}" if query else ""),
            forwarded=FORWARDED_HEADER in request.headers,
        )
        return Response(status_code=200)

    return [Route("/webhook/{flow_id}/{step_id}/{token}", webhook, methods=["POST"])]
