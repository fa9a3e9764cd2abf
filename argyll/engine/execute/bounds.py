"""Size bounds on what a work item may record: results, error texts, response bodies.

A step that returns 30 MB would otherwise be stored, folded into the flow
state and sent with every ``GET /engine/flow/{id}``. Every outcome passes
:meth:`ResultBounds.apply` before it is recorded: a result larger than
``STEP_RESULT_LIMIT`` (JSON bytes) or nested deeper than ``JSON_MAX_DEPTH``
fails the item permanently with a clear error, and an error text longer than
``STEP_ERROR_LIMIT`` is cut. HTTP bodies are read incrementally and
abandoned at the limit (:func:`read_limited`), so memory stays bounded
while an oversized response arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import msgspec

from argyll.engine.flow.outcome import Outcome
from argyll.engine.guard_config import GuardConfig
from argyll.engine.scripts.limits import format_bytes

__all__ = ["BodyTooLarge", "ResultBounds", "clip_error", "read_limited"]

_encode = msgspec.json.Encoder().encode
_CHUNK: Final = 64 * 1024


class BodyTooLarge(Exception):
    """A response body exceeded its limit; nothing past the limit was read."""


class _Stream(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


async def read_limited(stream: _Stream, limit: int) -> bytes:
    """Read a body in chunks; more than ``limit`` bytes raises :class:`BodyTooLarge`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)


def clip_error(text: str, limit: int) -> str:
    """``text`` cut to at most about ``limit`` UTF-8 bytes, saying how long it was."""
    if len(text) * 4 <= limit:
        return text
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    head = raw[:limit].decode("utf-8", "ignore")
    return f"{head}... [error text truncated: {len(raw)} bytes, limit {format_bytes(limit)}]"


@dataclass(frozen=True)
class ResultBounds:
    """The result and error limits of one engine."""

    result_bytes: int
    error_bytes: int
    max_depth: int

    @classmethod
    def of(cls, guards: GuardConfig) -> ResultBounds:
        return cls(guards.result_bytes, guards.error_bytes, guards.max_depth)

    def too_large(self, size: int) -> str:
        """The error text of a result of ``size`` bytes over the limit."""
        limit = format_bytes(self.result_bytes)
        return f"step result too large: {size} bytes, limit {limit}"

    def apply(self, outcome: Outcome) -> Outcome:
        """``outcome``, with its error text cut, or a permanent failure when it is oversized."""
        error = clip_error(outcome.error, self.error_bytes) if outcome.error else ""
        if outcome.outputs:
            try:
                size = len(_encode(outcome.outputs))
            except (TypeError, RecursionError, msgspec.EncodeError) as exc:
                return Outcome(
                    "permanent", error=f"step result not encodable: {type(exc).__name__}"
                )
            if size > self.result_bytes:
                return Outcome("permanent", error=self.too_large(size))
        if error != outcome.error:
            return Outcome(outcome.kind, outcome.outputs, error)
        return outcome
