"""A warm pool of script worker processes with a hard-kill watchdog (SCRIPT-6).

Workers start lazily (none at import or construction), one per concurrent
request up to ``size``, and the pool keeps ``spare`` started workers idle so a
short script rarely waits for a process to start. A request that outlives
``2 x timeout + 0.25 s`` gets its worker SIGKILLed; a worker that dies
(rlimit, crash) is reaped; either way a replacement is started in the
background so the pool stays warm. A script that has computed for
``slow_after`` is reported (``on_slow``), and the admission policy in front of
the pool (:mod:`.fair`) may pause it; which calls may start at all is also
decided there. :meth:`WorkerPool.close` kills
every worker, idle or busy, and is idempotent; a ``weakref.finalize`` does the
same if the pool is garbage-collected or the interpreter exits without it.

:meth:`WorkerPool.call` blocks (run it from a thread pool, never on the event
loop); :meth:`WorkerPool.call_async` waits on the loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from argyll.errors import ScriptCompileError, ScriptLimitExceeded, ScriptRuntimeError

from .limits import Budget, LimitKind
from .pool_worker import Worker, WorkerGone, kill_all

__all__ = ["WorkerPool"]
#: Longest a new worker may take to start (import, load lupa) before it is given up.
_START_TIMEOUT = 30.0


def _watch_slow(
    loop: asyncio.AbstractEventLoop,
    timers: list[asyncio.TimerHandle],
    worker: Worker,
    slow_after: float,
    on_slow: Callable[[Worker], None] | None,
) -> None:
    """Call ``on_slow`` once the worker's script has *computed* for long enough.

    CPU time decides (where /proc tells it), not wall time: after
    ``slow_after`` of wall time, a script is long once it has computed for a
    fifth of that; a short script that merely waited for the processor is not.
    """
    cpu_start = worker.cpu_seconds()

    def check() -> None:
        if cpu_start is not None:
            used = (worker.cpu_seconds() or cpu_start) - cpu_start
            if used < slow_after / 5:  # /proc counts in 10 ms ticks
                timers.append(loop.call_later(0.01, check))
                return
        if on_slow is not None:
            on_slow(worker)

    timers.append(loop.call_later(slow_after, check))


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class WorkerPool:
    """Up to ``size`` worker processes shared by all callers."""

    def __init__(self, size: int, memory_cap: int, cache_size: int, spare: int = 0) -> None:
        import msgspec

        self._size = max(1, size)
        self._spare = max(0, min(spare, self._size))
        self._memory_cap = memory_cap
        self._cache_size = cache_size
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        # Coroutines waiting for an idle worker, each woken (thread-safely) by
        # a release; waiting on the loop avoids a thread hop per busy call.
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._all: set[Worker] = set()
        self._starting = 0
        self._closed = False
        self._encoder = msgspec.msgpack.Encoder(enc_hook=str)
        self._decoder = msgspec.msgpack.Decoder()
        self._finalizer = weakref.finalize(self, kill_all, self._all)

    @property
    def process_ids(self) -> list[int]:
        """PIDs of the live workers (for tests and diagnostics)."""
        with self._cond:
            return [worker.proc.pid for worker in self._all]

    def _spawn(self) -> Worker | None:
        """Start a worker and wait until it is ready (blocking; ``_starting`` counted it)."""
        try:
            worker: Worker | None = Worker(self._memory_cap, self._cache_size)
        except OSError:
            worker = None
        if worker is not None and not worker.wait_ready(_START_TIMEOUT):
            worker.kill()
            worker = None
        with self._cond:
            self._starting -= 1
            if worker is not None:
                if self._closed:
                    worker.kill()
                    worker = None
                else:
                    self._all.add(worker)
            self._cond.notify_all()
        return worker

    def _replace_in_background(self, counted: bool = False) -> None:
        if not counted:
            with self._cond:
                if self._closed:
                    return
                self._starting += 1

        def start() -> None:
            worker = self._spawn()
            if worker is not None:
                self._release(worker)

        threading.Thread(target=start, name="argyll-script-spawn", daemon=True).start()

    def _top_up(self) -> None:
        """Start workers in the background until ``spare`` are idle or starting."""
        with self._cond:
            if self._closed:
                return
            missing = self._spare - len(self._idle) - self._starting
            room = self._size - len(self._all) - self._starting
            count = max(0, min(missing, room))
            self._starting += count
        for _ in range(count):
            self._replace_in_background(counted=True)

    def warm(self, count: int) -> None:
        """Start up to ``count`` workers now, in the background (a burst then finds them)."""
        with self._cond:
            if self._closed:
                return
            count = max(0, min(count, self._size) - len(self._all) - self._starting)
            self._starting += count
        for _ in range(count):
            self._replace_in_background(counted=True)

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise ScriptRuntimeError("script runner is closed")
                if self._idle:
                    worker = self._idle.pop()
                    self._cond.release()
                    try:
                        self._top_up()
                    finally:
                        self._cond.acquire()
                    return worker
                if len(self._all) + self._starting < self._size:
                    self._starting += 1
                    break
                self._cond.wait()
        started = self._spawn()
        if started is None:
            raise ScriptRuntimeError("could not start a script worker")
        return started

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if self._closed:
                worker.kill()
                self._all.discard(worker)
                return
            self._idle.append(worker)
            self._cond.notify()
            self._wake_one()

    def _wake_one(self) -> None:
        """Wake the oldest waiting coroutine (call with ``_cond`` held)."""
        while self._waiters:
            loop, future = self._waiters.popleft()
            if not future.done() and not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)
                return

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._cond:
            self._all.discard(worker)
            self._cond.notify()
            waiting = bool(self._waiters)
        if waiting or self._spare == 0:
            self._replace_in_background()  # someone needs it now (or no spares kept)
        else:
            self._top_up()

    def _try_acquire(self) -> Worker | None:
        with self._cond:
            if self._closed:
                raise ScriptRuntimeError("script runner is closed")
            worker = self._idle.pop() if self._idle else None
        if worker is not None:
            self._top_up()
        return worker

    def call(
        self,
        language: str,
        key: str,
        payload: Any,
        arg_names: list[str],
        args: dict[str, Any],
        budget: Budget,
    ) -> dict[str, Any]:
        """Run one script in a worker and return its outputs (blocking).

        Raises:
            ScriptLimitExceeded: A limit, including the hard kill after
                ``2 x timeout + 0.25 s`` or a worker death.
            ScriptRuntimeError / ScriptCompileError: As reported by the worker.
        """
        worker = self._acquire()
        deadline = time.monotonic() + budget.timeout * 2 + 0.25
        try:
            send = payload if key not in worker.known else None
            request = self._request(language, key, send, arg_names, args, budget)
            response = self._decode(worker.exchange(request, deadline))
            if response[0] == "miss":
                request = self._request(language, key, payload, arg_names, args, budget)
                response = self._decode(worker.exchange(request, deadline))
        except WorkerGone:
            raise self._gone(worker, deadline, language, budget) from None
        except BaseException:
            self._discard(worker)
            raise
        return self._finish(worker, response, key, language, budget)

    async def call_async(
        self,
        language: str,
        key: str,
        payload: Any,
        arg_names: list[str],
        args: dict[str, Any],
        budget: Budget,
        executor: Executor,
        *,
        long: bool = False,
        slow_after: float = 0.0,
        on_slow: Callable[[Worker], None] | None = None,
    ) -> dict[str, Any]:
        """:meth:`call` without blocking the event loop.

        With an idle worker the exchange waits on the loop itself (no thread
        hop). When every worker is busy the call waits on the loop for one to
        be released; only starting a worker (which blocks) runs on
        ``executor``. A cancelled call kills its worker.

        Args:
            long: The script is known to run long (reserved for policy; unused).
            slow_after: Seconds after which a running script counts as long
                (``on_slow`` is called);
                0 never.
            on_slow: Called once with the worker, on the loop, when the
                script turns long (it may pause the worker).
        """
        worker = self._try_acquire()
        loop = asyncio.get_running_loop()
        while worker is None:
            with self._cond:
                if self._closed:
                    raise ScriptRuntimeError("script runner is closed")
                full = len(self._all) + self._starting >= self._size
                if full:
                    future: asyncio.Future[None] = loop.create_future()
                    self._waiters.append((loop, future))
                else:
                    self._starting += 1
            if not full:  # a worker must be started: that blocks, so off the loop
                worker = await loop.run_in_executor(executor, self._spawn)
                if worker is None:
                    raise ScriptRuntimeError("could not start a script worker")
                break
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    with self._cond:  # pass on a wake-up this caller can no longer use
                        self._wake_one()
                raise
            worker = self._try_acquire()
        deadline = time.monotonic() + budget.timeout * 2 + 0.25
        timers: list[asyncio.TimerHandle] = []
        if not long and slow_after > 0:
            _watch_slow(loop, timers, worker, slow_after, on_slow)
        try:
            send = payload if key not in worker.known else None
            request = self._request(language, key, send, arg_names, args, budget)
            response = self._decode(await worker.exchange_async(request, deadline))
            if response[0] == "miss":
                request = self._request(language, key, payload, arg_names, args, budget)
                response = self._decode(await worker.exchange_async(request, deadline))
        except WorkerGone:
            raise self._gone(worker, deadline, language, budget) from None
        except BaseException:
            self._discard(worker)
            raise
        finally:
            for timer in timers:
                timer.cancel()
        return self._finish(worker, response, key, language, budget)

    def _gone(
        self, worker: Worker, deadline: float, language: str, budget: Budget
    ) -> ScriptRuntimeError:
        died = worker.proc.poll() is not None and time.monotonic() < deadline
        self._discard(worker)
        if self._closed:
            return ScriptRuntimeError("script runner is closed", language)
        kind: LimitKind = "memory" if died else "time"
        return ScriptLimitExceeded(budget.message(kind), language, kind)

    def _finish(
        self, worker: Worker, response: list[Any], key: str, language: str, budget: Budget
    ) -> dict[str, Any]:
        status = response[0]
        if status == "err" and response[1] == "memory":
            self._discard(worker)  # it may be in a degraded state; start afresh
        else:
            worker.remember(key)
            self._release(worker)
        if status == "ok":
            return response[1]  # type: ignore[no-any-return]
        kind, message = response[1], response[2]
        if kind == "compile":
            raise ScriptCompileError(message, language)
        if kind == "runtime":
            raise ScriptRuntimeError(message, language)
        raise ScriptLimitExceeded(message or budget.message(kind), language, kind)

    def _request(
        self,
        language: str,
        key: str,
        payload: Any,
        arg_names: list[str],
        args: dict[str, Any],
        budget: Budget,
    ) -> bytes:
        request = [
            language,
            key,
            payload,
            arg_names,
            args,
            budget.timeout,
            budget.memory,
            budget.max_depth,
            budget.max_items,
            budget.max_bytes,
        ]
        return self._encoder.encode(request)

    def _decode(self, answer: bytes) -> list[Any]:
        return self._decoder.decode(answer)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Kill every worker (idle or busy); safe to call more than once."""
        with self._cond:
            self._closed = True
            self._idle.clear()
            self._cond.notify_all()
            while self._waiters:
                self._wake_one()
        self._finalizer()
