"""Cross-origin protection: refuse foreign browser origins, name allowed ones (SPEC 12).

A browser sends ``Origin`` with every cross-site request, including the
"simple" ones it sends without a preflight (``text/plain`` and form bodies)
and WebSocket upgrades. A request whose ``Origin`` is neither the engine's own
origin (scheme and ``Host`` of the request) nor listed in ``CORS_ORIGINS`` is
refused with 403 ``origin not allowed`` before any route runs, so nothing is
recorded. Requests without ``Origin`` (curl, SDKs, step services) pass.

CORS response headers are sent only for allowed foreign origins and always
name that origin, never ``*`` (``CORS_ORIGINS=*`` allows any origin, and
start-up refuses it while API tokens are configured). Every ``OPTIONS`` request that passes the
check answers 200 with an empty body.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from argyll.engine.server.responses import JSONResponse

__all__ = ["OriginGuard"]

_METHODS: Final = (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, OPTIONS")
_HEADERS: Final = (b"access-control-allow-headers", b"Content-Type, Authorization")
_VARY: Final = (b"vary", b"Origin")
_SCHEMES: Final = {"ws": "http", "wss": "https"}
_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}


def _normalize(origin: str) -> str:
    """``scheme://host[:port]`` lower-cased, without a default port or trailing slash."""
    origin = origin.strip().rstrip("/").lower()
    scheme, sep, rest = origin.partition("://")
    if not sep:
        return origin
    port = _DEFAULT_PORTS.get(scheme)
    if port is not None and rest.endswith(":" + port):
        rest = rest[: -len(port) - 1]
    return f"{scheme}://{rest}"


_REFUSAL: Final = b'{"error":"origin not allowed","status":403}'


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """403 ``origin not allowed``, for an HTTP request or a WebSocket upgrade."""
    if scope["type"] == "http":
        refusal = JSONResponse({"error": "origin not allowed", "status": 403}, status_code=403)
        await refusal(scope, receive, send)
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        # Closing before accepting makes the server answer the upgrade with 403.
        await send({"type": "websocket.close", "code": 1008, "reason": "origin not allowed"})
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(_REFUSAL))]
    await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": _REFUSAL})


class OriginGuard:
    """ASGI middleware: the Origin check and CORS headers for HTTP and WebSocket.

    Args:
        app: The application to guard.
        allowed: Foreign origins allowed (``CORS_ORIGINS``); ``"*"`` allows any.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ()) -> None:
        self.app = app
        origins = [o for o in allowed if o]
        self.any = "*" in origins
        self.allowed = frozenset(_normalize(o) for o in origins if o != "*")

    def _own(self, scope: Scope, headers: Headers) -> str:
        scheme = str(scope.get("scheme", "http"))
        scheme = _SCHEMES.get(scheme, scheme)
        return _normalize(f"{scheme}://{headers.get('host', '')}")

    def _verdict(self, scope: Scope, headers: Headers, origin: str) -> str | None:
        """``None`` to refuse; ``""`` same origin (no CORS headers); else the value to echo."""
        normalized = _normalize(origin)
        if normalized == self._own(scope, headers):
            return ""
        if normalized in self.allowed:
            return origin.strip()
        if self.any:
            return origin.strip()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        verdict = "" if origin is None else self._verdict(scope, headers, origin)
        if verdict is None:
            await _refuse(scope, receive, send)
            return
        if kind == "websocket":
            await self.app(scope, receive, send)
            return
        cors: list[tuple[bytes, bytes]] = []
        if verdict:
            cors = [(b"access-control-allow-origin", verdict.encode()), _METHODS, _HEADERS, _VARY]
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 200, "headers": cors})
            await send({"type": "http.response.body", "body": b""})
            return
        if not cors:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)
