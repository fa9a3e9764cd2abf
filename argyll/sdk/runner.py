"""Running step servers under uvicorn: in a background thread, or until a signal.

Both ways run uvicorn in a thread on a socket bound beforehand, so the port
is known (and listening) before the step is registered. ``run_step`` then
waits in the main thread for SIGINT/SIGTERM and shuts down gracefully:
uvicorn stops accepting connections and lets in-flight requests finish.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import threading
import time
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from argyll.errors import StepServerError
from argyll.sdk.registration import register_or_update
from argyll.sdk.server import create_app

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from argyll.model.step import Step
    from argyll.sdk.client import Client
    from argyll.sdk.context import StepHandler
    from argyll.sdk.step_builder import StepDefinition

__all__ = ["DEFAULT_STEP_PORT", "ServerHandle", "bind_socket", "run_step", "serve_step"]

log = logging.getLogger("argyll.sdk")

#: The port ``start()`` listens on when ``STEP_PORT`` is unset.
DEFAULT_STEP_PORT = 8081

_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket on ``(host, port)``; port ``0`` picks a free one.

    Raises:
        OSError: The address is in use or not available.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ServerHandle:
    """A step server (or any ASGI app) running under uvicorn in a background thread.

    ``StepBuilder.serve`` returns one, already started. Use it as a context
    manager, or call ``stop()``.

    Attributes:
        url: The advertised base URL, ``http://{hostname}:{port}``.
        port: The port the server listens on.
        endpoint: The step's URL, ``{url}/{step_id}``.
        step: The step as registered (``None`` when not registered).
    """

    def __init__(
        self,
        app: ASGIApp,
        sock: socket.socket,
        *,
        hostname: str,
        step_id: str,
        log_level: str = "warning",
    ) -> None:
        self.port: int = sock.getsockname()[1]
        self.url = f"http://{hostname}:{self.port}"
        self.endpoint = f"{self.url}/{step_id}"
        self.step: Step | None = None
        self._sock = sock
        config = uvicorn.Config(
            app,
            log_level=log_level,
            log_config=None,
            access_log=False,
            lifespan="auto",
            ws="none",
            # CFG-3's graceful shutdown: in-flight requests get 10 s.
            timeout_graceful_shutdown=10,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"argyll-step-{step_id}"
        )
        self._thread.daemon = True

    @property
    def running(self) -> bool:
        """True while the server thread runs."""
        return self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> None:
        """Start the server thread and wait until it accepts connections.

        Raises:
            RuntimeError: The server did not start within ``timeout`` seconds.
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop(timeout=1.0)
                raise RuntimeError(f"step server on port {self.port} failed to start")
            time.sleep(0.005)

    def stop(self, timeout: float | None = 15.0) -> None:
        """Stop accepting connections, let in-flight requests finish, and join the thread.

        Args:
            timeout: Seconds to wait for the thread; ``None`` waits for ever.
                When it expires the server is told to exit at once.
        """
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(1.0)
        self._sock.close()

    def force_stop(self) -> None:
        """Ask the server to exit without waiting for in-flight requests."""
        self._server.should_exit = True
        self._server.force_exit = True

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ServerHandle({self.endpoint!r})"


def _listen(host: str, port: int, hint: str) -> socket.socket:
    """``bind_socket``, with a port in use reported as one ``StepServerError``."""
    try:
        return bind_socket(host, port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise StepServerError(
                f"step server cannot listen on {host}:{port}: {exc.strerror or exc}", port
            ) from None
        raise StepServerError(
            f"port {port} is already in use (another step server or program listens there); {hint}",
            port,
        ) from None


def serve_step(
    builder: StepDefinition,
    handler: StepHandler,
    client: Client,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    hostname: str | None = None,
    register: bool = True,
    log_level: str = "warning",
    port_hint: str = "pass another port, or 0 for a free one",
) -> ServerHandle:
    """Start a step server in a thread and (optionally) register the step.

    See ``StepBuilder.serve`` for the arguments and failure modes.
    """
    if hostname is None:
        hostname = os.environ.get("STEP_HOSTNAME") or (
            "localhost" if host in _WILDCARD_HOSTS else host
        )
    # Validate before binding: an invalid step starts nothing.
    builder.with_server(f"http://{hostname}:1").build()
    sock = _listen(host, port, port_hint)
    served = builder.with_server(f"http://{hostname}:{sock.getsockname()[1]}")
    step = served.build()
    app = create_app(step.id, handler, client, builder.compensate_handler)
    handle = ServerHandle(app, sock, hostname=hostname, step_id=step.id, log_level=log_level)
    handle.start()
    if register:
        try:
            handle.step = register_or_update(client, step, update=builder.for_update)
        except BaseException:
            handle.stop()
            raise
    return handle


def _step_port() -> int:
    raw = os.environ.get("STEP_PORT", "")
    if not raw:
        return DEFAULT_STEP_PORT
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise ValueError(f"invalid STEP_PORT: {raw!r} (expected a port number 1..65535)")
    return port


def _ensure_logging() -> None:
    """Show the SDK's INFO messages when the program configured no logging."""
    if not logging.getLogger().handlers and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def run_step(builder: StepDefinition, handler: StepHandler, client: Client) -> None:
    """Serve ``handler`` on ``STEP_PORT`` until SIGINT/SIGTERM; see ``StepBuilder.start``."""
    _ensure_logging()
    port = _step_port()
    handle = serve_step(
        builder,
        handler,
        client,
        host="0.0.0.0",
        port=port,
        log_level="info",
        port_hint="set STEP_PORT to a free port, e.g. STEP_PORT=8082",
    )
    log.info(
        "step %s serving at %s (health %s/health)", builder.step_id, handle.endpoint, handle.url
    )
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        if stop.is_set():
            handle.force_stop()
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        # Wake up regularly: signal handlers run between waits, and a server
        # thread that died on its own ends the wait too.
        while handle.running and not stop.wait(0.5):
            pass
        log.info("step %s shutting down", builder.step_id)
        handle.stop(timeout=None)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
