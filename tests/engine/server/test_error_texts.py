"""Error texts a user sees carry no rule tags (CONV-3, CONV-5).

Rule tags such as ``API-21`` are for maintainers (docs/reference/rules/); a
user reads plain sentences. A sample of invalid requests goes through the
in-process ASGI app, plus one flow whose step fails; every answer, the
failed flow's state and every log record must be free of tags.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from asgi_engine import asgi_engine, wait_for

TAG = re.compile(r"\b[A-Z]+-\d+\b")

SCRIPT_STEP: dict[str, Any] = {
    "id": "boom",
    "name": "Boom",
    "type": "script",
    "attributes": {"n": {"role": "required", "type": "number"}},
    "script": {"language": "lua", "script": "error('no luck')"},
}

# (method, path, body or raw text) -> an answer of 400 or more
BAD_REQUESTS: list[tuple[str, str, Any]] = [
    ("POST", "/engine/step", "{not json"),
    ("POST", "/engine/step", {}),
    ("POST", "/engine/step", {"id": "x", "name": "X", "type": "nope"}),
    (
        "POST",
        "/engine/step",
        dict(SCRIPT_STEP, id="bad-lua", script={"language": "lua", "script": "return ("}),
    ),
    (
        "POST",
        "/engine/step",
        dict(SCRIPT_STEP, id="bad-lang", script={"language": "cobol", "script": "x"}),
    ),
    (
        "POST",
        "/engine/step",
        {
            "id": "late",
            "name": "Late",
            "type": "sync",
            "http": {"endpoint": "http://127.0.0.1:9/{missing}"},
            "attributes": {"o": {"role": "optional", "optional": {"deadline": -1}}},
        },
    ),
    (
        "POST",
        "/engine/step",
        dict(SCRIPT_STEP, attributes={"n": {"role": "required", "type": "string"}}),
    ),
    ("PUT", "/engine/step/boom", dict(SCRIPT_STEP, id="other")),
    ("PUT", "/engine/step/nope", dict(SCRIPT_STEP, id="nope")),
    ("GET", "/engine/step/nope", None),
    ("DELETE", "/engine/step/nope", None),
    ("GET", "/engine/health/nope", None),
    ("POST", "/engine/plan", {"goals": []}),
    ("POST", "/engine/plan", {"goals": ["nope"]}),
    ("POST", "/engine/flow", "[1, 2"),
    ("POST", "/engine/flow", {"id": "", "goals": ["boom"]}),
    ("POST", "/engine/flow", {"id": "f1", "goals": ["nope"]}),
    ("POST", "/engine/flow", {"id": "f2", "goals": ["boom"]}),
    ("POST", "/engine/flow", {"id": "f3", "goals": ["boom"], "init": {"n": 5}}),
    ("POST", "/engine/flow", {"id": "x" * 300, "goals": ["boom"]}),
    ("POST", "/engine/flow/query", {"sort": "sideways"}),
    ("POST", "/engine/flow/query", {"limit": 5000}),
    ("POST", "/engine/flow/query", {"statuses": ["asleep"]}),
    ("POST", "/engine/flow/query", {"cursor": "%%%"}),
    ("POST", "/engine/flow/query", {"id_prefix": "a/b"}),
    ("GET", "/engine/flow/nope", None),
    ("GET", "/engine/flow/nope/status", None),
    ("GET", "/engine/flow/nope/events", None),
    ("POST", "/webhook/nope/boom/token", {}),
    ("GET", "/nowhere", None),
]


async def _exercise() -> tuple[list[tuple[str, int, str]], dict[str, Any]]:
    answers: list[tuple[str, int, str]] = []
    async with asgi_engine() as (_, client):
        assert (await client.post("/engine/step", json=SCRIPT_STEP)).status_code == 201
        for method, path, body in BAD_REQUESTS:
            if isinstance(body, str):
                r = await client.request(
                    method, path, content=body, headers={"Content-Type": "application/json"}
                )
            else:
                r = await client.request(method, path, json=body)
            answers.append((f"{method} {path} {str(body)[:40]}", r.status_code, r.text))
        started = await client.post(
            "/engine/flow", json={"id": "fails", "goals": ["boom"], "init": {"n": [1]}}
        )
        assert started.status_code == 201, started.text

        async def finished() -> dict[str, Any] | None:
            state: dict[str, Any] = (await client.get("/engine/flow/fails")).json()
            return state if state["status"] != "active" else None

        state: dict[str, Any] = await wait_for(finished)
    return answers, state


def test_error_answers_states_and_logs_carry_no_rule_tags(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="argyll"):
        answers, state = asyncio.run(_exercise())
    for request, status, text in answers:
        assert status >= 400, (request, status, text)
        assert TAG.search(text) is None, (request, text)
    assert state["status"] == "failed"
    assert "no luck" in state["error"]
    failed = state["executions"]["boom"]
    assert "no luck" in failed["error"]
    assert TAG.search(str(state["error"]) + str(failed)) is None
    for record in caplog.records:
        assert TAG.search(record.getMessage()) is None, record.getMessage()
