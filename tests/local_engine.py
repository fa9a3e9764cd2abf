"""A fresh engine in this process, served over real loopback HTTP.

:class:`LocalEngine` builds an :class:`~argyll.engine.engine.Engine` (memory
store unless a data directory is given) and serves its real ASGI app
(``create_app``) with uvicorn on ``127.0.0.1:<free port>`` in a background
thread with its own event loop. It starts in milliseconds, so every test can
have its own engine: no shared catalog, no unique-name workarounds. Use it
wherever the engine must be reachable over HTTP (HTTP steps posting webhooks
back, SDK step servers, WebSocket clients, examples); use
``asgi_engine.asgi_engine`` when requests through ``httpx.ASGITransport`` are
enough, and ``support.EngineProcess`` only for what needs a real process
(kill -9, signals, the command line).

Script worker processes are shared by every local engine of the session (see
:func:`session_scripts`): starting workers costs far more than an engine, and
they hold no flow state.

With ``manual_time=True`` the engine's clock and its event loop's timers run
on a :class:`ManualTime` the test advances: a deadline or a retry back-off
fires when the test says so, never because the machine was slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import argyll.engine.scripts as scripts_module
from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.scripts import ScriptLimits, Scripts
from argyll.engine.server.app import create_app

__all__ = [
    "LocalEngine",
    "ManualTime",
    "close_session_scripts",
    "join_stopping",
    "session_scripts",
]


class _SharedScripts(Scripts):
    """A script layer whose workers outlive the engines that use it."""

    def close(self) -> None:  # an engine's stop() must not stop the shared workers
        pass

    def really_close(self) -> None:
        Scripts.close(self)


_shared: _SharedScripts | None = None
_shared_lock = threading.Lock()


def session_scripts() -> Scripts:
    """The session's script layer (default limits, workers started lazily)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = _SharedScripts(ScriptLimits.from_env())
        return _shared


def close_session_scripts() -> None:
    """Stop the shared workers (end of the session, after every engine stopped)."""
    global _shared
    join_stopping()
    with _shared_lock:
        if _shared is not None:
            _shared.really_close()
            _shared = None


@contextlib.contextmanager
def _scripts_factory(scripts: Scripts | None) -> Iterator[None]:
    """While an Engine is built, make ``Scripts(...)`` return ``scripts``."""
    if scripts is None:
        yield
        return
    original = scripts_module.Scripts

    def factory(limits: ScriptLimits | None = None) -> Scripts:
        return scripts

    scripts_module.Scripts = factory  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        scripts_module.Scripts = original  # type: ignore[misc]


_stopping: list[threading.Thread] = []
_stopping_lock = threading.Lock()


def join_stopping(timeout: float = 30.0) -> None:
    """Wait for the engines stopped with ``stop(wait=False)``."""
    with _stopping_lock:
        threads = list(_stopping)
        _stopping.clear()
    for thread in threads:
        thread.join(timeout=timeout)


class ManualTime:
    """Engine time the test moves forward: real time plus the test's jumps.

    ``now()`` is the engine clock (``Clock`` protocol) and the local engine's
    event loop reads :meth:`loop_time`, so both jump together: a timer armed
    for a clock time (a deadline, a retry back-off) set far enough ahead fires
    when :meth:`advance` moves time past it, never because the machine was
    slow. Real time keeps passing underneath, so I/O timeouts still work
    (HTTP clients with their own timeouts must allow for the jumps: the local
    engine sets a long keep-alive and no WebSocket pings).
    """

    def __init__(self) -> None:
        self._start = datetime.now(UTC)
        self._origin = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return self._start + timedelta(seconds=time.monotonic() - self._origin + offset)

    def loop_time(self, real: float) -> float:
        with self._lock:
            return real + self._offset

    def advance(self, seconds: float) -> None:
        """Move time forward and wake the engine's loop so due timers run."""
        with self._lock:
            self._offset += seconds
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(lambda: None)


class _ManualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` includes a :class:`ManualTime`'s advances.

    Real time still passes (I/O timeouts keep working); the test's advances
    are added on top.
    """

    def __init__(self, manual: ManualTime) -> None:
        super().__init__()
        self._manual = manual

    def time(self) -> float:
        return self._manual.loop_time(super().time())


class LocalEngine:
    """An engine in this process behind uvicorn on a free loopback port.

    Args:
        data_dir: SQLite data directory; ``None`` runs on the memory store.
        env: Engine variables as ``argyll serve`` reads them (``MEMO_CACHE_SIZE``,
            ``HEALTH_CHECK_INTERVAL``, ``RETRY_*``, ...).
        manual_time: Run the clock and timers on a :class:`ManualTime`
            (``self.time``) that the test advances.
        shared_scripts: Use the session's script workers (default); ``False``
            gives this engine its own (for tests that kill workers on purpose).
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        *,
        manual_time: bool = False,
        shared_scripts: bool = True,
    ) -> None:
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
        # they are TCP (accepted sockets inherit it); without it every response
        # waits ~40 ms for a delayed ACK.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = Config.from_env({**(env or {})}, port=self.port, data_dir=data_dir)
        config = dataclasses.replace(config, data_dir=data_dir, webhook_base_url=self.url)
        self.time: ManualTime | None = ManualTime() if manual_time else None
        with _scripts_factory(session_scripts() if shared_scripts else None):
            self.engine = Engine(config, clock=self.time)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 20.0) -> LocalEngine:
        """Serve the engine (its start-up runs in the app's lifespan)."""
        import uvicorn

        # The protocol settings of argyll/engine/serve.py (WS-8 limits included).
        # uvicorn's own timers run on the loop's clock too: under manual time a
        # jump must not close idle keep-alive connections or miss pings.
        manual = self.time is not None
        config = uvicorn.Config(
            create_app(self.engine),
            log_level="warning",
            access_log=False,
            lifespan="on",
            http="httptools" if importlib.util.find_spec("httptools") else "h11",
            timeout_graceful_shutdown=5,
            timeout_keep_alive=86_400 if manual else 5,
            ws_ping_interval=None if manual else 54,
            ws_ping_timeout=None if manual else 6,
            ws_max_size=64 * 1024,
            ws_per_message_deflate=False,
            ws="websockets-sansio" if importlib.util.find_spec("websockets") else "auto",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"engine-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise AssertionError(f"local engine did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"local engine did not start in {timeout}s")
            time.sleep(0.002)
        return self

    def _run(self) -> None:
        loop = _ManualTimeLoop(self.time) if self.time is not None else asyncio.new_event_loop()
        if self.time is not None:
            self.time.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            self.sock.close()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    def stop(self, wait: bool = True) -> None:
        """Stop serving and stop the engine (idempotent).

        Args:
            wait: Return once the engine has stopped. ``False`` lets it shut
                down in the background (a test's teardown need not wait for
                uvicorn's shutdown ticks); :func:`join_stopping` waits for all.
        """
        if self._server is not None:
            self._server.should_exit = True
        thread, self._thread = self._thread, None
        if thread is not None and not wait:
            with _stopping_lock:
                _stopping.append(thread)
            return
        if thread is not None:
            thread.join(timeout=30)
        self.sock.close()

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
