"""WebSocket handshakes that fail answer JSON, like every other error (API-41).

uvicorn validates an upgrade request before the application sees it and
answers a malformed one (no ``Sec-WebSocket-Key``, a bad version) with a
``text/plain`` 400. This protocol subclass renders those refusals as
``{"error", "status"}`` instead. It is used when uvicorn's websockets
(sans-I/O) implementation is available; :func:`websocket_protocol` says which.
"""

from __future__ import annotations

import email.utils
from typing import Any

import msgspec

__all__ = ["websocket_protocol"]


def _json_response(response: Any) -> Any:
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    text = bytes(response.body).decode("utf-8", "replace").strip()
    text = text.removeprefix("Failed to open a WebSocket connection: ") or response.reason_phrase
    body = msgspec.json.encode(
        {"error": f"invalid WebSocket upgrade: {text}", "status": response.status_code}
    )
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ]
    )
    return Response(response.status_code, response.reason_phrase, headers, body)


def websocket_protocol() -> Any:
    """uvicorn's websockets protocol class with JSON handshake errors, or ``"auto"``."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
    except ImportError:
        return "auto"

    class JSONHandshakeProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Any) -> None:
            accept = self.conn.accept

            def json_accept(request: Any) -> Any:
                response = accept(request)
                if response.status_code == 101:
                    return response
                return _json_response(response)

            self.conn.accept = json_accept  # type: ignore[method-assign]
            super().handle_connect(event)

        def handle_handshake_exception(self) -> None:
            # An unparsable request: websockets queued a 414/431 for exceeded
            # limits, or nothing; answer JSON either way.
            from websockets.datastructures import Headers
            from websockets.http11 import Response

            queued = b"".join(self.conn.data_to_send())
            status = 431 if b" 431 " in queued[:20] else 414 if b" 414 " in queued[:20] else 400
            phrase = {
                400: "Bad Request",
                414: "URI Too Long",
                431: "Request Header Fields Too Large",
            }
            refusal = Response(status, phrase[status], Headers(), b"invalid request")
            self.handshake_complete = True
            self.close_sent = True
            self.transport.write(_json_response(refusal).serialize())
            self.transport.close()

    return JSONHandshakeProtocol
