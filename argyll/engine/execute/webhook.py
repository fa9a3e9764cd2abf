"""Async-step results arriving by webhook (API-40, ASYNC-4, ASYNC-5): parsing and the decision."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import msgspec

from argyll.engine.flow import decide
from argyll.engine.flow.outcome import Outcome
from argyll.engine.flow.tx import Env, Tx
from argyll.errors import BadRequestError
from argyll.model.flow import FlowState

__all__ = ["parse_webhook", "webhook_decision"]


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


def parse_webhook(content_type: str, body: bytes) -> Outcome:
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
        return Outcome("permanent", error=_problem_text(problem))
    try:
        outputs = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        raise BadRequestError("Invalid JSON") from None
    if outputs is not None and not isinstance(outputs, dict):
        raise BadRequestError("Invalid JSON")
    return Outcome("success", outputs)


def webhook_decision(
    step_id: str, token: str, content_type: str, body: bytes
) -> Callable[[FlowState, Env], Tx]:
    """The decision recording one webhook result; checks precede parsing (ASYNC-5).

    Raises (from the decision):
        BadRequestError: unknown step execution or token, or an invalid body.
    """

    def decision(state: FlowState, env: Env) -> Tx:
        ex = state.executions.get(step_id)
        if step_id not in state.plan.steps or ex is None:
            raise BadRequestError("Step execution not found")
        if token not in ex.work_items:
            raise BadRequestError("Work item not found for token")
        outcome = parse_webhook(content_type, body)
        return decide.on_result(state, env, step_id, token, outcome)

    return decision
