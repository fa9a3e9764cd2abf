"""The engine's listening socket, bound before anything else happens at start-up.

Binding first means a port that is taken fails start-up with one line and
nothing else done: no data directory created, no store opened, no
``serving on`` or ``engine started`` logged (issue 16).
"""

from __future__ import annotations

import socket

from argyll.errors import ConfigError

__all__ = ["listen_socket"]


def listen_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (uvicorn listens on it).

    Raises:
        ConfigError: ``cannot listen on <host>:<port>: <reason>``, e.g.
            ``address already in use``.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock
