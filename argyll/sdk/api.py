"""One description of every engine call, shared by ``Client`` and ``AsyncClient``.

httpx's own ``Client``/``AsyncClient`` pattern: everything but the I/O lives
here. Each API operation is a ``Call`` (method, path, body, how to read the
answer, which error to raise); ``ClientCore`` holds the settings both clients
share (base URL, timeout, bearer token) and translates every failure into
``ClientError`` or its subclass at this seam. ``Client`` sends a ``Call``
with ``httpx.Client``, ``AsyncClient`` awaits it with ``httpx.AsyncClient``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from argyll.errors import ClientError, FlowError, StepRegistrationError
from argyll.model.enums import FlowStatus
from argyll.model.plan import ExecutionPlan
from argyll.model.requests import FlowQuery, FlowStartRequest, PlanRequest
from argyll.model.step import Step
from argyll.model.wire import Wire
from argyll.sdk.results import FlowEvent, FlowPage, FlowState, FlowSummary

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PAGE_SIZE",
    "Call",
    "ClientCore",
    "Pager",
    "calls",
    "normalize_base_url",
    "statuses_of",
]

#: Where the engine listens by default (API_PORT 8080).
DEFAULT_BASE_URL = "http://localhost:8080"

#: Flows fetched per request by ``flows()``.
DEFAULT_PAGE_SIZE = 100

_USER_AGENT = "argyll-python-sdk"
_T = TypeVar("_T")


class _StepEnvelope(Wire):
    """``{"message", "step"}`` answer of register/update (API-12, API-13)."""

    message: str = ""
    step: Step | None = None


class _StepList(Wire):
    """``GET /engine/step``; ``steps`` may be ``null`` (CONV-4)."""

    steps: list[Step] | None = None
    count: int = 0


class _FlowStarted(Wire):
    """``201`` answer of ``POST /engine/flow`` (API-21)."""

    message: str = ""
    flow_id: str = ""


class _EventList(Wire):
    """``GET /engine/flow/{id}/events`` (API-26)."""

    events: list[FlowEvent] | None = None
    count: int = 0


def normalize_base_url(url: str) -> str:
    """Trim a trailing ``/`` and a trailing ``/engine`` from an engine URL.

    >>> normalize_base_url("http://localhost:8080/engine/")
    'http://localhost:8080'
    """
    url = url.strip().rstrip("/")
    if url.endswith("/engine"):
        url = url[: -len("/engine")].rstrip("/")
    return url


def _segment(value: str) -> str:
    return quote(value, safe="")


def _error_text(response: httpx.Response) -> str:
    """The engine's ``error`` text (CONV-3), else the body, else the reason phrase."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
        return str(body["error"])
    text = response.text.strip()
    return text or response.reason_phrase or f"HTTP {response.status_code}"


def statuses_of(status: str | Iterable[str] | None) -> list[str]:
    """``status=`` of ``flows()``: one status or several, as the wire values."""
    if status is None:
        return []
    if isinstance(status, str):
        return [FlowStatus(status).value]
    return [FlowStatus(s).value for s in status]


@dataclass(frozen=True)
class Call(Generic[_T]):
    """One engine request and how to read its answer.

    Attributes:
        method: The HTTP method.
        path: The path below the base URL (segments already escaped).
        read: Turns the successful response into the result.
        body: A struct or builtins sent as JSON; ``None`` sends no body.
        error: The ``ClientError`` subclass every failure raises.
    """

    method: str
    path: str
    read: Callable[[httpx.Response], _T]
    body: Any = None
    error: type[ClientError] = ClientError
    params: Mapping[str, str] = field(default_factory=dict)


def _decoder(type_: type[_T], error: type[ClientError]) -> Callable[[httpx.Response], _T]:
    def read(response: httpx.Response) -> _T:
        try:
            return msgspec.json.decode(response.content, type=type_)
        except msgspec.DecodeError as exc:
            raise error(
                f"unexpected answer to {response.request.method} {response.request.url.path}: "
                f"{exc}",
                response.status_code,
            ) from exc

    return read


def _nothing(_: httpx.Response) -> None:
    return None


class _Calls:
    """The engine's REST operations (SPEC 12) as ``Call`` values."""

    def register_step(self, step: Step) -> Call[Step]:
        decode = _decoder(_StepEnvelope, StepRegistrationError)
        return Call(
            "POST",
            "/engine/step",
            lambda r: decode(r).step or step,
            body=step,
            error=StepRegistrationError,
        )

    def update_step(self, step: Step) -> Call[Step]:
        decode = _decoder(_StepEnvelope, StepRegistrationError)
        return Call(
            "PUT",
            f"/engine/step/{_segment(step.id)}",
            lambda r: decode(r).step or step,
            body=step,
            error=StepRegistrationError,
        )

    def get_step(self, step_id: str) -> Call[Step]:
        return Call("GET", f"/engine/step/{_segment(step_id)}", _decoder(Step, ClientError))

    def list_steps(self) -> Call[list[Step]]:
        decode = _decoder(_StepList, ClientError)
        return Call("GET", "/engine/step", lambda r: decode(r).steps or [])

    def unregister_step(self, step_id: str) -> Call[None]:
        return Call("DELETE", f"/engine/step/{_segment(step_id)}", _nothing)

    def plan(
        self, goals: Iterable[str], init: Mapping[str, list[Any]] | None
    ) -> Call[ExecutionPlan]:
        body = PlanRequest(goals=list(goals), init=dict(init or {}))
        return Call("POST", "/engine/plan", _decoder(ExecutionPlan, ClientError), body=body)

    def start_flow(self, request: FlowStartRequest) -> Call[str]:
        decode = _decoder(_FlowStarted, FlowError)
        return Call(
            "POST",
            "/engine/flow",
            lambda r: decode(r).flow_id or request.id,
            body=request,
            error=FlowError,
        )

    def flow_state(self, flow_id: str) -> Call[FlowState]:
        path = f"/engine/flow/{_segment(flow_id)}"
        return Call("GET", path, _decoder(FlowState, FlowError), error=FlowError)

    def flow_events(self, flow_id: str) -> Call[list[FlowEvent]]:
        decode = _decoder(_EventList, FlowError)
        path = f"/engine/flow/{_segment(flow_id)}/events"
        return Call("GET", path, lambda r: decode(r).events or [], error=FlowError)

    def query_flows(self, query: FlowQuery) -> Call[FlowPage]:
        return Call("POST", "/engine/flow/query", _decoder(FlowPage, FlowError), body=query)


#: The operations; ``calls.flow_state("wf-1")`` is the ``Call`` reading that flow.
calls = _Calls()


class ClientCore:
    """Settings and error translation shared by ``Client`` and ``AsyncClient``.

    Args:
        base_url: The engine URL; ``None`` reads ``ENGINE_URL``, else
            ``http://localhost:8080``. A trailing ``/`` or ``/engine`` is trimmed.
        timeout: Seconds per request (connect, read, write).
        token: A bearer token sent as ``Authorization: Bearer <token>``;
            ``None`` reads ``ARGYLL_TOKEN`` (unset: no header).
    """

    def __init__(self, base_url: str | None, timeout: float, token: str | None) -> None:
        self.base_url = normalize_base_url(base_url or os.environ.get("ENGINE_URL") or "")
        if not self.base_url:
            self.base_url = DEFAULT_BASE_URL
        self.timeout = timeout
        self.token = token if token is not None else os.environ.get("ARGYLL_TOKEN") or None

    @property
    def headers(self) -> dict[str, str]:
        """The headers of every request (and of the WebSocket handshake)."""
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    @property
    def ws_url(self) -> str:
        """The engine's WebSocket URL (``/engine/ws``, API-41)."""
        scheme, _, rest = self.base_url.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/engine/ws"

    def request(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        """The ``httpx.Request`` of ``call`` (JSON body encoded with msgspec)."""
        headers = {}
        content = None
        if call.body is not None:
            content = msgspec.json.encode(call.body)
            headers["Content-Type"] = "application/json"
        return http.build_request(
            call.method, call.path, content=content, headers=headers, params=dict(call.params)
        )

    def unreachable(self, call: Call[Any], exc: Exception) -> ClientError:
        """The error for a network failure (``status_code=None``)."""
        return call.error(f"cannot reach the engine at {self.base_url}: {exc}")

    def result(self, call: Call[_T], response: httpx.Response) -> _T:
        """The result of ``call`` from ``response``; an error status raises ``call.error``."""
        if not response.is_success:
            raise call.error(_error_text(response), response.status_code)
        return call.read(response)


class Pager:
    """Cursor paging of ``flows()``, shared by both clients."""

    def __init__(self, query: FlowQuery, limit: int | None, page_size: int) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be between 1 and 1000, got {page_size}")
        self._query = query
        self._left = limit
        self._size = page_size
        self._cursor = ""
        self._more = True

    def next_query(self) -> FlowQuery | None:
        """The query of the next page, or ``None`` when done."""
        if not self._more or (self._left is not None and self._left <= 0):
            return None
        size = self._size if self._left is None else min(self._size, self._left)
        return msgspec.structs.replace(self._query, limit=size, cursor=self._cursor)

    def take(self, page: FlowPage) -> list[FlowSummary]:
        """The flows of ``page`` to yield; remembers the cursor."""
        flows = page.flows
        if self._left is not None:
            flows = flows[: self._left]
            self._left -= len(flows)
        self._more = page.has_more and bool(page.next_cursor) and bool(page.flows)
        self._cursor = page.next_cursor
        return flows
