"""Waking the readers of ``read_committed`` when something new is committed.

``CommitSignal`` is the part every store shares: coroutines register, wait
with a timeout, and are woken (on whichever event loop they wait) when the
store reports a commit. A store fires it after each of its own commits; the
PostgreSQL store also fires it when another engine's commit is announced
(``LISTEN``/``NOTIFY``). Waking is only a hint: a woken reader reads the
last position again, and a reader that was not woken still returns at its
timeout, so a lost notification delays a reader but never misleads it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

__all__ = ["CommitSignal"]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class CommitSignal:
    """Futures of the coroutines waiting for a commit, with their loops."""

    def __init__(self) -> None:
        self._waiters: dict[asyncio.Future[None], asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()

    def fire(self) -> None:
        """Wake every waiter (callable from any thread or loop)."""
        with self._lock:
            waiters = list(self._waiters.items())
        for future, loop in waiters:
            try:
                loop.call_soon_threadsafe(_wake, future)
            except RuntimeError:
                pass  # that loop is closed: nobody is waiting there any more

    async def wait(self, last: Callable[[], Awaitable[int]], after: int, timeout: float) -> int:
        """``last()`` once it exceeds ``after``, or at the latest after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters[future] = loop
        try:
            # Registered before reading: a commit in between wakes us.
            position = await last()
            if position > after or timeout <= 0:
                return position
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                pass
            return await last()
        finally:
            with self._lock:
                self._waiters.pop(future, None)
