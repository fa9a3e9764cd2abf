"""Reading and decoding request bodies with size limits (CONV-6, CFG-3)."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request

from argyll.errors import BadRequestError
from argyll.model.strict import decode_strict

__all__ = ["decode_body", "read_body"]

T = TypeVar("T")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read incrementally; over ``limit`` bytes is a 400.

    Raises:
        BadRequestError: ``invalid JSON request: body exceeds <limit> bytes``.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequestError(f"invalid JSON request: body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequestError(f"invalid JSON request: body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_body(body: bytes, type_: type[T]) -> T:
    """Decode a body a user wrote into ``type_`` (CONV-6): malformed JSON, wrong
    field types and unknown fields (at any depth) are a 400.

    Raises:
        BadRequestError: ``invalid JSON request: <detail>`` or
            ``unknown field: <dotted path>``.
    """
    if not body.strip():
        raise BadRequestError("invalid JSON request: empty body")
    try:
        return decode_strict(body, type_)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if text.startswith("unknown field: "):
            raise BadRequestError(text) from None
        raise BadRequestError(f"invalid JSON request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequestError(f"invalid JSON request: {exc}") from None
