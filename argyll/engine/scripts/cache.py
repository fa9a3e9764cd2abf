"""Bounded, thread-safe LRU caches for compiled scripts, and their keys.

Compilation happens outside the lock (two threads may compile the same source
once each; the second result wins). Failed compiles are never cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["LRUCache", "script_key"]

V = TypeVar("V")


def script_key(language: str, source: str, arg_names: Sequence[str] | None) -> str:
    """The cache key of a script: sha256 over source and sorted argument names.

    Mirrors the reference (``sha256(script ‖ (0x00 ‖ arg)*)``) with the
    language mixed in; ``arg_names`` of ``None`` (jpath) keys by source alone.
    """
    digest = hashlib.sha256()
    digest.update(language.encode())
    digest.update(b"\x01")
    digest.update(source.encode("utf-8", "surrogatepass"))
    if arg_names is not None:
        for name in sorted(arg_names):
            digest.update(b"\x00")
            digest.update(name.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class LRUCache(Generic[V]):
    """A least-recently-used map with a fixed capacity, safe across threads."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> V | None:
        """Return the cached value and mark it recently used, or ``None``."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """Return the cached value for ``key``, building and storing it on a miss.

        Exceptions from ``build`` propagate and nothing is stored.
        """
        value = self.get(key)
        if value is None:
            value = build()
            self.put(key, value)
        return value

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._items.clear()
