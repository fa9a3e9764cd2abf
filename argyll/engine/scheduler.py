"""Keyed timers on an injectable clock.

Timers are keyed (e.g. ``("retry", flow_id, step_id, token)``): arming a key
again replaces its timer, and a flow's timers can be cancelled together
(TERM-5). Timers are not persisted; recovery re-arms them from flow state
(REC-1, REC-3).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "Scheduler", "SystemClock"]

log = logging.getLogger("argyll.scheduler")

TimerKey = tuple[str, ...]


class Clock(Protocol):
    """The engine clock."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class Scheduler:
    """Runs ``callback()`` coroutines at clock times, one timer per key."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._timers: dict[TimerKey, asyncio.TimerHandle] = {}
        self._by_flow: dict[str, set[TimerKey]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def arm(self, key: TimerKey, at: datetime, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` at ``at`` (at once if due), replacing any timer with ``key``.

        ``key[1]`` is the flow ID, used by ``cancel_flow``.
        """
        if self._closed:
            return
        self.cancel(key)
        delay = max(0.0, (at - self.clock.now()).total_seconds())
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._fire, key, callback)
        self._by_flow.setdefault(key[1], set()).add(key)

    def _fire(self, key: TimerKey, callback: Callable[[], Awaitable[None]]) -> None:
        self._timers.pop(key, None)
        keys = self._by_flow.get(key[1])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_flow[key[1]]
        task = asyncio.ensure_future(self._run(key, callback))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: TimerKey, callback: Callable[[], Awaitable[None]]) -> None:
        try:
            await callback()
        except Exception:
            log.exception("timer %s failed", key)

    def cancel(self, key: TimerKey) -> None:
        """Cancel the timer with ``key``, if any."""
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def cancel_flow(self, flow_id: str) -> None:
        """Cancel every timer of a flow (TERM-5)."""
        for key in self._by_flow.pop(flow_id, set()):
            self.cancel(key)

    def pending(self) -> int:
        """Number of armed timers."""
        return len(self._timers)

    async def close(self) -> None:
        """Cancel all timers and wait for running callbacks."""
        self._closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._by_flow.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
