"""The engine client: HTTP + JSON to the engine's REST API (SPEC section 12).

This module only sends requests and reads answers. Builders assemble the wire
structs; every failure is translated here, at the seam, into ``ClientError``
or one of its subclasses (``from`` the httpx error).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from argyll.errors import ClientError, FlowError, StepRegistrationError
from argyll.model.requests import FlowStartRequest, PlanRequest
from argyll.model.step import Step
from argyll.sdk.flow_builder import FlowBuilder
from argyll.sdk.flow_client import FlowClient
from argyll.sdk.overload import send_with_overload_retry
from argyll.sdk.step_builder import StepBuilder

__all__ = ["DEFAULT_BASE_URL", "Client", "normalize_base_url"]

#: Where the engine listens by default (API_PORT 8080).
DEFAULT_BASE_URL = "http://localhost:8080"

_USER_AGENT = "argyll-python-sdk"
_E = TypeVar("_E", bound=ClientError)
_T = TypeVar("_T")


class _StepEnvelope(msgspec.Struct):
    """``{"message", "step"}`` answer of register/update (API-12, API-13)."""

    message: str = ""
    step: Step | None = None


class _StepList(msgspec.Struct):
    """``GET /engine/step``; ``steps`` may be ``null`` (CONV-4)."""

    steps: list[Step] | None = None
    count: int = 0


class _FlowStarted(msgspec.Struct):
    """``201`` answer of ``POST /engine/flow`` (API-21)."""

    message: str = ""
    flow_id: str = ""


def normalize_base_url(url: str) -> str:
    """Trim a trailing ``/`` and a trailing ``/engine`` from an engine URL.

    >>> normalize_base_url("http://localhost:8080/engine/")
    'http://localhost:8080'
    """
    url = url.strip().rstrip("/")
    if url.endswith("/engine"):
        url = url[: -len("/engine")].rstrip("/")
    return url


def _path_segment(value: str) -> str:
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


class Client:
    """A synchronous client of one Argyll engine.

    The client is thread-safe and keeps a pool of connections: create one and
    share it. Close it with ``close()`` or use it as a context manager.

    Args:
        base_url: The engine's base URL; a trailing ``/`` or ``/engine`` is
            trimmed. Defaults to ``http://localhost:8080``.
        timeout: Seconds to wait for each request (connect, read, write).
            Defaults to 30.
        transport: An httpx transport to send requests through instead of
            the network (e.g. ``httpx.MockTransport`` in tests).

    Every method raises ``ClientError`` (or the subclass it names) when the
    engine answers an error status, carrying the engine's ``error`` text as
    ``message`` and the status as ``status_code``; when the engine cannot be
    reached, ``status_code`` is ``None``.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": _USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # -- builders -----------------------------------------------------------

    def new_step(self) -> StepBuilder:
        """An empty ``StepBuilder`` that registers through this client."""
        return StepBuilder(client=self)

    def new_flow(self, flow_id: str) -> FlowBuilder:
        """A ``FlowBuilder`` for a flow named ``flow_id``, started through this client."""
        return FlowBuilder(client=self, flow_id=flow_id)

    def flow(self, flow_id: str) -> FlowClient:
        """A ``FlowClient`` reading the flow ``flow_id`` (which need not exist yet)."""
        return FlowClient(self, flow_id)

    # -- steps --------------------------------------------------------------

    def register_step(self, step: Step) -> Step:
        """Register ``step`` (``POST /engine/step``, API-12).

        Re-registering an identical step succeeds (CAT-2).

        Returns:
            The step as the engine echoes it (ID sanitized, no defaults merged).

        Raises:
            StepRegistrationError: The engine rejected the step (400
                ``invalid step...``, 409 ``step exists: <id>``) or is
                unreachable (``status_code=None``).
        """
        response = self._send("POST", "/engine/step", body=step, error=StepRegistrationError)
        envelope = self._decode(response, _StepEnvelope, StepRegistrationError)
        return envelope.step if envelope.step is not None else step

    def update_step(self, step: Step) -> Step:
        """Replace the registered step ``step.id`` (``PUT /engine/step/{id}``, API-13).

        Returns:
            The step as the engine echoes it.

        Raises:
            StepRegistrationError: 404 ``step not found: <id>``, 400 invalid
                step, or the engine is unreachable (``status_code=None``).
        """
        path = f"/engine/step/{_path_segment(step.id)}"
        response = self._send("PUT", path, body=step, error=StepRegistrationError)
        envelope = self._decode(response, _StepEnvelope, StepRegistrationError)
        return envelope.step if envelope.step is not None else step

    def get_step(self, step_id: str) -> Step:
        """The stored step ``step_id`` (API-11), with work defaults merged.

        Raises:
            ClientError: 404 ``step not found: <id>``, or unreachable engine.
        """
        response = self._send("GET", f"/engine/step/{_path_segment(step_id)}")
        return self._decode(response, Step, ClientError)

    def list_steps(self) -> list[Step]:
        """Every registered step, sorted by ID (API-10), as typed ``Step`` objects.

        Raises:
            ClientError: The engine answered an error or is unreachable.
        """
        response = self._send("GET", "/engine/step")
        return self._decode(response, _StepList, ClientError).steps or []

    def unregister_step(self, step_id: str) -> None:
        """Remove the step ``step_id`` from the catalog (API-14).

        Raises:
            ClientError: 404 ``step not found: <id>``, or unreachable engine.
        """
        self._send("DELETE", f"/engine/step/{_path_segment(step_id)}")

    # -- plans and flows ----------------------------------------------------

    def plan(
        self, goals: list[str] | tuple[str, ...], init: dict[str, list[Any]] | None = None
    ) -> dict[str, Any]:
        """Preview the execution plan for ``goals`` (``POST /engine/plan``, API-20).

        Missing inputs are listed in the plan's ``required``, never raised.

        Args:
            goals: Goal step IDs.
            init: Initial values, each attribute mapping to a list of values
                (DATA-30); ``None`` means none.

        Returns:
            The plan JSON (SPEC 4.1) as a dict.

        Raises:
            ClientError: 400 without goals, 404 ``step not found: [...]``,
                500 on a plan failure, or unreachable engine.
        """
        request = PlanRequest(goals=list(goals), init=dict(init or {}))
        response = self._send("POST", "/engine/plan", body=request)
        return self._decode(response, dict[str, Any], ClientError)

    def start_flow(
        self,
        flow_id: str,
        goals: list[str] | tuple[str, ...],
        init: dict[str, list[Any]] | None = None,
        labels: dict[str, str] | None = None,
    ) -> str:
        """Start a flow (``POST /engine/flow``, API-21); ``FlowBuilder.start`` calls this.

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
        response = self._send("POST", "/engine/flow", body=request, error=FlowError)
        started = self._decode(response, _FlowStarted, FlowError)
        return started.flow_id or flow_id

    def get_flow_state(self, flow_id: str) -> dict[str, Any]:
        """The full state of a flow (``GET /engine/flow/{id}``, API-24, API-50).

        Raises:
            FlowError: 404 ``flow not found: <id>``, or unreachable engine.
        """
        response = self._send("GET", f"/engine/flow/{_path_segment(flow_id)}", error=FlowError)
        return self._decode(response, dict[str, Any], FlowError)

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

    # -- transport ----------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        error: type[ClientError] = ClientError,
    ) -> httpx.Response:
        """Send one request; a non-2xx answer or a network failure raises ``error``."""
        headers = {}
        content = None
        if body is not None:
            content = msgspec.json.encode(body)
            headers["Content-Type"] = "application/json"
        try:
            response = send_with_overload_retry(
                lambda: self._http.request(method, path, content=content, headers=headers)
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise error(f"cannot reach the engine at {self.base_url}: {exc}") from exc
        if not response.is_success:
            raise error(_error_text(response), response.status_code)
        return response

    @staticmethod
    def _decode(response: httpx.Response, type_: type[_T], error: type[_E]) -> _T:
        try:
            return msgspec.json.decode(response.content, type=type_)
        except msgspec.DecodeError as exc:
            raise error(
                f"unexpected answer to {response.request.method} {response.request.url.path}: "
                f"{exc}",
                response.status_code,
            ) from exc
