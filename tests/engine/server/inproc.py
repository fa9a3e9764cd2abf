"""An engine served in-process: the real ASGI app behind ``httpx.ASGITransport``.

The engine runs on SQLite in a temporary directory, started and stopped as
under uvicorn, on an event loop in a background thread; tests call it
synchronously. Requests go through the ASGI interface without sockets, which
keeps property tests fast.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.server.app import create_app

T = TypeVar("T")

BASE_URL = "http://testserver"


class InprocClient:
    """A synchronous client for an engine on a loop in another thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.app = create_app(engine, manage_engine=False)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.run(engine.start())
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=30)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.engine.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@contextmanager
def inproc_engine(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[InprocClient]:
    """A started engine and a client for it; ``env`` holds configuration variables."""
    config = Config.from_env(env or {}, host="127.0.0.1", port=18080, data_dir=data_dir)
    client = InprocClient(Engine(config))
    try:
        yield client
    finally:
        client.close()
