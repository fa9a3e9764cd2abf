"""Collection policies: one attribute, three providers, two consumers.

Three vendor steps each produce a ``quote``. Two goals consume it:

- ``pick-cheapest`` collects with ``some``: it waits until every vendor step
  has finished and receives the list of quotes that were produced (a vendor
  that fails simply contributes nothing);
- ``quick-estimate`` collects with ``first``: it runs on the first quote.

Collection policies are ``first`` (default), ``last``, ``some``, ``all``
(every provider must succeed with a value) and ``none`` (no provider may
produce a value). See docs/guides/collect.md.

The vendor endpoints are served by this script on a loopback port; vendor
``c`` is down (HTTP 422), vendor ``b`` is slow.

To run things: start the engine (``scripts/serve``), then
``python examples/collect_modes.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PRICES = {"a": 120, "b": 95}


async def quote(request: Request) -> Response:
    vendor = request.path_params["vendor"]
    if vendor == "b":
        await asyncio.sleep(0.3)
    if vendor not in PRICES:
        return JSONResponse({"title": "vendor unavailable"}, status_code=422)
    return JSONResponse({"quote": {"vendor": vendor, "price": PRICES[vendor]}})


def serve(app: Starlette) -> tuple[Callable[[], None], str]:
    """Serve ``app`` on a free loopback port in a thread; returns (stop, base URL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)  # let it shut down before the interpreter does

    return stop, f"http://127.0.0.1:{port}"


def upsert(http: httpx.Client, step: dict[str, Any]) -> None:
    """Register a step, or update it when a different version is registered (409)."""
    response = http.post("/engine/step", json=step)
    if response.status_code == 409:
        response = http.put(f"/engine/step/{step['id']}", json=step)
    response.raise_for_status()


def wait_done(http: httpx.Client, flow_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state: dict[str, Any] = http.get(f"/engine/flow/{flow_id}").json()
        if state["deactivated_at"] != "0001-01-01T00:00:00Z":
            return state
        time.sleep(0.05)
    raise TimeoutError(flow_id)


def steps(url: str) -> list[dict[str, Any]]:
    vendors = [
        {
            "id": f"quote-vendor-{v}",
            "name": f"Quote from vendor {v}",
            "type": "sync",
            "attributes": {"quote": {"role": "output", "type": "object"}},
            "http": {"endpoint": f"{url}/quote/{v}", "timeout": 5000},
        }
        for v in ("a", "b", "c")
    ]
    cheapest = {
        "id": "pick-cheapest",
        "name": "Pick the cheapest quote",
        "type": "script",
        "attributes": {
            "quote": {"role": "required", "type": "object", "required": {"collect": "some"}},
            "cheapest": {"role": "output", "type": "object"},
        },
        "script": {
            "language": "lua",
            # with collect "some" the input is the list of quotes
            "script": "local best = quote[1] "
            "for _, q in ipairs(quote) do if q.price < best.price then best = q end end "
            "return {cheapest = best}",
        },
    }
    estimate = {
        "id": "quick-estimate",
        "name": "Estimate from the first quote",
        "type": "script",
        "attributes": {
            "quote": {"role": "required", "type": "object"},  # collect "first"
            "estimate": {"role": "output", "type": "number"},
        },
        "script": {"language": "ale", "script": "{:estimate (:price quote)}"},
    }
    return [*vendors, cheapest, estimate]


def main(engine_url: str) -> dict[str, Any]:
    """Run both consumers; return what each received and what became of the vendors."""
    stop, url = serve(Starlette(routes=[Route("/quote/{vendor}", quote, methods=["POST"])]))
    try:
        with httpx.Client(base_url=engine_url, timeout=10) as http:
            for step in steps(url):
                upsert(http, step)
            flow_id = f"quotes-{uuid.uuid4().hex[:8]}"
            http.post(
                "/engine/flow", json={"id": flow_id, "goals": ["pick-cheapest", "quick-estimate"]}
            ).raise_for_status()
            state = wait_done(http, flow_id)
            ex = state["executions"]
            return {
                "status": state["status"],
                "cheapest": ex["pick-cheapest"]["outputs"]["cheapest"],
                "quotes_seen": len(ex["pick-cheapest"]["inputs"]["quote"]),
                "estimate": ex["quick-estimate"]["outputs"]["estimate"],
                "vendors": {v: ex[f"quote-vendor-{v}"]["status"] for v in ("a", "b", "c")},
            }
    finally:
        stop()


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
