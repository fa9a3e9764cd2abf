"""``AsyncClient``: the engine client for asyncio code (``await client.plan(...)``).

The same methods as ``Client``, awaitable, on the same request and error
descriptions (``argyll.sdk.api``); requests go through ``httpx.AsyncClient``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from argyll.model.plan import ExecutionPlan
from argyll.model.requests import FlowQuery, FlowStartRequest
from argyll.model.step import Step
from argyll.sdk.api import DEFAULT_PAGE_SIZE, Call, ClientCore, Pager, calls, statuses_of
from argyll.sdk.flow_builder import AsyncFlowBuilder
from argyll.sdk.flow_client import AsyncFlowClient
from argyll.sdk.results import FlowEvent, FlowPage, FlowState, FlowSummary
from argyll.sdk.step_builder import AsyncStepBuilder, use_client_classes

__all__ = ["AsyncClient"]

_T = TypeVar("_T")


class AsyncClient:
    """An asyncio client of one Argyll engine; see ``Client`` for every method.

    Use it as ``async with AsyncClient() as client:`` or call ``aclose()``.
    It pools connections on the event loop it is first used on: create one
    per event loop and share it there.

    Args:
        base_url: The engine's base URL; ``None`` reads ``ENGINE_URL``, else
            ``http://localhost:8080``.
        timeout: Seconds per request. Defaults to 30.
        token: A bearer token (``Authorization: Bearer <token>``); ``None``
            reads ``ARGYLL_TOKEN``.
        transport: An httpx async transport (e.g. ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 30,
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.core = ClientCore(base_url, timeout, token)
        self._http = httpx.AsyncClient(
            base_url=self.core.base_url,
            timeout=timeout,
            transport=transport,
            headers=self.core.headers,
        )

    @property
    def base_url(self) -> str:
        """The engine's base URL (normalized)."""
        return self.core.base_url

    @property
    def timeout(self) -> float:
        """Seconds per request."""
        return self.core.timeout

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (its connection pool); ``AsyncContext`` posts through it."""
        return self._http

    def __repr__(self) -> str:
        return f"AsyncClient({self.base_url!r})"

    async def _run(self, call: Call[_T]) -> _T:
        request = self.core.request(self._http, call)
        try:
            response = await self._http.send(request)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self.core.unreachable(call, exc) from exc
        return self.core.result(call, response)

    # -- builders -----------------------------------------------------------

    def new_step(self, name: str | None = None) -> AsyncStepBuilder:
        """An ``AsyncStepBuilder``: ``await builder.register()``; see ``Client.new_step``."""
        builder = AsyncStepBuilder(client=self)
        return builder.with_name(name) if name else builder

    def new_flow(self, flow_id: str) -> AsyncFlowBuilder:
        """An ``AsyncFlowBuilder``: ``flow = await client.new_flow(id)...start()``."""
        return AsyncFlowBuilder(flow_id, client=self)

    def flow(self, flow_id: str) -> AsyncFlowClient:
        """An ``AsyncFlowClient`` reading the flow ``flow_id``."""
        return AsyncFlowClient(self, flow_id)

    # -- steps --------------------------------------------------------------

    async def register_step(self, step: Step) -> Step:
        """Register ``step``; see ``Client.register_step``."""
        return await self._run(calls.register_step(step))

    async def update_step(self, step: Step) -> Step:
        """Replace the registered step ``step.id``; see ``Client.update_step``."""
        return await self._run(calls.update_step(step))

    async def get_step(self, step_id: str) -> Step:
        """The stored step ``step_id``; see ``Client.get_step``."""
        return await self._run(calls.get_step(step_id))

    async def list_steps(self) -> list[Step]:
        """Every registered step, sorted by ID."""
        return await self._run(calls.list_steps())

    async def unregister_step(self, step_id: str) -> None:
        """Remove the step ``step_id`` from the catalog."""
        await self._run(calls.unregister_step(step_id))

    # -- plans and flows ----------------------------------------------------

    async def plan(
        self, goals: Iterable[str], init: Mapping[str, list[Any]] | None = None
    ) -> ExecutionPlan:
        """Preview the execution plan for ``goals``; see ``Client.plan``."""
        return await self._run(calls.plan(goals, init))

    async def start(self, request: FlowStartRequest) -> str:
        """Start the flow ``request``; returns its (sanitized) ID."""
        return await self._run(calls.start_flow(request))

    async def start_flow(
        self,
        flow_id: str,
        goals: Iterable[str],
        init: Mapping[str, list[Any]] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> str:
        """Start a flow; see ``Client.start_flow``."""
        request = FlowStartRequest(
            id=flow_id, goals=list(goals), init=dict(init or {}), labels=dict(labels or {})
        )
        return await self.start(request)

    async def get_flow_state(self, flow_id: str) -> FlowState:
        """The full state of a flow; see ``Client.get_flow_state``."""
        return await self._run(calls.flow_state(flow_id))

    async def flow_events(self, flow_id: str) -> list[FlowEvent]:
        """Every event of a flow; see ``Client.flow_events``."""
        return await self._run(calls.flow_events(flow_id))

    async def query_flows(self, query: FlowQuery) -> FlowPage:
        """One page of a flow query; see ``Client.query_flows``."""
        return await self._run(calls.query_flows(query))

    def flows(
        self,
        *,
        status: str | Iterable[str] | None = None,
        labels: Mapping[str, str] | None = None,
        prefix: str = "",
        limit: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        newest_first: bool = False,
    ) -> AsyncIterator[FlowSummary]:
        """``async for summary in client.flows(...)``; see ``Client.flows``."""
        query = FlowQuery(
            id_prefix=prefix,
            labels=dict(labels or {}),
            statuses=statuses_of(status),
            sort="recent_desc" if newest_first else "",
        )
        return self._pages(Pager(query, limit, page_size))

    async def _pages(self, pages: Pager) -> AsyncIterator[FlowSummary]:
        while (request := pages.next_query()) is not None:
            for summary in pages.take(await self.query_flows(request)):
                yield summary

    # -- lifecycle ----------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool; the client must not be used afterwards."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


use_client_classes(async_client=AsyncClient)
