"""Log record formatting: text lines or, with ``LOG_FORMAT=json``, one JSON object per line."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import msgspec

__all__ = ["JSONFormatter", "RedactQuery"]

# Attributes every LogRecord has; anything else was passed as ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_encoder = msgspec.json.Encoder()


class JSONFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields, "exception"?}`` per record.

    Args:
        static: Fields added to every record (e.g. ``{"env": "prod"}``).
    """

    def __init__(self, static: dict[str, str] | None = None) -> None:
        super().__init__()
        self.static = static or {}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(self.static)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


_SECRET_QUERY = re.compile(r"([?&](?:token|access_token|sig)=)[^&\s\"']+")


class RedactQuery(logging.Filter):
    """Masks ``token=``, ``access_token=`` and ``sig=`` query values in any record.

    uvicorn logs WebSocket paths with their query string, where a token may
    travel; nothing else in the engine logs query strings.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "=" in message and _SECRET_QUERY.search(message):
            record.msg = _SECRET_QUERY.sub(r"\1***", message)
            record.args = None
        return True
