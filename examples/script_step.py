"""A script step in Lua and one in Ale, chained into one flow.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/script_step.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import httpx
from example_support import upsert


def wait(http: httpx.Client, flow_id: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = http.get(f"/engine/flow/{flow_id}").json()
        if state["status"] != "active":
            return state
        time.sleep(0.05)
    raise TimeoutError(flow_id)


def main(engine_url: str) -> dict[str, Any]:
    """Register a Lua and an Ale step, run a flow through both, return its result."""
    with httpx.Client(base_url=engine_url, timeout=10) as http:
        upsert(
            http,
            {
                "id": "subtotal",
                "name": "Subtotal",
                "type": "script",
                "attributes": {
                    "price": {"role": "required", "type": "number"},
                    "qty": {"role": "required", "type": "number"},
                    "subtotal": {"role": "output", "type": "number"},
                },
                "script": {"language": "lua", "script": "return {subtotal = price * qty}"},
            },
        )
        upsert(
            http,
            {
                "id": "with-tax",
                "name": "With tax",
                "type": "script",
                "attributes": {
                    "subtotal": {"role": "required", "type": "number"},
                    "rate": {"role": "optional", "type": "number", "optional": {"default": "0.2"}},
                    "total": {"role": "output", "type": "number"},
                    "label": {"role": "output", "type": "string"},
                },
                "script": {
                    "language": "ale",
                    "script": '{:total (* subtotal (+ 1 rate)) :label (str "total for " subtotal)}',
                },
            },
        )
        flow_id = f"order-{uuid.uuid4().hex[:8]}"
        http.post(
            "/engine/flow",
            json={
                "id": flow_id,
                "goals": ["with-tax"],
                "init": {"price": [10], "qty": [3]},
            },
        ).raise_for_status()
        state = wait(http, flow_id)
        result: dict[str, Any] = {
            k: v[0]["value"] for k, v in state["attributes"].items() if k in ("total", "label")
        }
        return result


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
