"""JSON responses encoded with msgspec, and the one error renderer (CONV-3)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

from argyll.errors import EngineError

__all__ = ["JSONResponse", "error_response"]

_encoder = msgspec.json.Encoder()


class JSONResponse(Response):
    """A JSON response whose body is encoded by msgspec (structs, Raw, datetimes)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encoder.encode(content)


def error_response(exc: EngineError) -> JSONResponse:
    """``{"error": message, "status": status}`` with the error's status."""
    return JSONResponse({"error": exc.message, "status": exc.status}, status_code=exc.status)
