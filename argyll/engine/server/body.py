"""Reading and decoding request bodies with size and nesting limits (CONV-6, CFG-3)."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import Request

from argyll.errors import BadRequestError
from argyll.model.nesting import DEFAULT_MAX_DEPTH, too_deep

__all__ = ["decode_body", "read_body"]

T = TypeVar("T")


async def read_body(request: Request, limit: int, max_depth: int = DEFAULT_MAX_DEPTH) -> bytes:
    """The request body, read incrementally; over ``limit`` bytes is a 400.

    Raises:
        BadRequestError: ``invalid JSON request: body exceeds <limit> bytes``,
            or ``body nested too deeply: maximum is <max_depth> levels``.
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
    body = b"".join(chunks)
    if too_deep(body, max_depth):
        raise BadRequestError(f"body nested too deeply: maximum is {max_depth} levels")
    return body


def decode_body(body: bytes, type_: type[T]) -> T:
    """Decode JSON into ``type_``; malformed JSON or wrong field types are a 400 (CONV-6).

    Raises:
        BadRequestError: ``invalid JSON request: <detail>``.
    """
    if not body.strip():
        raise BadRequestError("invalid JSON request: empty body")
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        raise BadRequestError(f"invalid JSON request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequestError(f"invalid JSON request: {exc}") from None
    except RecursionError:
        raise BadRequestError("body nested too deeply") from None
