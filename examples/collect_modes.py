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
``scripts/python examples/collect_modes.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import httpx
from example_support import serve, upsert, wait_done
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
