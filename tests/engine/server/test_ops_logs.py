"""Logs tell a failing flow's story: access lines, flow info, step/retry debug, JSON format."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from ops_support import running
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import StepServer

from argyll.engine.config import Config
from argyll.engine.logfmt import JSONFormatter
from argyll.model.step import WorkConfig

SECRET = "s3cr3t-input-value"


def _unavailable_app() -> Starlette:
    async def step(_: Request) -> JSONResponse:
        return JSONResponse({"error": "backend down"}, status_code=503)

    return Starlette(routes=[Route("/step", step, methods=["POST"])])


async def _failing_flow(url: str) -> None:
    retry = WorkConfig(max_retries=2, init_backoff=10, max_backoff=20, backoff_type="fixed")
    async with running(Config(data_dir=None, retry=retry)) as r:
        step = {
            "id": "flaky",
            "name": "flaky",
            "type": "sync",
            "attributes": {"secret": {"role": "required"}, "out": {"role": "output"}},
            "http": {"endpoint": f"{url}/step"},
        }
        assert (await r.client.post("/engine/step", json=step)).status_code == 201
        body = {"id": "story-1", "goals": ["flaky"], "init": {"secret": [SECRET]}}
        assert (await r.client.post("/engine/flow", json=body)).status_code == 201
        assert await r.wait_status("story-1") == "failed"
        await r.client.post("/webhook/story-1/flaky/not-a-token", json={"out": SECRET})


def _messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


def test_failing_flow_story(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="argyll")
    with StepServer(_unavailable_app()) as server:
        asyncio.run(_failing_flow(server.url))
    info = _messages(caplog, logging.INFO)
    debug = _messages(caplog, logging.DEBUG)
    assert "flow story-1 started" in info
    failed = [m for m in info if m.startswith("flow story-1 failed after ")]
    assert failed and "status 503" in failed[0], info
    assert any(m.startswith("POST /engine/flow 201 ") and m.endswith("ms") for m in info)
    assert any(m.startswith("GET /engine/flow/story-1/status 200 ") for m in info)
    assert "step flaky started in flow story-1" in debug
    retries = [m for m in debug if "of step flaky in flow story-1 retry" in m]
    assert len(retries) == 2 and all("status 503" in m for m in retries), debug
    assert any(m.startswith("work ") and "failed" in m and "503" in m for m in debug)
    assert any(m.startswith("step flaky failed in flow story-1") for m in debug)
    assert any(m.startswith("webhook rejected: flow story-1 step flaky: 400") for m in debug)
    # Payloads never reach the log, not even at debug.
    assert not any(SECRET in r.getMessage() for r in caplog.records)


def test_json_format_is_one_object_per_line() -> None:
    formatter = JSONFormatter({"env": "test"})
    record = logging.LogRecord("argyll.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.status = 200
    line = formatter.format(record)
    assert "\n" not in line
    entry: dict[str, Any] = json.loads(line)
    assert entry["message"] == "GET /x" and entry["level"] == "info"
    assert entry["logger"] == "argyll.access" and entry["status"] == 200
    assert entry["env"] == "test" and entry["time"].endswith("+00:00")
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    entry = json.loads(formatter.format(failed))
    assert "ValueError: bad" in entry["exception"]


def test_compensation_and_deferred_dispatch_lines(caplog: pytest.LogCaptureFixture) -> None:
    from datetime import UTC, datetime

    from argyll.engine.server.flow_log import FlowLog
    from argyll.engine.store.base import StoredEvent

    def stored(seq: int, kind: str, **data: Any) -> StoredEvent:
        body = json.dumps({"flow_id": "c-1", "step_id": "charge", **data}).encode()
        return StoredEvent(("flow", "c-1"), seq, datetime.now(UTC), kind, body)

    caplog.set_level(logging.DEBUG, logger="argyll")
    FlowLog().on_events(
        [
            stored(0, "dispatch_deferred"),
            stored(1, "comp_started", token="t1"),
            stored(2, "comp_retry_scheduled", token="t1", retry_count=1, error="status 503"),
            stored(3, "comp_failed", token="t1", error="status 400"),
            stored(4, "comp_succeeded", token="t2"),
        ]
    )
    warnings = _messages(caplog, logging.WARNING)
    debug = _messages(caplog, logging.DEBUG)
    assert warnings == ["dispatch of step charge in flow c-1 deferred: the step is not healthy"]
    assert debug == [
        "compensating work t1 of step charge in flow c-1",
        "compensation of work t1 of step charge in flow c-1 retry 1 after: status 503",
        "compensation of work t1 of step charge in flow c-1 failed: status 400",
        "compensated work t2 of step charge in flow c-1",
    ]
