"""Quiet, quick health gating (HEALTH-6 as revised), in process against a real step service.

The observed defect: a flow waiting on an unhealthy step wrote a durable
``dispatch_deferred`` every second (a one-step flow ended with 51 events),
and the step was only probed again at the next periodic round (30 s).
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgi_engine import asgi_engine, wait_for
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import StepServer


class Service:
    """Health answers 500 until ``healthy`` is set; the step echoes ``n``."""

    def __init__(self) -> None:
        self.healthy = False
        self.health_hits = 0

    def app(self) -> Starlette:
        async def health(_: Request) -> JSONResponse:
            self.health_hits += 1
            if self.healthy:
                return JSONResponse({"status": "ok"})
            return JSONResponse({"error": "db down"}, status_code=500)

        async def step(request: Request) -> JSONResponse:
            return JSONResponse({"hg_echoed": (await request.json())["hg_n"]})

        return Starlette(routes=[Route("/health", health), Route("/step", step, methods=["POST"])])


def step_body(url: str) -> dict[str, Any]:
    return {
        "id": "hg-svc",
        "name": "gated service",
        "type": "sync",
        "attributes": {"hg_n": {"role": "required"}, "hg_echoed": {"role": "output"}},
        "http": {"endpoint": f"{url}/step", "health_check": f"{url}/health"},
    }


def test_gated_flow_records_one_deferral_with_reason_and_reprobes_quickly() -> None:
    service = Service()

    async def body() -> None:
        # A 30 s checker interval: only the quick probes can explain what follows.
        async with asgi_engine(health_interval_ms=30_000) as (_engine, client):
            assert (await client.post("/engine/step", json=step_body(url))).status_code == 201

            async def health() -> dict[str, Any]:
                return dict((await client.get("/engine/health/hg-svc")).json())

            # registering probes at once
            unhealthy = await wait_for(
                lambda: _when(health(), lambda h: h["status"] == "unhealthy"), timeout=5
            )
            assert "500" in unhealthy["error"]
            r = await client.post(
                "/engine/flow", json={"id": "hg-flow", "goals": ["hg-svc"], "init": {"hg_n": [5]}}
            )
            assert r.status_code == 201

            async def state() -> dict[str, Any]:
                return dict((await client.get("/engine/flow/hg-flow")).json())

            waiting = await wait_for(
                lambda: _when(state(), lambda s: s["executions"]["hg-svc"].get("waiting")),
                timeout=5,
            )
            # the flow's state shows why the step waits: its health error
            assert "500" in waiting["executions"]["hg-svc"]["waiting"]
            hits = service.health_hits
            # the gated step is re-probed after about 1 s, not after 30 s; the
            # dispatch was retried meanwhile without writing anything
            await wait_for(lambda: _true(service.health_hits >= hits + 1), timeout=5)
            service.healthy = True
            done = await wait_for(
                lambda: _when(state(), lambda s: s["status"] == "completed"), timeout=8
            )
            assert "waiting" not in done["executions"]["hg-svc"]
            assert done["attributes"]["hg_echoed"][0]["value"] == 5
            events = (await client.get("/engine/flow/hg-flow/events")).json()["events"]
            deferred = [e for e in events if e["type"] == "dispatch_deferred"]
            assert len(deferred) == 1, [e["type"] for e in events]
            assert deferred[0]["data"]["step_id"] == "hg-svc"
            assert "500" in deferred[0]["data"]["reason"]
            assert len(events) < 12, [e["type"] for e in events]

    with StepServer(service.app()) as server:
        url = server.url
        asyncio.run(body())


async def _when(value: Any, test: Any) -> Any:
    got = await value
    return got if test(got) else None


async def _true(flag: bool) -> bool:
    return flag
