"""One engine per data directory: an exclusive lock on ``<data_dir>/argyll.lock``.

Two engines on one SQLite file would each trust their in-memory view (the
catalog, flow states) while the other appends behind their back. The engine
therefore takes an ``flock`` on a lock file in the data directory at
start-up and holds it for the life of the process; the kernel releases it
when the process ends, however it ends (kill -9 included), so a stale lock
file never blocks a restart. The holder writes who it is into the file (pid,
host, port) so that a refused engine can say who holds the directory.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from argyll.errors import StoreError

__all__ = ["LOCK_FILE", "DataDirLock"]

LOCK_FILE = "argyll.lock"


class DataDirLock:
    """The exclusive lock of one data directory (not re-entrant).

    Args:
        data_dir: The directory; created with its parents by ``acquire``.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        """Take the lock and record ``holder`` (one line, e.g. pid, host and port).

        Raises:
            StoreError: Another process (or another ``DataDirLock``) holds it:
                ``data directory <dir> is in use by another engine (<holder>)``.
        """
        if self._fd is not None:
            return
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot lock data directory {self.data_dir}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = " ".join(os.pread(fd, 512, 0).decode(errors="replace").split())
            os.close(fd)
            raise StoreError(
                f"data directory {self.data_dir} is in use by another engine"
                f" ({other or 'holder unknown'})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (" ".join(holder.split()) + "\n").encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (idempotent); the lock file stays."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock
