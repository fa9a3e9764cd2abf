"""Optional bearer-token authentication (``API_TOKENS``), as ASGI middleware.

Off unless tokens are configured. With tokens, every ``/engine`` route, the
``/engine/ws`` WebSocket and ``/metrics`` need a token:

- HTTP: ``Authorization: Bearer <token>``;
- WebSocket: the same header, the ``token`` query parameter, or the
  subprotocol pair ``bearer``, ``<token>`` (browsers cannot set headers on a
  WebSocket; the engine then accepts the ``bearer`` subprotocol).

A ``read`` token may look: ``GET``/``HEAD``, the plan preview
(``POST /engine/plan``), flow queries (``POST /engine/flow/query``) and
WebSocket subscriptions. A ``full`` token may do everything. No or an
unknown token is a 401, a read token on a writing route a 403, both as
``{"error", "status"}``. Webhooks stay authorised by their receipt token
and credential; ``/health``, ``/version``, ``/openapi.json`` and ``/docs``
stay open. ``OPTIONS`` passes (browsers send preflights without credentials).
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["READ_POSTS", "AuthMiddleware", "required_role"]

#: ``POST`` routes a read token may call: they record nothing.
READ_POSTS = frozenset({"/engine/plan", "/engine/flow/query"})

_SUBPROTOCOL = "bearer"


def required_role(method: str, path: str) -> str | None:
    """The role a request needs: ``None`` (open), ``"read"`` or ``"full"``."""
    if method == "OPTIONS":
        return None
    if not (path == "/engine" or path.startswith("/engine/") or path == "/metrics"):
        return None
    if method in ("GET", "HEAD") or (method == "POST" and path in READ_POSTS):
        return "read"
    return "full"


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _ws_token(scope: Scope) -> tuple[str | None, bool]:
    """A WebSocket's token and whether it came as the ``bearer`` subprotocol."""
    token = _bearer(scope)
    if token is not None:
        return token, False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], False
    protocols = [p for p in scope.get("subprotocols", []) if p]
    if _SUBPROTOCOL in protocols:
        index = protocols.index(_SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1], True
    return None, False


class AuthMiddleware:
    """Checks bearer tokens on protected routes (see the module docstring).

    Args:
        app: The wrapped application.
        tokens: ``{token: role}`` with roles ``read`` or ``full``.
    """

    def __init__(self, app: ASGIApp, tokens: dict[str, str]) -> None:
        self.app = app
        self.tokens = [(t.encode(), role) for t, role in tokens.items()]

    def role_of(self, token: str | None) -> str | None:
        """The role of a presented token, compared in constant time; ``None`` if unknown."""
        if token is None:
            return None
        presented = token.encode()
        found: str | None = None
        for known, role in self.tokens:
            if hmac.compare_digest(presented, known):
                found = role
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method = "GET" if kind == "websocket" else scope["method"]
        need = required_role(method, scope["path"])
        if need is None:
            await self.app(scope, receive, send)
            return
        via_subprotocol = False
        if kind == "websocket":
            token, via_subprotocol = _ws_token(scope)
        else:
            token = _bearer(scope)
        role = self.role_of(token)
        if role is None:
            text = "missing bearer token" if token is None else "invalid bearer token"
            await _deny(scope, receive, send, 401, text)
            return
        if need == "full" and role != "full":
            await _deny(scope, receive, send, 403, "this token may only read")
            return
        if via_subprotocol:
            send = _accept_bearer(send)
        await self.app(scope, receive, send)


def _accept_bearer(send: Send) -> Send:
    """Accept the ``bearer`` subprotocol the client offered (browsers require an answer)."""

    async def sender(message: Message) -> None:
        if message["type"] == "websocket.accept" and not message.get("subprotocol"):
            message = {**message, "subprotocol": _SUBPROTOCOL}
        await send(message)

    return sender


async def _deny(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    body = msgspec.json.encode({"error": text, "status": status})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="argyll"'))
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": text})
