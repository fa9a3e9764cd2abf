"""An in-process engine for tests: the real ASGI app through ``httpx.ASGITransport``.

The engine runs on the in-memory store (or SQLite when ``data_dir`` is given)
inside the test's event loop; requests go through the real starlette app.
Use it with ``asyncio.run``::

    async def body() -> None:
        async with asgi_engine() as (engine, client):
            r = await client.post("/engine/step", json=step)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.server.app import create_app


@contextlib.asynccontextmanager
async def asgi_engine(
    data_dir: Path | None = None, **config: Any
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    """Start an engine, yield it with a client for its app, then stop it."""
    engine = Engine(dataclasses.replace(Config(data_dir=data_dir), **config))
    await engine.start()
    transport = httpx.ASGITransport(app=create_app(engine, manage_engine=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
            yield engine, client
    finally:
        await engine.stop()


async def wait_for(check: Any, timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Await ``check()`` (a coroutine function) until it returns a truthy value."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")
