"""Paths with control characters answer 404 before any route sees them.

IDs never contain control characters (DATA-1), and the store uses one of
them (``\\x1f``) to join aggregate IDs, so such a path can only name nothing:
``GET /engine/flow/a%1Fb`` answers 404 instead of reaching the store.
"""

from __future__ import annotations

import re
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from argyll.engine.server.responses import JSONResponse

__all__ = ["PathGuard"]

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


class PathGuard:
    """ASGI middleware: 404 ``not found: path contains a control character``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _CONTROL.search(scope.get("path", "")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = JSONResponse(
                {"error": "not found: path contains a control character", "status": 404},
                status_code=404,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
