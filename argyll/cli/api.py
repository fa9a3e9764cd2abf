"""The engine as the command line and the MCP server see it: the public API only.

Steps, plans, flow start and flow state go through the SDK ``Client``; the few
reads the SDK does not offer yet (flow queries, events, health, cluster) are
thin httpx calls here. Every failure is a ``ClientError`` carrying the
engine's ``error`` text, so callers print one line.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from argyll.errors import ClientError
from argyll.model.step import Step
from argyll.sdk import Client
from argyll.sdk.client import DEFAULT_BASE_URL, normalize_base_url

__all__ = ["DEFAULT_BASE_URL", "EngineApi", "auth_headers", "websocket_url"]


def auth_headers(token: str | None) -> dict[str, str]:
    """``Authorization: Bearer <token>`` when a token is set, else nothing."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def websocket_url(base_url: str) -> str:
    """The engine's event stream URL: ``ws(s)://host:port/engine/ws``."""
    base = normalize_base_url(base_url)
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/engine/ws"
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + "/engine/ws"
    return base + "/engine/ws"


class _HeaderTransport(httpx.HTTPTransport):
    """Adds fixed headers (the bearer token) to every request the SDK client sends."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__()
        self._headers = headers

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers.update(self._headers)
        return super().handle_request(request)


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
        return str(body["error"])
    return response.text.strip() or response.reason_phrase or f"HTTP {response.status_code}"


def _segment(value: str) -> str:
    return quote(value, safe="")


class EngineApi:
    """One engine at ``base_url``; close it when done (or use ``with``)."""

    def __init__(
        self, base_url: str = DEFAULT_BASE_URL, token: str | None = None, timeout: float = 30.0
    ) -> None:
        headers = auth_headers(token)
        self.token = token
        self.sdk = Client(base_url, timeout, transport=_HeaderTransport(headers))
        self.base_url = self.sdk.base_url
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "argyll-cli", **headers},
        )

    def close(self) -> None:
        self.sdk.close()
        self._http.close()

    def __enter__(self) -> EngineApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- through the SDK ----------------------------------------------------

    def list_steps(self) -> list[dict[str, Any]]:
        return [_plain(step) for step in self.sdk.list_steps()]

    def get_step(self, step_id: str) -> dict[str, Any]:
        return _plain(self.sdk.get_step(step_id))

    def register_step(self, step: Step) -> dict[str, Any]:
        return _plain(self.sdk.register_step(step))

    def update_step(self, step: Step) -> dict[str, Any]:
        return _plain(self.sdk.update_step(step))

    def unregister_step(self, step_id: str) -> None:
        self.sdk.unregister_step(step_id)

    def plan(self, goals: list[str], init: dict[str, list[Any]]) -> dict[str, Any]:
        return self.sdk.plan(goals, init).to_dict()

    def start_flow(
        self,
        flow_id: str,
        goals: list[str],
        init: dict[str, list[Any]],
        labels: dict[str, str],
    ) -> str:
        return self.sdk.start_flow(flow_id, goals, init, labels)

    def get_flow(self, flow_id: str) -> dict[str, Any]:
        return self.sdk.get_flow_state(flow_id).to_dict()

    # -- thin calls the SDK does not offer yet --------------------------------

    def flow_status(self, flow_id: str) -> dict[str, Any]:
        return self._json("GET", f"/engine/flow/{_segment(flow_id)}/status")

    def query_flows(self, query: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/engine/flow/query", body=query)

    def flow_events(self, flow_id: str) -> list[dict[str, Any]]:
        answer = self._json("GET", f"/engine/flow/{_segment(flow_id)}/events")
        events = answer.get("events")
        return list(events) if isinstance(events, list) else []

    def service_health(self) -> dict[str, Any]:
        return self._json("GET", "/health")

    def step_health(self, step_id: str | None = None) -> dict[str, Any]:
        path = "/engine/health" if step_id is None else f"/engine/health/{_segment(step_id)}"
        return self._json("GET", path)

    def cluster(self) -> dict[str, Any]:
        return self._json("GET", "/engine/cluster")

    def engine_state(self) -> dict[str, Any]:
        return self._json("GET", "/engine")

    def _json(self, method: str, path: str, *, body: Any = None) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, json=body)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ClientError(f"cannot reach the engine at {self.base_url}: {exc}") from exc
        if not response.is_success:
            raise ClientError(_error_text(response), response.status_code)
        try:
            answer = response.json()
        except ValueError as exc:
            raise ClientError(f"unexpected answer to {method} {path}: {exc}") from exc
        if not isinstance(answer, dict):
            raise ClientError(f"unexpected answer to {method} {path}: not a JSON object")
        return answer


def _plain(step: Step) -> dict[str, Any]:
    """A step as JSON-ready builtins (what the engine stores and echoes)."""
    plain: dict[str, Any] = msgspec.to_builtins(step)
    return plain
