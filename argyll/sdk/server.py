"""The step server: an ASGI app that runs a step handler per engine request.

Imported only when a step server runs (``start``/``serve``), never by
``import argyll``. Routes:

- ``GET /health`` -> ``{"status": "healthy", "service": <step id>}``;
- ``/{step_id}`` (GET, POST, PUT, DELETE) -> the handler's outputs as JSON
  (HTTP-3, HTTP-5);
- ``POST /{step_id}/compensate`` -> the compensation handler (COMP-3), when
  one is given.

Failures answer RFC 9457 problem details (``application/problem+json``),
whose ``detail`` the engine records as the work item's error (HTTP-5).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from argyll.errors import HTTPError, WorkNotCompletedError
from argyll.sdk.context import HEADER_METADATA, AsyncStepContext, StepContext
from argyll.sdk.problem import PROBLEM_CONTENT_TYPE, problem_details

if TYPE_CHECKING:
    from argyll.sdk.async_client import AsyncClient
    from argyll.sdk.client import Client
    from argyll.sdk.context import CompensateHandler, StepHandler

__all__ = ["create_app", "problem_response"]

log = logging.getLogger("argyll.sdk")


class _BadRequest(Exception):
    """The engine's request body is not a JSON object."""


def problem_response(status: int, detail: str) -> Response:
    """A problem-details response with ``status``; out-of-range statuses become 500."""
    if not 400 <= status <= 599:
        detail = f"handler raised HTTPError with non-error status {status}: {detail}"
        status = 500
    body = msgspec.json.encode(problem_details(status, detail))
    return Response(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE)


async def _json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body (GET, HTTP-3) or ``null`` is ``{}``."""
    body = await request.body()
    if not body.strip():
        return {}
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise _BadRequest(f"request body is not JSON: {exc}") from exc
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _BadRequest(f"request body must be a JSON object, got {type(value).__name__}")
    return value


def _is_async(func: Callable[..., Any]) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - async callable objects
    )


async def _call(func: Callable[..., Any], *args: Any) -> Any:
    """Await an ``async def`` handler; run a sync one in the thread pool."""
    if _is_async(func):
        return await func(*args)
    result = await run_in_threadpool(func, *args)
    if inspect.isawaitable(result):
        return await result
    return result


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Contexts:
    """Builds each request's context: sync handlers get the blocking client,
    ``async def`` handlers an ``AsyncClient`` created on the server's loop."""

    def __init__(self, step_id: str, client: Client) -> None:
        self.step_id = step_id
        self.client = client
        self.async_client: AsyncClient | None = None

    def _metadata(self, request: Request) -> dict[str, str]:
        return {
            key: value
            for header, key in HEADER_METADATA.items()
            if (value := request.headers.get(header))
        }

    def for_handler(
        self, func: Callable[..., Any], request: Request
    ) -> StepContext | AsyncStepContext:
        metadata = self._metadata(request)
        flow_id = metadata.get("flow_id", "")
        if not _is_async(func):
            return StepContext(self.client.flow(flow_id), self.step_id, metadata)
        if self.async_client is None:
            self.async_client = self.client.to_async()
        return AsyncStepContext(self.async_client.flow(flow_id), self.step_id, metadata)

    async def close(self) -> None:
        if self.async_client is not None:
            await self.async_client.aclose()
            self.async_client = None


def _compensate_endpoint(
    step_id: str,
    undo: CompensateHandler,
    contexts: _Contexts,
) -> Callable[[Request], Awaitable[Response]]:
    """The ``POST /{step_id}/compensate`` endpoint calling ``undo`` (COMP-3, COMP-4)."""

    async def compensate(request: Request) -> Response:
        try:
            body = await _json_object(request)
        except _BadRequest as exc:
            return problem_response(400, str(exc))
        inputs = body.get("input") or {}
        outputs = body.get("output") or {}
        try:
            await _call(undo, contexts.for_handler(undo, request), inputs, outputs)
        except WorkNotCompletedError as exc:
            # Transient: COMP-4 retries 5xx answers.
            return problem_response(503, str(exc) or "compensation not completed")
        except HTTPError as exc:
            return problem_response(exc.status, exc.message)
        except Exception as exc:
            # Permanent: a 4xx ends compensation as compensation_failed (COMP-4).
            log.exception("step %s: compensation handler failed", step_id)
            return problem_response(422, f"compensation failed: {_describe(exc)}")
        return JSONResponse({})

    return compensate


def create_app(
    step_id: str,
    handler: StepHandler,
    client: Client,
    compensate_handler: CompensateHandler | None = None,
) -> Starlette:
    """The ASGI app serving one step.

    Args:
        step_id: The step's ID: the route path and ``StepContext.step_id``.
        handler: ``handler(ctx, args) -> outputs``; sync handlers run in a
            worker thread, ``async def`` handlers on the event loop.
        client: The engine client; a sync handler's ``ctx.client`` is
            ``client.flow(<Argyll-Flow-ID>)``; an ``async def`` handler's is
            the same flow through an ``AsyncClient`` with ``client``'s
            settings (an ``AsyncStepContext``).
        compensate_handler: ``undo(ctx, inputs, outputs)``, served at
            ``/{step_id}/compensate`` when given.

    Returns:
        A Starlette app. The handler's outcome maps to the answer as follows:
        outputs (a dict, or ``None`` for none) -> 200 JSON; ``HTTPError`` ->
        problem details with its status (4xx permanent, 5xx retried by the
        engine); ``WorkNotCompletedError`` -> 503 (retried); any other
        exception, or a result that is not a JSON object -> 500 (retried).
        A body that is not a JSON object -> 400.
    """

    contexts = _Contexts(step_id, client)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "healthy", "service": step_id})

    async def invoke(request: Request) -> Response:
        try:
            args = await _json_object(request)
        except _BadRequest as exc:
            return problem_response(400, str(exc))
        try:
            outputs = await _call(handler, contexts.for_handler(handler, request), args)
        except HTTPError as exc:
            return problem_response(exc.status, exc.message)
        except WorkNotCompletedError as exc:
            return problem_response(503, str(exc) or "work not completed")
        except Exception as exc:
            log.exception("step %s: handler failed", step_id)
            return problem_response(500, f"step handler failed: {_describe(exc)}")
        if outputs is None:
            outputs = {}
        if not isinstance(outputs, dict):
            return problem_response(
                500, f"step handler must return a dict of outputs, got {type(outputs).__name__}"
            )
        try:
            body = msgspec.json.encode(outputs)
        except (TypeError, msgspec.EncodeError) as exc:
            return problem_response(500, f"step outputs are not JSON: {exc}")
        return Response(body, media_type="application/json")

    routes = [
        Route("/health", health, methods=["GET"]),
        Route(f"/{step_id}", invoke, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
    if compensate_handler is not None:
        compensate = _compensate_endpoint(step_id, compensate_handler, contexts)
        routes.append(Route(f"/{step_id}/compensate", compensate, methods=["POST"]))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await contexts.close()

    return Starlette(routes=routes, lifespan=lifespan)
