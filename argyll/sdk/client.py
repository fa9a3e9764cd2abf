"""``Client``: the blocking engine client (HTTP + JSON, SPEC section 12).

Requests, answers and errors are described once in ``argyll.sdk.api`` and
shared with ``AsyncClient``; this module only sends them with
``httpx.Client``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from argyll.model.plan import ExecutionPlan
from argyll.model.requests import FlowQuery, FlowStartRequest
from argyll.model.step import Step
from argyll.sdk.api import (
    DEFAULT_BASE_URL,
    DEFAULT_PAGE_SIZE,
    Call,
    ClientCore,
    Pager,
    calls,
    normalize_base_url,
    statuses_of,
)
from argyll.sdk.flow_builder import FlowBuilder
from argyll.sdk.flow_client import FlowClient
from argyll.sdk.results import FlowEvent, FlowPage, FlowState, FlowSummary
from argyll.sdk.step_builder import StepBuilder, use_client_classes

if TYPE_CHECKING:
    from argyll.sdk.async_client import AsyncClient

__all__ = ["DEFAULT_BASE_URL", "Client", "normalize_base_url"]

_T = TypeVar("_T")


class Client:
    """A blocking client of one Argyll engine.

    The client is thread-safe and keeps a pool of connections: create one and
    share it. Close it with ``close()`` or use it as a context manager.

    Args:
        base_url: The engine's base URL; a trailing ``/`` or ``/engine`` is
            trimmed. ``None`` (the default) reads ``ENGINE_URL``, else
            ``http://localhost:8080``.
        timeout: Seconds to wait for each request (connect, read, write).
            Defaults to 30.
        token: A bearer token sent as ``Authorization: Bearer <token>`` (and
            on the WebSocket handshake). ``None`` reads ``ARGYLL_TOKEN``.
        transport: An httpx transport to send requests through instead of
            the network (e.g. ``httpx.MockTransport`` in tests).

    Every method raises ``ClientError`` (or the subclass it names) when the
    engine answers an error status, carrying the engine's ``error`` text as
    ``message`` and the status as ``status_code``; when the engine cannot be
    reached, ``status_code`` is ``None``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 30,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.core = ClientCore(base_url, timeout, token)
        self._http = httpx.Client(
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
    def http(self) -> httpx.Client:
        """The underlying httpx client (its connection pool); ``AsyncContext`` posts through it."""
        return self._http

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def to_async(self) -> AsyncClient:
        """An ``AsyncClient`` with this client's settings (URL, timeout, token)."""
        from argyll.sdk.async_client import AsyncClient

        return AsyncClient(self.core.base_url, self.core.timeout, token=self.core.token)

    def _run(self, call: Call[_T]) -> _T:
        request = self.core.request(self._http, call)
        try:
            response = self._http.send(request)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self.core.unreachable(call, exc) from exc
        return self.core.result(call, response)

    # -- builders -----------------------------------------------------------

    def new_step(self, name: str | None = None) -> StepBuilder:
        """A ``StepBuilder`` registering through this client.

        Args:
            name: The step's name; its ID derives from it (``"AsyncTask"`` ->
                ``async-task``) unless ``with_id`` is given.
        """
        builder = StepBuilder(client=self)
        return builder.with_name(name) if name else builder

    def new_flow(self, flow_id: str) -> FlowBuilder:
        """A ``FlowBuilder`` for a flow named ``flow_id``, started through this client."""
        return FlowBuilder(flow_id, client=self)

    def flow(self, flow_id: str) -> FlowClient:
        """A ``FlowClient`` reading the flow ``flow_id`` (which need not exist yet)."""
        return FlowClient(self, flow_id)

    # -- steps --------------------------------------------------------------

    def register_step(self, step: Step) -> Step:
        """Register ``step`` (``POST /engine/step``); re-registering an identical step succeeds.

        Returns:
            The step as the engine echoes it (ID sanitized).

        Raises:
            StepRegistrationError: The engine rejected the step (400
                ``invalid step...``, 409 ``step exists: <id>``) or is
                unreachable (``status_code=None``).
        """
        return self._run(calls.register_step(step))

    def update_step(self, step: Step) -> Step:
        """Replace the registered step ``step.id`` (``PUT /engine/step/{id}``).

        Raises:
            StepRegistrationError: 404 ``step not found: <id>``, 400 invalid
                step, or the engine is unreachable (``status_code=None``).
        """
        return self._run(calls.update_step(step))

    def get_step(self, step_id: str) -> Step:
        """The stored step ``step_id``, with work defaults merged.

        Raises:
            ClientError: 404 ``step not found: <id>``, or unreachable engine.
        """
        return self._run(calls.get_step(step_id))

    def list_steps(self) -> list[Step]:
        """Every registered step, sorted by ID.

        Raises:
            ClientError: The engine answered an error or is unreachable.
        """
        return self._run(calls.list_steps())

    def unregister_step(self, step_id: str) -> None:
        """Remove the step ``step_id`` from the catalog.

        Raises:
            ClientError: 404 ``step not found: <id>``, or unreachable engine.
        """
        self._run(calls.unregister_step(step_id))

    # -- plans and flows ----------------------------------------------------

    def plan(
        self, goals: Iterable[str], init: Mapping[str, list[Any]] | None = None
    ) -> ExecutionPlan:
        """Preview the execution plan for ``goals`` (``POST /engine/plan``).

        Missing inputs are listed in the plan's ``required``, never raised.

        Args:
            goals: Goal step IDs.
            init: Initial values, each attribute mapping to a list of values;
                ``None`` means none.

        Raises:
            ClientError: 400 without goals, 404 ``step not found: [...]``,
                500 on a plan failure, or unreachable engine.
        """
        return self._run(calls.plan(goals, init))

    def start(self, request: FlowStartRequest) -> str:
        """Start the flow ``request`` (what ``FlowBuilder.start`` sends); returns its ID.

        Raises:
            FlowError: The engine refused the flow or is unreachable.
        """
        return self._run(calls.start_flow(request))

    def start_flow(
        self,
        flow_id: str,
        goals: Iterable[str],
        init: Mapping[str, list[Any]] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> str:
        """Start a flow (``POST /engine/flow``).

        Returns:
            The flow ID as the engine sanitized it.

        Raises:
            FlowError: The engine refused the flow (e.g. 400 ``required
                inputs not provided: [...]``, 404 ``step not found: [...]``,
                409 for a conflicting duplicate) or is unreachable.
        """
        request = FlowStartRequest(
            id=flow_id, goals=list(goals), init=dict(init or {}), labels=dict(labels or {})
        )
        return self.start(request)

    def get_flow_state(self, flow_id: str) -> FlowState:
        """The full state of a flow (``GET /engine/flow/{id}``).

        Raises:
            FlowError: 404 ``flow not found: <id>``, or unreachable engine.
        """
        return self._run(calls.flow_state(flow_id))

    def flow_events(self, flow_id: str) -> list[FlowEvent]:
        """Every event of a flow (``GET /engine/flow/{id}/events``).

        Raises:
            FlowError: 404 ``flow not found: <id>``, or unreachable engine.
        """
        return self._run(calls.flow_events(flow_id))

    def query_flows(self, query: FlowQuery) -> FlowPage:
        """One page of a flow query (``POST /engine/flow/query``); ``flows()`` pages for you.

        Raises:
            FlowError: 400 for a bad query (e.g. ``Invalid statuses``), or
                unreachable engine.
        """
        return self._run(calls.query_flows(query))

    def flows(
        self,
        *,
        status: str | Iterable[str] | None = None,
        labels: Mapping[str, str] | None = None,
        prefix: str = "",
        limit: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        newest_first: bool = False,
    ) -> Iterator[FlowSummary]:
        """The flows matching a query, fetched page by page as you iterate.

        Child flows are never listed. Active flows come first, then
        finished ones, each oldest first (``newest_first=True`` reverses
        that within each group).

        Args:
            status: ``"active"``, ``"completed"``, ``"failed"`` (or
                ``FlowStatus``), or several; ``None`` means all.
            labels: Labels every listed flow carries (all must match).
            prefix: Only flows whose ID starts with it.
            limit: Stop after this many flows; ``None`` lists all.
            page_size: Flows per request (1..1000). Defaults to 100.
            newest_first: Most recent first within each group.

        Raises:
            ValueError: ``status`` is not a flow status.
            FlowError: The engine rejected the query or is unreachable.
        """
        query = FlowQuery(
            id_prefix=prefix,
            labels=dict(labels or {}),
            statuses=statuses_of(status),
            sort="recent_desc" if newest_first else "",
        )
        return self._pages(Pager(query, limit, page_size))

    def _pages(self, pages: Pager) -> Iterator[FlowSummary]:
        while (request := pages.next_query()) is not None:
            yield from pages.take(self.query_flows(request))

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool; the client must not be used afterwards."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


use_client_classes(client=Client)
