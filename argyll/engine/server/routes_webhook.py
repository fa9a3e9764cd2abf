"""The async-step webhook (API-40, ASYNC-1, ASYNC-4, ASYNC-5)."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from argyll.engine.flow import decide
from argyll.engine.flow.tx import Env, Tx
from argyll.engine.server.body import read_body
from argyll.errors import BadRequestError, EngineError
from argyll.model.flow import FlowState

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["parse_webhook", "webhook_routes"]


def _problem_text(problem: dict[str, Any]) -> str:
    for key in ("detail", "title"):
        value = problem.get(key)
        if isinstance(value, str) and value:
            return value
    status = problem.get("status")
    if isinstance(status, int):
        try:
            return HTTPStatus(status).phrase
        except ValueError:
            pass
    return "work failed"


def parse_webhook(content_type: str, body: bytes) -> decide.Outcome:
    """ASYNC-4: a problem+json failure, or a JSON object (or null) of outputs.

    Raises:
        BadRequestError: ``Invalid problem JSON`` or ``Invalid JSON``.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/problem+json":
        try:
            problem = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise BadRequestError("Invalid problem JSON") from None
        if not isinstance(problem, dict):
            raise BadRequestError("Invalid problem JSON")
        return decide.Outcome("permanent", error=_problem_text(problem))
    try:
        outputs = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        raise BadRequestError("Invalid JSON") from None
    if outputs is not None and not isinstance(outputs, dict):
        raise BadRequestError("Invalid JSON")
    return decide.Outcome("success", outputs)


def webhook_routes(engine: Engine) -> list[Route]:
    """The webhook route bound to ``engine``."""

    async def webhook(request: Request) -> Response:
        flow_id = request.path_params["flow_id"]
        step_id = request.path_params["step_id"]
        token = request.path_params["token"]
        sig = request.query_params.get("sig", "")
        guards = engine.config.guards
        body = await read_body(request, guards.result_bytes, guards.max_depth)
        content_type = request.headers.get("content-type", "")

        def decision(state: FlowState, env: Env) -> Tx:
            ex = state.executions.get(step_id)
            if step_id not in state.plan.steps or ex is None:
                raise BadRequestError("Step execution not found")
            if token not in ex.work_items:
                raise BadRequestError("Work item not found for token")
            if not engine.webhooks.verify(flow_id, step_id, token, sig):
                raise EngineError("invalid webhook credential", 401)
            outcome = engine.bounds.apply(parse_webhook(content_type, body))
            return decide.on_result(state, env, step_id, token, outcome)

        if await engine.runner.write(flow_id, decision) is None:
            raise BadRequestError("Flow not found")
        return Response(status_code=200)

    return [Route("/webhook/{flow_id}/{step_id}/{token}", webhook, methods=["POST"])]
