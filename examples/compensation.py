"""Compensation: undo the reservations that succeeded when a later one fails.

``reserve-stock`` reserves each SKU of an order as one work item (for_each,
one at a time). The inventory service rejects the third SKU, so the step
fails; the engine then calls the step's ``compensate`` URL,
``/release/{reservation_id}``, for each of the two items that succeeded. The
placeholder is filled from the item's outputs (outputs win over inputs), the
body is ``{"input": ..., "output": ...}``, and the ``Argyll-Receipt-Token``
header carries the item's token, to be used as the idempotency key.

The flow fails as soon as the step fails, but it is deactivated only once
both compensations have finished.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/compensation.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import httpx
from example_support import serve, upsert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class Inventory:
    """Reserves SKUs (rejecting out-of-stock ones) and releases reservations."""

    def __init__(self, out_of_stock: str) -> None:
        self.out_of_stock = out_of_stock
        self.released: list[dict[str, Any]] = []

    async def reserve(self, request: Request) -> Response:
        args = await request.json()
        if args["sku"] == self.out_of_stock:
            return JSONResponse(
                {"title": "Out of stock", "detail": f"{args['sku']} is out of stock"},
                status_code=422,
                media_type="application/problem+json",
            )
        return JSONResponse({"reservation_id": f"res-{args['sku']}"})

    async def release(self, request: Request) -> Response:
        body = await request.json()
        self.released.append(
            {
                "path": request.url.path,
                "body": body,
                "token": request.headers["argyll-receipt-token"],
            }
        )
        return Response(status_code=204)


def wait_deactivated(http: httpx.Client, flow_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        state: dict[str, Any] = http.get(f"/engine/flow/{flow_id}").json()
        if state["deactivated_at"] != "0001-01-01T00:00:00Z":
            return state
        time.sleep(0.05)
    raise TimeoutError(flow_id)


def main(engine_url: str) -> dict[str, Any]:
    """Reserve three SKUs, the third out of stock; return what was released."""
    inventory = Inventory(out_of_stock="sku-3")
    stop, url = serve(
        Starlette(
            routes=[
                Route("/reserve", inventory.reserve, methods=["POST"]),
                Route("/release/{reservation_id}", inventory.release, methods=["POST"]),
            ]
        )
    )
    try:
        with httpx.Client(base_url=engine_url, timeout=10) as http:
            upsert(
                http,
                {
                    "id": "reserve-stock",
                    "name": "Reserve stock",
                    "type": "sync",
                    "attributes": {
                        "order_skus": {
                            "role": "required",
                            "type": "array",
                            "required": {"for_each": True, "mapping": {"name": "sku"}},
                        },
                        "reservation_id": {"role": "output", "type": "string"},
                    },
                    "http": {
                        "endpoint": url + "/reserve",
                        "compensate": url + "/release/{reservation_id}",
                        "timeout": 5000,
                    },
                    # compensation retries 5xx answers with these settings too
                    "work_config": {"max_retries": 5, "init_backoff": 200, "max_backoff": 2000},
                },
            )
            flow_id = f"order-{uuid.uuid4().hex[:8]}"
            http.post(
                "/engine/flow",
                json={
                    "id": flow_id,
                    "goals": ["reserve-stock"],
                    "init": {"order_skus": [["sku-1", "sku-2", "sku-3"]]},
                },
            ).raise_for_status()
            state = wait_deactivated(http, flow_id)
            items = state["executions"]["reserve-stock"]["work_items"].values()
            return {
                "status": state["status"],
                "error": state["error"],
                "item_statuses": [item["status"] for item in items],
                "released": sorted(r["path"] for r in inventory.released),
                "bodies": sorted(
                    (r["body"] for r in inventory.released), key=lambda b: b["input"]["sku"]
                ),
            }
    finally:
        stop()


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
