"""Helpers for the dataflow e2e tests: a scriptable loopback step service and
step/attribute builders.

The service answers every path. By default it echoes the request body as
``{"echo": <body>}``; a query string turns it into an output builder:
``/out?v=$s1&seq=1`` answers ``{"v": body["s1"], "seq": 1}`` (``$name`` reads
an argument, anything else is a JSON literal, else a string). Tests can
script a path with ``on()``, hold its calls until ``release()``, and read the
calls it received and how many ran at once.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support import StepServer

Behaviour = Callable[[dict[str, Any]], Any]


@dataclass
class Call:
    """One request the service received."""

    path: str
    raw_path: str
    headers: dict[str, str]
    body: Any

    @property
    def token(self) -> str:
        return self.headers.get("argyll-receipt-token", "")


async def wait_for(event: threading.Event, timeout: float = 30.0) -> None:
    """Inside a behaviour: wait until the test sets ``event`` (polls; the loop stays free)."""
    for _ in range(int(timeout / 0.005)):
        if event.is_set():
            return
        await asyncio.sleep(0.005)


def _literal(text: str, body: dict[str, Any]) -> Any:
    if text.startswith("$"):
        return body.get(text[1:])
    try:
        return json.loads(text)
    except ValueError:
        return text


class Service:
    """A loopback step service scripted per path (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.behaviours: dict[str, Behaviour] = {}
        self.gates: dict[str, threading.Event] = {}
        self.active: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.url = ""

    # scripting ------------------------------------------------------------

    def on(self, path: str, behaviour: Behaviour) -> None:
        """Answer ``path`` with ``behaviour(body)``: a Response, a dict (JSON) or None (204)."""
        self.behaviours[path] = behaviour

    def hold(self, path: str) -> None:
        """Make calls to ``path`` wait (after being counted) until ``release(path)``."""
        self.gates[path] = threading.Event()

    def release(self, path: str) -> None:
        gate = self.gates.get(path)
        if gate is not None:
            gate.set()

    # inspection -----------------------------------------------------------

    def calls_to(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == path]

    def running(self, path: str) -> int:
        with self.lock:
            return self.active.get(path, 0)

    def peak_of(self, path: str) -> int:
        with self.lock:
            return self.peak.get(path, 0)

    # serving --------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw) if raw.strip() else None
        path = request.url.path
        with self.lock:
            self.calls.append(
                Call(path, request.scope["raw_path"].decode(), dict(request.headers), body)
            )
            self.active[path] = self.active.get(path, 0) + 1
            self.peak[path] = max(self.peak.get(path, 0), self.active[path])
        try:
            gate = self.gates.get(path)
            if gate is not None:
                await wait_for(gate)
            return await self._answer(request, path, body if isinstance(body, dict) else {})
        finally:
            with self.lock:
                self.active[path] -= 1

    async def _answer(self, request: Request, path: str, body: dict[str, Any]) -> Response:
        behaviour = self.behaviours.get(path)
        if behaviour is not None:
            result = behaviour(body)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, Response):
                return result
            if result is None:
                return Response(status_code=204)
            return JSONResponse(result)
        if request.query_params:
            return JSONResponse({k: _literal(v, body) for k, v in request.query_params.items()})
        return JSONResponse({"echo": body})


@contextmanager
def serve() -> Iterator[Service]:
    """Run a ``Service`` on a free loopback port for the duration of the block."""
    service = Service()
    app = Starlette(
        routes=[Route("/{path:path}", service.handle, methods=["GET", "POST", "PUT", "DELETE"])]
    )
    with StepServer(app) as server:
        service.url = server.url
        yield service


def problem(status: int, detail: str) -> Response:
    """An ``application/problem+json`` error response."""
    return JSONResponse(
        {"title": "failed", "detail": detail, "status": status},
        status_code=status,
        media_type="application/problem+json",
    )


# step and attribute builders -------------------------------------------------

FAST_RETRY = {"init_backoff": 20, "max_backoff": 50, "max_retries": 3}


def req(
    *,
    collect: str = "",
    for_each: bool = False,
    match: tuple[str, str] | None = None,
    name: str = "",
) -> dict[str, Any]:
    """A required attribute spec."""
    sub: dict[str, Any] = {}
    if collect:
        sub["collect"] = collect
    if for_each:
        sub["for_each"] = True
    if match is not None:
        sub["match"] = {"language": match[0], "script": match[1]}
    if name:
        sub["mapping"] = {"name": name}
    spec: dict[str, Any] = {"role": "required"}
    if sub:
        spec["required"] = sub
    return spec


def opt(
    *, collect: str = "", default: str = "", deadline: int = 0, for_each: bool = False
) -> dict[str, Any]:
    """An optional attribute spec (``default`` is a JSON text, DATA-24)."""
    sub: dict[str, Any] = {}
    if collect:
        sub["collect"] = collect
    if default:
        sub["default"] = default
    if deadline:
        sub["deadline"] = deadline
    if for_each:
        sub["for_each"] = True
    spec: dict[str, Any] = {"role": "optional"}
    if sub:
        spec["optional"] = sub
    return spec


def out(name: str = "") -> dict[str, Any]:
    """An output attribute spec, renamed from ``name`` in the raw result when given."""
    return {"role": "output", "output": {"mapping": {"name": name}}} if name else {"role": "output"}


def http_step(step_id: str, endpoint: str, attrs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A sync (or ``type=...``) HTTP step with fast retries unless overridden."""
    http = {"endpoint": endpoint, **extra.pop("http", {})}
    return {
        "id": step_id,
        "name": step_id,
        "type": extra.pop("type", "sync"),
        "attributes": attrs,
        "http": http,
        "work_config": {**FAST_RETRY, **extra.pop("work_config", {})},
        **extra,
    }


def script_step(
    step_id: str, language: str, source: str, attrs: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A script step (Ale or Lua)."""
    return {
        "id": step_id,
        "name": step_id,
        "type": "script",
        "attributes": attrs,
        "script": {"language": language, "script": source},
        **extra,
    }


def flow_step(
    step_id: str, goals: list[str], attrs: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A flow step (sub-flow, SUB-1) with the given child goals."""
    return {
        "id": step_id,
        "name": step_id,
        "type": "flow",
        "attributes": attrs,
        "flow": {"goals": goals},
        **extra,
    }


def status(item: dict[str, Any]) -> str:
    """A work item's or execution's status (the wire form omits the default ``pending``)."""
    return str(item.get("status", "pending"))


def types(events: list[dict[str, Any]], *, step_id: str = "") -> list[str]:
    """Event types, optionally only those about ``step_id``."""
    return [e["type"] for e in events if not step_id or e["data"].get("step_id") == step_id]


def of_type(events: list[dict[str, Any]], kind: str, step_id: str = "") -> list[dict[str, Any]]:
    """The ``data`` of every event of type ``kind`` (about ``step_id`` if given)."""
    return [
        e["data"]
        for e in events
        if e["type"] == kind and (not step_id or e["data"].get("step_id") == step_id)
    ]


def timestamps(events: list[dict[str, Any]], kind: str, step_id: str = "") -> list[str]:
    return [
        e["timestamp"]
        for e in events
        if e["type"] == kind and (not step_id or e["data"].get("step_id") == step_id)
    ]


def register_all(api: Any, *steps: dict[str, Any]) -> None:
    """Register steps, failing loudly on any rejection."""
    for step in steps:
        r = api.register(step)
        assert r.status_code == 201, r.text
