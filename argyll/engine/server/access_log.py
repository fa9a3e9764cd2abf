"""One access-log line per request, and the webhook results, as ASGI middleware.

Each HTTP request is logged on ``argyll.access`` once it is answered:
``GET /engine/flow 200 1.8ms`` (method, path without the query string, status,
milliseconds); probes and scrapes (``/health``, ``/metrics``) at ``debug``,
everything else at ``info``. A WebSocket is logged when its handshake is
answered (``WS /engine/ws 101``). Query strings are never logged: they may
carry a token or a webhook credential.

Webhooks (``POST /webhook/<flow>/<step>/<token>``) are also logged at
``debug`` on ``argyll.webhook`` as accepted or rejected with the error text
(never the posted body). Observers (the metrics) get every request too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware", "RequestObserver"]

log = logging.getLogger("argyll.access")
webhook_log = logging.getLogger("argyll.webhook")

#: ``(method, path, status, seconds)``, called once per answered request.
RequestObserver = Callable[[str, str, int, float], None]

_QUIET = ("/health", "/metrics")
_ERROR_BODY_LIMIT = 2048


class AccessLogMiddleware:
    """Logs every request and reports it to the observers."""

    def __init__(self, app: ASGIApp, observers: list[RequestObserver] | None = None) -> None:
        self.app = app
        self.observers = observers if observers is not None else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method = scope["method"] if kind == "http" else "WS"
        path = scope["path"]
        webhook = kind == "http" and path.startswith("/webhook/")
        start = time.perf_counter()
        status = 500
        logged = False
        error_body = bytearray()

        def finish() -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            seconds = time.perf_counter() - start
            level = logging.DEBUG if path in _QUIET else logging.INFO
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "%s %s %d %.1fms",
                    method,
                    path,
                    status,
                    seconds * 1000,
                    extra={"method": method, "path": path, "status": status, "ms": seconds * 1000},
                )
            if webhook:
                _log_webhook(path, status, bytes(error_body))
            for observer in self.observers:
                observer(method, path, status, seconds)

        async def observed(message: Message) -> None:
            nonlocal status
            kind_ = message["type"]
            if kind_ in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
            elif kind_ == "websocket.accept":
                status = 101
                finish()
            elif kind_ == "websocket.close" and not logged:
                status = 403
                finish()
            elif kind_ == "http.response.body":
                if webhook and status >= 400 and len(error_body) < _ERROR_BODY_LIMIT:
                    error_body.extend(message.get("body", b"")[:_ERROR_BODY_LIMIT])
                if not message.get("more_body", False):
                    await send(message)
                    finish()
                    return
            elif kind_ == "websocket.http.response.body" and not message.get("more_body"):
                await send(message)
                finish()
                return
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except BaseException:
            status = 500
            raise
        finally:
            finish()


def _log_webhook(path: str, status: int, body: bytes) -> None:
    if not webhook_log.isEnabledFor(logging.DEBUG):
        return
    parts = path.split("/", 4)  # "", "webhook", flow, step, token
    flow_id = parts[2] if len(parts) > 2 else ""
    step_id = parts[3] if len(parts) > 3 else ""
    if 200 <= status < 300:
        webhook_log.debug(
            "webhook accepted: flow %s step %s",
            flow_id,
            step_id,
            extra={"flow_id": flow_id, "step_id": step_id, "status": status},
        )
        return
    error = ""
    try:
        decoded = msgspec.json.decode(body)
        if isinstance(decoded, dict):
            error = str(decoded.get("error", ""))
    except msgspec.DecodeError:
        pass
    webhook_log.debug(
        "webhook rejected: flow %s step %s: %d %s",
        flow_id,
        step_id,
        status,
        error,
        extra={"flow_id": flow_id, "step_id": step_id, "status": status},
    )
