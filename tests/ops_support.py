"""In-process engines for the operations tests: the ASGI app through httpx.ASGITransport.

``running(config)`` starts a real engine (memory or SQLite store) and yields
an ``httpx.AsyncClient`` talking to its application in the same event loop,
with the lifespan entered, so background work (script steps, retries,
retention) runs as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from starlette.applications import Starlette

from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.server.app import create_app
from argyll.engine.server.ops import Ops


class Running:
    """An engine, its application and a client for it."""

    def __init__(self, engine: Engine, app: Starlette, client: httpx.AsyncClient) -> None:
        self.engine = engine
        self.app = app
        self.client = client

    @property
    def ops(self) -> Ops:
        ops: Ops = self.app.state.ops
        return ops

    async def wait_status(self, flow_id: str, timeout: float = 15.0) -> str:
        """Poll until the flow's indexed status is terminal; returns it."""

        async def terminal() -> str | None:
            r = await self.client.get(f"/engine/flow/{flow_id}/status")
            status = r.json().get("status") if r.status_code == 200 else None
            return str(status) if status in ("completed", "failed") else None

        return str(await until(terminal, timeout, f"flow {flow_id} terminal"))


async def until(
    check: Callable[[], Awaitable[Any]], timeout: float = 10.0, message: str = ""
) -> Any:
    """Poll an async ``check`` until truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met in {timeout}s: {message} (last: {last!r})")


@contextlib.asynccontextmanager
async def running(config: Config | None = None) -> AsyncIterator[Running]:
    """A started engine and a client of its ASGI application."""
    engine = Engine(config or Config(data_dir=None))
    app = create_app(engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as c:
            yield Running(engine, app, c)


def lua_step(step_id: str, out: str, script: str, **attrs: Any) -> dict[str, Any]:
    """A Lua script step producing ``out`` (extra attributes as keyword arguments)."""
    return {
        "id": step_id,
        "name": step_id,
        "type": "script",
        "attributes": {out: {"role": "output", "type": "any"}, **attrs},
        "script": {"language": "lua", "script": script},
    }
