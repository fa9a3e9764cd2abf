"""An optional input with a collection deadline: don't wait for a slow service.

``render-email`` requires a ``profile`` and takes optional ``preferences``
with ``deadline: 300`` ms and default ``{"format": "text"}``. The deadline
starts when the step's required inputs are ready. The preferences service
takes 800 ms, so the step starts at the deadline with the default; the late
preferences still enter the flow (and the flow completes once that step has
finished), but ``render-email`` is not run again.

The profile and preferences endpoints are served by this script on a loopback
port.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/deadlines.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import datetime
from typing import Any

import httpx
from example_support import serve, upsert, wait_done
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def profile(request: Request) -> Response:
    return JSONResponse({"profile": {"name": "Ada", "email": "ada@example.com"}})


async def preferences(request: Request) -> Response:
    await asyncio.sleep(0.8)  # slower than the deadline
    return JSONResponse({"preferences": {"format": "html"}})


def steps(url: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "load-profile",
            "name": "Load profile",
            "type": "sync",
            "attributes": {"profile": {"role": "output", "type": "object"}},
            "http": {"endpoint": url + "/profile", "timeout": 5000},
        },
        {
            "id": "load-preferences",
            "name": "Load preferences",
            "type": "sync",
            "attributes": {"preferences": {"role": "output", "type": "object"}},
            "http": {"endpoint": url + "/preferences", "timeout": 5000},
        },
        {
            "id": "render-email",
            "name": "Render email",
            "type": "script",
            "attributes": {
                "profile": {"role": "required", "type": "object"},
                "preferences": {
                    "role": "optional",
                    "type": "object",
                    "optional": {"default": '{"format": "text"}', "deadline": 300},
                },
                "rendered_email": {"role": "output", "type": "string"},
            },
            "script": {
                "language": "lua",
                "script": "return {rendered_email = preferences.format .. ' mail for ' .. "
                "profile.email}",
            },
        },
    ]


def main(engine_url: str) -> dict[str, Any]:
    """Render the email; return what was used and how long the step waited."""
    stop, url = serve(
        Starlette(
            routes=[
                Route("/profile", profile, methods=["POST"]),
                Route("/preferences", preferences, methods=["POST"]),
            ]
        )
    )
    try:
        with httpx.Client(base_url=engine_url, timeout=10) as http:
            for step in steps(url):
                upsert(http, step)
            flow_id = f"email-{uuid.uuid4().hex[:8]}"
            http.post(
                "/engine/flow", json={"id": flow_id, "goals": ["render-email"]}
            ).raise_for_status()
            state = wait_done(http, flow_id)
            events = http.get(f"/engine/flow/{flow_id}/events").json()["events"]

            def when(kind: str, step_id: str) -> datetime:
                return next(
                    datetime.fromisoformat(e["timestamp"])
                    for e in events
                    if e["type"] == kind and e["data"].get("step_id") == step_id
                )

            profile_at = when("attribute_set", "load-profile")
            render_at = when("step_started", "render-email")
            return {
                "status": state["status"],
                "rendered_email": state["attributes"]["rendered_email"][0]["value"],
                "waited_ms": int((render_at - profile_at).total_seconds() * 1000),
                "late_preferences": state["attributes"]["preferences"][0]["value"],
            }
    finally:
        stop()


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
