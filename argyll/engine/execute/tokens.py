"""Work-item tokens: random UUIDv4 strings (DATA-4) from a buffered OS source.

Tokens appear in webhook URLs, so they must be unguessable: they come from
``os.urandom``, read 4 KiB at a time instead of once per token (one syscall
per 256 tokens).
"""

from __future__ import annotations

import os
import threading

__all__ = ["TokenSource"]

_BATCH = 256


class TokenSource:
    """A thread-safe factory of random UUIDv4 strings."""

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._offset >= len(self._buffer):
                self._buffer = os.urandom(16 * _BATCH)
                self._offset = 0
            raw = self._buffer[self._offset : self._offset + 16]
            self._offset += 16
        value = int.from_bytes(raw, "big")
        value &= ~(0xF000 << 64)
        value |= 0x4000 << 64  # version 4
        value &= ~(0xC000 << 48)
        value |= 0x8000 << 48  # RFC 4122 variant
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
