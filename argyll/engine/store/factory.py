"""Which store an engine runs on, and the checks made before it starts serving.

- ``--store postgresql://...`` (``Config.store_url``): ``PostgresStore``,
  shared by every engine started on the same database and schema;
- otherwise ``--data-dir`` (``Config.data_dir``): ``SQLiteStore`` there, one
  engine per directory (``lock.DataDirLock``);
- ``data_dir`` ``None`` and no URL: ``MemoryStore`` (tests, throwaway engines).

``claim_store`` runs before the server starts, on its own short-lived event
loop, so that every start-up failure (directory held by another engine,
database unreachable, schema too new) is one line instead of a traceback
from the server's start-up hook.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from argyll.engine.store.base import EventStore
from argyll.engine.store.lock import DataDirLock
from argyll.engine.store.memory import MemoryStore
from argyll.engine.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from argyll.engine.config import Config

__all__ = ["claim_store", "describe_store", "open_store"]


def open_store(config: Config | Path | None) -> EventStore:
    """The store of a configuration (or of a bare data directory), not opened yet.

    ``await store.open()`` before use and ``await store.close()`` at the end.

    Raises:
        ConfigError: ``config.store_url`` is not a valid store URL.
    """
    if config is None or isinstance(config, Path):
        return MemoryStore() if config is None else SQLiteStore(config)
    if config.store_url:
        from argyll.engine.store.postgres import PostgresStore

        return PostgresStore(config.store_url, node_id=config.node_id)
    if config.data_dir is None:
        return MemoryStore()
    return SQLiteStore(config.data_dir)


def describe_store(config: Config) -> str:
    """The store in words, for the start-up log line (no password)."""
    if config.store_url:
        from argyll.engine.store.postgres_url import parse_postgres_url

        url = parse_postgres_url(config.store_url)
        return f"PostgreSQL {url.display}, schema {url.schema}"
    if config.data_dir is None:
        return "memory"
    return f"SQLite in {config.data_dir}"


def claim_store(config: Config) -> DataDirLock | None:
    """Check that the engine can run on its store, before serving.

    Takes the data-directory lock for SQLite (keep the returned lock for the
    life of the process), then opens and closes the store once.

    Raises:
        StoreError: Another engine holds the data directory, or the store
            cannot be opened (one line).
        ConfigError: The store URL is invalid.
    """
    lock: DataDirLock | None = None
    if not config.store_url and config.data_dir is not None:
        lock = DataDirLock(config.data_dir)
        holder = f"pid {os.getpid()} on {socket.gethostname()}, port {config.port}"
        lock.acquire(holder)
    store = open_store(config)

    async def check() -> None:
        await store.open()
        await store.close()

    try:
        asyncio.run(check())
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return lock
