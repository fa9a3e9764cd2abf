"""Retrying requests the engine refused for overload (429 or 503 with ``Retry-After``).

An overloaded engine answers 503 (or 429) with ``Retry-After`` quickly and
records nothing, so repeating the request is always safe. The SDK waits the
longer of ``Retry-After`` and a backoff that doubles from 0.2 s (at most
5 s, with jitter), up to a total of 30 s, then returns the refusal. A 503
without ``Retry-After`` (a proxy, an engine still starting) is left to the
caller.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Final

import httpx

__all__ = ["send_with_overload_retry", "send_with_overload_retry_async"]

RETRY_STATUSES: Final = (429, 503)
_FIRST_DELAY: Final = 0.2
_MAX_DELAY: Final = 5.0
_TOTAL: Final = 30.0


def _delay(response: httpx.Response, attempt: int) -> float:
    backoff = min(_MAX_DELAY, _FIRST_DELAY * 2.0**attempt)
    header = response.headers.get("retry-after", "")
    if header.strip().isdigit():
        backoff = min(_MAX_DELAY, max(backoff, float(header)))
    jitter: float = random.uniform(0.5, 1.0)
    return backoff * jitter


def send_with_overload_retry(
    send: Callable[[], httpx.Response],
    *,
    total: float = _TOTAL,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Call ``send`` until it is not refused for overload or ``total`` seconds pass."""
    deadline = time.monotonic() + total
    attempt = 0
    while True:
        response = send()
        if response.status_code not in RETRY_STATUSES or "retry-after" not in response.headers:
            return response
        delay = _delay(response, attempt)
        if time.monotonic() + delay > deadline:
            return response
        sleep(delay)
        attempt += 1


async def send_with_overload_retry_async(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    total: float = _TOTAL,
) -> httpx.Response:
    """:func:`send_with_overload_retry` for ``httpx.AsyncClient``."""
    deadline = time.monotonic() + total
    attempt = 0
    while True:
        response = await send()
        if response.status_code not in RETRY_STATUSES or "retry-after" not in response.headers:
            return response
        delay = _delay(response, attempt)
        if time.monotonic() + delay > deadline:
            return response
        await asyncio.sleep(delay)
        attempt += 1
