"""A warm pool of script worker processes with a hard-kill watchdog (SCRIPT-6).

Workers start lazily (none at import or construction), one per concurrent
request up to ``size``. A request that outlives ``2 x timeout + 0.25 s`` gets
its worker SIGKILLed; a worker that dies (rlimit, crash) is reaped; either way
a replacement is started in the background so the pool stays warm.
:meth:`WorkerPool.close` kills every worker, idle or busy, and is idempotent;
a ``weakref.finalize`` does the same if the pool is garbage-collected or the
interpreter exits without it.

Calls are blocking and thread-safe: run them from a thread pool, never on the
event loop.
"""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict, deque
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from argyll.errors import ScriptCompileError, ScriptLimitExceeded, ScriptRuntimeError

from .limits import Budget, LimitKind
from .worker import MAX_FRAME, read_exact, write_frame

__all__ = ["WorkerPool"]

_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from argyll.engine.scripts.worker import main; main()"
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
_PIPE_SAFE = 32 << 10  # frames this small fit in an idle worker's empty pipe


class _WorkerGone(Exception):
    """The worker died or had to be killed."""


class _Worker:
    """One worker process and the scripts it has been sent."""

    def __init__(self, memory_cap: int, cache_size: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _PACKAGE_ROOT, str(memory_cap), str(cache_size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fd_in = self.proc.stdin.fileno()
        self.fd_out = self.proc.stdout.fileno()
        self.known: OrderedDict[str, None] = OrderedDict()
        self.cache_size = cache_size

    def remember(self, key: str) -> None:
        self.known[key] = None
        self.known.move_to_end(key)
        while len(self.known) > self.cache_size:
            self.known.popitem(last=False)

    def exchange(self, payload: bytes, deadline: float) -> bytes:
        """Send one frame and wait for the answer until ``deadline``."""
        try:
            write_frame(self.fd_in, payload)
        except OSError:
            raise _WorkerGone from None
        poller = select.poll()
        poller.register(self.fd_out, select.POLLIN | select.POLLHUP | select.POLLERR)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise _WorkerGone
        header = read_exact(self.fd_out, 4)
        if header is None:
            raise _WorkerGone
        size = int.from_bytes(header, "big")
        if size > MAX_FRAME:
            raise _WorkerGone
        body = read_exact(self.fd_out, size)
        if body is None:
            raise _WorkerGone
        return body

    async def exchange_async(self, payload: bytes, deadline: float) -> bytes:
        """Like :meth:`exchange`, but waits on the running event loop, not a thread."""
        frame = len(payload).to_bytes(4, "big") + payload
        if len(frame) > _PIPE_SAFE:  # a blocking write could stall the loop
            return await asyncio.to_thread(self.exchange, payload, deadline)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes] = loop.create_future()
        buffer = bytearray()

        def readable() -> None:
            try:
                chunk = os.read(self.fd_out, 1 << 16)
            except OSError:
                chunk = b""
            if answer.done():
                return
            if not chunk:
                answer.set_exception(_WorkerGone())
                return
            buffer.extend(chunk)
            if len(buffer) >= 4:
                size = int.from_bytes(buffer[:4], "big")
                if size > MAX_FRAME:
                    answer.set_exception(_WorkerGone())
                elif len(buffer) >= 4 + size:
                    answer.set_result(bytes(buffer[4 : 4 + size]))

        loop.add_reader(self.fd_out, readable)
        try:
            try:
                os.write(self.fd_in, frame)  # fits in the empty pipe: never blocks
            except OSError:
                raise _WorkerGone from None
            # A timer on the future is cheaper than asyncio.wait_for's extra task.
            timer = loop.call_later(max(0.0, deadline - time.monotonic()), _expire, answer)
            try:
                return await answer
            finally:
                timer.cancel()
        finally:
            loop.remove_reader(self.fd_out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _kill_all(workers: set[_Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


def _expire(future: asyncio.Future[bytes]) -> None:
    if not future.done():
        future.set_exception(_WorkerGone())


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class WorkerPool:
    """Up to ``size`` worker processes shared by all callers."""

    def __init__(self, size: int, memory_cap: int, cache_size: int) -> None:
        import msgspec

        self._size = max(1, size)
        self._memory_cap = memory_cap
        self._cache_size = cache_size
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        # Coroutines waiting for an idle worker, each woken (thread-safely) by
        # a release; waiting on the loop avoids a thread hop per busy call.
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._all: set[_Worker] = set()
        self._starting = 0
        self._closed = False
        self._encoder = msgspec.msgpack.Encoder(enc_hook=str)
        self._decoder = msgspec.msgpack.Decoder()
        self._finalizer = weakref.finalize(self, _kill_all, self._all)

    @property
    def process_ids(self) -> list[int]:
        """PIDs of the live workers (for tests and diagnostics)."""
        with self._cond:
            return [worker.proc.pid for worker in self._all]

    def _spawn(self) -> _Worker | None:
        try:
            worker = _Worker(self._memory_cap, self._cache_size)
        except OSError:
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

    def _replace_in_background(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._starting += 1

        def start() -> None:
            worker = self._spawn()
            if worker is not None:
                self._release(worker)

        threading.Thread(target=start, name="argyll-script-spawn", daemon=True).start()

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise ScriptRuntimeError("script runner is closed")
                if self._idle:
                    return self._idle.pop()
                if len(self._all) + self._starting < self._size:
                    self._starting += 1
                    break
                self._cond.wait()
        worker = self._spawn()
        if worker is None:
            raise ScriptRuntimeError("could not start a script worker")
        return worker

    def _release(self, worker: _Worker) -> None:
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

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._all.discard(worker)
            self._cond.notify()
        self._replace_in_background()

    def _try_acquire(self) -> _Worker | None:
        with self._cond:
            if self._closed:
                raise ScriptRuntimeError("script runner is closed")
            return self._idle.pop() if self._idle else None

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
        except _WorkerGone:
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
    ) -> dict[str, Any]:
        """:meth:`call` without blocking the event loop.

        With an idle worker the exchange waits on the loop itself (no thread
        hop). When every worker is busy the call waits on the loop for one to
        be released; only when a worker must be started (which blocks) does it
        run :meth:`call` on ``executor``. A cancelled call kills its worker.
        """
        worker = self._try_acquire()
        loop = asyncio.get_running_loop()
        while worker is None:
            with self._cond:
                full = len(self._all) + self._starting >= self._size
                if full:
                    future: asyncio.Future[None] = loop.create_future()
                    self._waiters.append((loop, future))
            if not full:  # a worker must be started: that blocks, so off the loop
                return await loop.run_in_executor(
                    executor, self.call, language, key, payload, arg_names, args, budget
                )
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    with self._cond:  # pass on a wake-up this caller can no longer use
                        self._wake_one()
                raise
            worker = self._try_acquire()
        deadline = time.monotonic() + budget.timeout * 2 + 0.25
        try:
            send = payload if key not in worker.known else None
            request = self._request(language, key, send, arg_names, args, budget)
            response = self._decode(await worker.exchange_async(request, deadline))
            if response[0] == "miss":
                request = self._request(language, key, payload, arg_names, args, budget)
                response = self._decode(await worker.exchange_async(request, deadline))
        except _WorkerGone:
            raise self._gone(worker, deadline, language, budget) from None
        except BaseException:
            self._discard(worker)
            raise
        return self._finish(worker, response, key, language, budget)

    def _gone(
        self, worker: _Worker, deadline: float, language: str, budget: Budget
    ) -> ScriptRuntimeError:
        died = worker.proc.poll() is not None and time.monotonic() < deadline
        self._discard(worker)
        if self._closed:
            return ScriptRuntimeError("script runner is closed", language)
        kind: LimitKind = "memory" if died else "time"
        return ScriptLimitExceeded(budget.message(kind), language, kind)

    def _finish(
        self, worker: _Worker, response: list[Any], key: str, language: str, budget: Budget
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
