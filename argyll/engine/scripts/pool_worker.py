"""One script worker process and the pipe protocol to it (used by :mod:`.pool`).

A worker is started as ``python -c`` running :func:`.worker.main`. It answers
a ready frame once it has loaded lupa and capped its address space, so a cold
start never counts against the first script's deadline (:meth:`Worker.wait_ready`).
It can be paused and resumed (:meth:`Worker.pause`) while a long script waits
for a CPU, with its deadline standing still.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

from .worker import MAX_FRAME, READY, read_exact, write_frame

__all__ = ["Worker", "WorkerGone", "expire", "kill_all"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from argyll.engine.scripts.worker import main; main()"
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])
_PIPE_SAFE = 32 << 10  # frames this small fit in an idle worker's empty pipe


class WorkerGone(Exception):
    """The worker died or had to be killed."""


class Worker:
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
        self.paused_at: float | None = None
        self.paused_total = 0.0

    def wait_ready(self, timeout: float) -> bool:
        """Block until the worker has started (its ready frame), at most ``timeout`` s."""
        poller = select.poll()
        poller.register(self.fd_out, select.POLLIN | select.POLLHUP | select.POLLERR)
        if not poller.poll(timeout * 1000):
            return False
        header = read_exact(self.fd_out, 4)
        if header is None or int.from_bytes(header, "big") != len(READY):
            return False
        answer = read_exact(self.fd_out, len(READY))
        return answer == READY

    def cpu_seconds(self) -> float | None:
        """CPU time the process has used so far, or ``None`` where /proc is unavailable."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
            return (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, ValueError, IndexError):
            return None

    def pause(self) -> None:
        """Stop the process (SIGSTOP); its deadline stands still until :meth:`resume`."""
        if self.paused_at is None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGSTOP)
            except OSError:
                return
            self.paused_at = time.monotonic()

    def resume(self) -> None:
        """Continue a paused process (SIGCONT)."""
        if self.paused_at is not None:
            self.paused_total += time.monotonic() - self.paused_at
            self.paused_at = None
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except OSError:
                pass

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
            raise WorkerGone from None
        poller = select.poll()
        poller.register(self.fd_out, select.POLLIN | select.POLLHUP | select.POLLERR)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(remaining * 1000):
            raise WorkerGone
        header = read_exact(self.fd_out, 4)
        if header is None:
            raise WorkerGone
        size = int.from_bytes(header, "big")
        if size > MAX_FRAME:
            raise WorkerGone
        body = read_exact(self.fd_out, size)
        if body is None:
            raise WorkerGone
        return body

    async def exchange_async(self, payload: bytes, deadline: float) -> bytes:
        """Like :meth:`exchange`, but waits on the running event loop, not a thread.

        Time the worker spends paused (:meth:`pause`) does not count: the
        deadline moves by it.
        """
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
                answer.set_exception(WorkerGone())
                return
            buffer.extend(chunk)
            if len(buffer) >= 4:
                size = int.from_bytes(buffer[:4], "big")
                if size > MAX_FRAME:
                    answer.set_exception(WorkerGone())
                elif len(buffer) >= 4 + size:
                    answer.set_result(bytes(buffer[4 : 4 + size]))

        loop.add_reader(self.fd_out, readable)
        try:
            try:
                os.write(self.fd_in, frame)  # fits in the empty pipe: never blocks
            except OSError:
                raise WorkerGone from None
            # A timer on the future is cheaper than asyncio.wait_for's extra task.
            self.paused_total = 0.0
            timers: list[asyncio.TimerHandle] = []

            def check() -> None:
                if answer.done():
                    return
                now = time.monotonic()
                moved = deadline + self.paused_total
                if self.paused_at is not None:
                    moved += now - self.paused_at
                if now < moved:
                    timers.append(loop.call_later(moved - now, check))
                    return
                expire(answer)

            timers.append(loop.call_later(max(0.0, deadline - time.monotonic()), check))
            try:
                return await answer
            finally:
                for timer in timers:
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


def kill_all(workers: set[Worker]) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


def expire(future: asyncio.Future[bytes]) -> None:
    if not future.done():
        future.set_exception(WorkerGone())
