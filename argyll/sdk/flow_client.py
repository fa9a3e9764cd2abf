"""Reading one flow: its state and events, waiting for its outcome, watching it live.

``FlowClient`` reads through a ``Client``; ``AsyncFlowClient`` is the same
with ``await`` (and ``async for`` to watch) through an ``AsyncClient``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from argyll.errors import FlowError, WaitTimeoutError
from argyll.sdk.results import TERMINAL_STATUSES, FlowEvent, FlowState
from argyll.sdk.watch import FlowWatch, WatchItem

if TYPE_CHECKING:
    from argyll.sdk.async_client import AsyncClient
    from argyll.sdk.client import Client

__all__ = ["TERMINAL_STATUSES", "AsyncFlowClient", "FlowClient", "is_deactivated"]


def is_deactivated(state: FlowState) -> bool:
    """True when no work of the flow is active or compensating any more (TERM-7)."""
    return state.deactivated


def _finished(state: FlowState, deactivated: bool) -> bool:
    return state.terminal and (not deactivated or state.deactivated)


def _wait_timeout(
    flow_id: str, timeout: float, state: FlowState | None, deactivated: bool
) -> WaitTimeoutError:
    if state is None:
        what, status = "finished", "unknown"
    else:
        status = state.status.value
        what = "deactivated" if deactivated and state.terminal else "finished"
    return WaitTimeoutError(
        f"flow {flow_id} not {what} after {timeout:g}s (status {status}); "
        "wait longer with wait(timeout=...)",
        flow_id,
        timeout,
    )


def _watch_timeout(flow_id: str, timeout: float) -> WaitTimeoutError:
    return WaitTimeoutError(
        f"flow {flow_id} did not finish within {timeout:g}s of watching; "
        "watch longer with watch(timeout=...)",
        flow_id,
        timeout,
    )


def _ws_failure(flow_id: str, url: str, exc: Exception) -> FlowError:
    return FlowError(f"watching flow {flow_id} over {url} failed: {type(exc).__name__}: {exc}")


class FlowClient:
    """Reads the flow ``flow_id`` through ``client``.

    Sync step handlers get one for the flow they run in as ``ctx.client``.

    Args:
        client: The engine client.
        flow_id: The flow's ID (exact; not sanitized).
    """

    def __init__(
        self,
        client: Client,
        flow_id: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._flow_id = flow_id
        self._sleep = sleep
        self._clock = clock

    @property
    def flow_id(self) -> str:
        """The flow's ID."""
        return self._flow_id

    @property
    def client(self) -> Client:
        """The engine client this flow is read through."""
        return self._client

    def __repr__(self) -> str:
        return f"FlowClient({self._flow_id!r})"

    def get_state(self) -> FlowState:
        """The flow's full state (``GET /engine/flow/{id}``, API-50).

        Raises:
            FlowError: 404 ``flow not found: <id>``, or the engine is
                unreachable (``status_code=None``).
        """
        return self._client.get_flow_state(self._flow_id)

    def events(self) -> list[FlowEvent]:
        """Every event of the flow so far, in order (``GET /engine/flow/{id}/events``).

        Raises:
            FlowError: 404 ``flow not found: <id>``, or unreachable engine.
        """
        return self._client.flow_events(self._flow_id)

    def wait(
        self,
        timeout: float = 30.0,
        poll_interval: float = 0.1,
        *,
        deactivated: bool = False,
    ) -> FlowState:
        """Poll the flow until it is ``completed`` or ``failed``; returns that state.

        A failed flow is returned, not raised: check ``state.status`` and
        ``state.error``.

        Args:
            timeout: Seconds to wait in total. Defaults to 30.
            poll_interval: Seconds between polls. Defaults to 0.1.
            deactivated: Also wait until the flow is deactivated, i.e. no
                work item is still active or compensating (TERM-7). Use it
                to wait for compensation to finish after a failure.

        Raises:
            WaitTimeoutError: The flow is not terminal (or not deactivated)
                within ``timeout``; a ``TimeoutError`` and a ``FlowError``.
            FlowError: The flow does not exist (404) or the engine is
                unreachable.
        """
        deadline = self._clock() + timeout
        while True:
            state = self.get_state()
            if _finished(state, deactivated):
                return state
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _wait_timeout(self._flow_id, timeout, state, deactivated)
            self._sleep(min(poll_interval, remaining))

    def watch(
        self, *, deactivated: bool = False, timeout: float | None = None
    ) -> Iterator[WatchItem]:
        """The flow live over the engine's WebSocket: its state, then each event.

        Yields a ``FlowSnapshot`` (the current state) first, then every
        ``FlowEvent`` after it, and stops after ``flow_completed`` or
        ``flow_failed`` (``flow_deactivated`` with ``deactivated=True``).
        A flow already finished yields its snapshot only. A flow that does
        not exist yet yields no snapshot: its events from ``flow_started`` on.

        Args:
            deactivated: Watch until compensation and other late work ended.
            timeout: Seconds before giving up; ``None`` watches until the end.

        Raises:
            WaitTimeoutError: ``timeout`` expired first.
            FlowError: The connection failed or was closed early.
        """
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        watch = FlowWatch(self._flow_id, deactivated=deactivated)
        core = self._client.core
        deadline = None if timeout is None else self._clock() + timeout
        try:
            with connect(
                core.ws_url,
                additional_headers=core.headers,
                open_timeout=core.timeout,
                max_size=None,
            ) as ws:
                ws.send(watch.subscribe())
                while not watch.done:
                    remaining = None if deadline is None else deadline - self._clock()
                    if remaining is not None and remaining <= 0:
                        raise _watch_timeout(self._flow_id, timeout or 0)
                    try:
                        raw = ws.recv(timeout=remaining)
                    except TimeoutError:
                        raise _watch_timeout(self._flow_id, timeout or 0) from None
                    yield from watch.feed(raw)
        except (OSError, WebSocketException) as exc:
            if isinstance(exc, WaitTimeoutError):
                raise
            raise _ws_failure(self._flow_id, core.ws_url, exc) from exc


class AsyncFlowClient:
    """Reads the flow ``flow_id`` through an ``AsyncClient``; every read is awaited.

    ``async def`` step handlers get one for their flow as ``ctx.client``.
    """

    def __init__(
        self,
        client: AsyncClient,
        flow_id: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._flow_id = flow_id
        self._sleep = sleep
        self._clock = clock

    @property
    def flow_id(self) -> str:
        """The flow's ID."""
        return self._flow_id

    @property
    def client(self) -> AsyncClient:
        """The engine client this flow is read through."""
        return self._client

    def __repr__(self) -> str:
        return f"AsyncFlowClient({self._flow_id!r})"

    async def get_state(self) -> FlowState:
        """The flow's full state; see ``FlowClient.get_state``."""
        return await self._client.get_flow_state(self._flow_id)

    async def events(self) -> list[FlowEvent]:
        """Every event of the flow so far; see ``FlowClient.events``."""
        return await self._client.flow_events(self._flow_id)

    async def wait(
        self,
        timeout: float = 30.0,
        poll_interval: float = 0.1,
        *,
        deactivated: bool = False,
    ) -> FlowState:
        """Poll (without blocking the event loop) until the flow is terminal.

        See ``FlowClient.wait``; raises ``WaitTimeoutError`` on timeout.
        """
        deadline = self._clock() + timeout
        while True:
            state = await self.get_state()
            if _finished(state, deactivated):
                return state
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _wait_timeout(self._flow_id, timeout, state, deactivated)
            await self._sleep(min(poll_interval, remaining))

    async def watch(
        self, *, deactivated: bool = False, timeout: float | None = None
    ) -> AsyncIterator[WatchItem]:
        """``async for item in flow.watch()``: see ``FlowClient.watch``."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        watch = FlowWatch(self._flow_id, deactivated=deactivated)
        core = self._client.core
        deadline = None if timeout is None else self._clock() + timeout
        try:
            async with connect(
                core.ws_url,
                additional_headers=core.headers,
                open_timeout=core.timeout,
                max_size=None,
            ) as ws:
                await ws.send(watch.subscribe())
                while not watch.done:
                    remaining = None if deadline is None else deadline - self._clock()
                    if remaining is not None and remaining <= 0:
                        raise _watch_timeout(self._flow_id, timeout or 0)
                    try:
                        async with asyncio.timeout(remaining):
                            raw = await ws.recv()
                    except TimeoutError:
                        raise _watch_timeout(self._flow_id, timeout or 0) from None
                    for item in watch.feed(raw):
                        yield item
        except (OSError, WebSocketException) as exc:
            if isinstance(exc, WaitTimeoutError):
                raise
            raise _ws_failure(self._flow_id, core.ws_url, exc) from exc
