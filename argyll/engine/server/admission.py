"""Back-pressure: refuse work the engine cannot take, quickly, recording nothing.

Without a bound the engine queued every request: above its throughput, start
latency grew to seconds and nothing was refused. This middleware answers 503
with ``Retry-After`` *before* a route reads the body, so a refusal costs
microseconds and writes nothing:

- more than ``MAX_REQUESTS_IN_FLIGHT`` requests at once: any request
  (except ``GET /health`` and webhooks, which complete work rather than add it);
- a new flow (``POST /engine/flow``) while more than ``MAX_WORK_IN_FLIGHT``
  invocations and compensations are running, or while the event loop lags
  more than ``MAX_LOOP_LAG`` ms behind: every one of its last five 50 ms
  timers ran that late, i.e. the engine's single thread is saturated (one
  long stall, such as a first compile, does not count).

Clients retry after the ``Retry-After`` delay (the SDK does, with backoff).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Final

import msgspec
from starlette.types import ASGIApp, Receive, Scope, Send

from argyll.engine.guard_config import GuardConfig

__all__ = ["Admission", "LagMonitor"]

_TICK: Final = 0.05
_WINDOW: Final = 5


class LagMonitor:
    """How late the event loop has run each of its last timers, at least (seconds).

    Started lazily on the loop that first asks; a chain of ``call_later``
    callbacks, so nothing is left pending when the loop ends.
    """

    def __init__(self) -> None:
        self.lag = 0.0
        self._recent: deque[float] = deque(maxlen=_WINDOW)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._expected = 0.0

    def _tick(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        now = loop.time()
        self._recent.append(max(0.0, now - self._expected))
        self.lag = min(self._recent) if len(self._recent) == _WINDOW else 0.0
        self._expected = now + _TICK
        loop.call_later(_TICK, self._tick)

    def current(self) -> float:
        """The least lateness of the last five timers; starts measuring on first use."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._expected = loop.time() + _TICK
            loop.call_later(_TICK, self._tick)
        return self.lag


class Admission:
    """ASGI middleware refusing requests beyond the engine's capacity (503).

    Args:
        app: The application.
        guards: The limits (``MAX_REQUESTS_IN_FLIGHT``, ``MAX_WORK_IN_FLIGHT``,
            ``MAX_LOOP_LAG``, ``OVERLOAD_RETRY_AFTER``).
        work_in_flight: The engine's count of running invocations.
    """

    def __init__(
        self, app: ASGIApp, guards: GuardConfig, work_in_flight: Callable[[], int]
    ) -> None:
        self.app = app
        self.guards = guards
        self.work_in_flight = work_in_flight
        self.requests = 0
        self.monitor = LagMonitor()
        self._retry_after = str(guards.retry_after_s).encode()

    async def _refuse(self, send: Send, reason: str) -> None:
        body = msgspec.json.encode(
            {"error": f"engine overloaded: {reason}; retry later", "status": 503}
        )
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", self._retry_after),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _overloaded(self, scope: Scope) -> str:
        """Why this new flow is refused, or ``""``."""
        guards = self.guards
        work = self.work_in_flight()
        if work >= guards.max_work_in_flight:
            return f"{work} work items in flight (limit {guards.max_work_in_flight})"
        lag = self.monitor.current() * 1000
        if lag > guards.max_loop_lag_ms:
            return f"event loop {lag:.0f} ms behind (limit {guards.max_loop_lag_ms} ms)"
        return ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/health" or path.startswith("/webhook/"):
            await self.app(scope, receive, send)
            return
        if self.requests >= self.guards.max_requests_in_flight:
            limit = self.guards.max_requests_in_flight
            await self._refuse(send, f"{self.requests} requests in flight (limit {limit})")
            return
        if scope["method"] == "POST" and path == "/engine/flow":
            reason = self._overloaded(scope)
            if reason:
                await self._refuse(send, reason)
                return
        self.requests += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.requests -= 1
