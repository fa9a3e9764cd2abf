"""for_each work items: one HTTP call per (region, product) pair, four at a time.

The ``price-pair`` step marks both ``regions`` and ``products`` as
``for_each``, so the engine runs one work item per element of their cartesian
product (3 x 2 = 6 items) and sends each item's pair to the step endpoint.
``work_config.parallelism`` lets four items run at once. When every item has
succeeded, the step's output is the aggregate: one entry per item, in creation
order, holding the item's ``for_each`` values and its output.

The example serves the step endpoint itself on a loopback port (starlette
under uvicorn in a background thread) and counts how many calls it serves at
the same moment.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/work_items.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from typing import Any

import httpx
from example_support import serve, upsert, wait_done
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BASE_PRICE = {"US": 10, "EU": 12, "APAC": 15}
FACTOR = {"A": 1, "B": 2}


class PriceService:
    """Prices one pair per call and records the peak number of concurrent calls."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0

    async def price(self, request: Request) -> Response:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            args = await request.json()
            await asyncio.sleep(0.05)  # some I/O, so that items overlap
            return JSONResponse({"price": BASE_PRICE[args["region"]] * FACTOR[args["product"]]})
        finally:
            with self.lock:
                self.running -= 1


def main(engine_url: str) -> dict[str, Any]:
    """Price every (region, product) pair; return the prices and the peak concurrency."""
    service = PriceService()
    stop, url = serve(Starlette(routes=[Route("/price", service.price, methods=["POST"])]))
    try:
        with httpx.Client(base_url=engine_url, timeout=10) as http:
            upsert(
                http,
                {
                    "id": "price-pair",
                    "name": "Price a region/product pair",
                    "type": "sync",
                    "attributes": {
                        "regions": {
                            "role": "required",
                            "type": "array",
                            # one item per element; the endpoint sees the element as "region"
                            "required": {"for_each": True, "mapping": {"name": "region"}},
                        },
                        "products": {
                            "role": "required",
                            "type": "array",
                            "required": {"for_each": True, "mapping": {"name": "product"}},
                        },
                        "pair_prices": {
                            "role": "output",
                            "output": {"mapping": {"name": "price"}},
                        },
                    },
                    "http": {"endpoint": url + "/price", "timeout": 5000},
                    "work_config": {"parallelism": 4},
                },
            )
            flow_id = f"prices-{uuid.uuid4().hex[:8]}"
            http.post(
                "/engine/flow",
                json={
                    "id": flow_id,
                    "goals": ["price-pair"],
                    # one list per attribute; each list holds one value, here an array
                    "init": {"regions": [["US", "EU", "APAC"]], "products": [["A", "B"]]},
                },
            ).raise_for_status()
            state = wait_done(http, flow_id)
            # [{"products": "A", "regions": "US", "price": 10}, ...] in creation order
            prices = state["attributes"]["pair_prices"][0]["value"]
            return {
                "status": state["status"],
                "prices": [(p["regions"], p["products"], p["price"]) for p in prices],
                "peak_concurrency": service.peak,
            }
    finally:
        stop()


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
