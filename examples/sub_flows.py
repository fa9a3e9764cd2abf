"""Sub-flows: a flow step runs a child flow and maps values in and out by name.

``authorize-payment`` is a ``flow`` step whose child goal is
``approve-payment``. Its child plan (``validate-card`` then
``approve-payment``) is computed once, when the parent flow is planned, and
stored in the parent plan under ``children``.

Each work item of the flow step starts one child flow with the ID
``<parent flow>:<step>:<token>``. The child's init holds the step's
arguments under their inner names: ``checkout_card`` goes in as ``card_number``,
``checkout_total`` as ``amount``. When the child completes, the parent output
``payment_authorized`` is read from the child attribute ``approved``. Child
flows are hidden from the flow list and query, but readable by ID.

Both child steps are scripts, so no step server is needed.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/sub_flows.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
from example_support import upsert, wait_done

STEPS: list[dict[str, Any]] = [
    {
        "id": "validate-card",
        "name": "Validate card",
        "type": "script",
        "attributes": {
            "card_number": {"role": "required", "type": "string"},
            "card_valid": {"role": "output", "type": "boolean"},
        },
        "script": {"language": "ale", "script": "{:card_valid (= (length card_number) 16)}"},
    },
    {
        "id": "approve-payment",
        "name": "Approve payment",
        "type": "script",
        "attributes": {
            "card_valid": {"role": "required", "type": "boolean"},
            "amount": {"role": "required", "type": "number"},
            "approved": {"role": "output", "type": "boolean"},
        },
        "script": {"language": "lua", "script": "return {approved = card_valid and amount <= 500}"},
    },
    {
        "id": "authorize-payment",
        "name": "Authorize payment",
        "type": "flow",
        "flow": {"goals": ["approve-payment"]},
        "attributes": {
            "checkout_card": {
                "role": "required",
                "required": {"mapping": {"name": "card_number"}},
            },
            "checkout_total": {"role": "required", "required": {"mapping": {"name": "amount"}}},
            "payment_authorized": {
                "role": "output",
                "output": {"mapping": {"name": "approved"}},
            },
        },
    },
]


def main(engine_url: str) -> dict[str, Any]:
    """Authorize one payment through a child flow; return the parent and child outcome."""
    with httpx.Client(base_url=engine_url, timeout=10) as http:
        for step in STEPS:
            upsert(http, step)
        flow_id = f"checkout-{uuid.uuid4().hex[:8]}"
        http.post(
            "/engine/flow",
            json={
                "id": flow_id,
                "goals": ["authorize-payment"],
                "init": {"checkout_card": ["4111111111111111"], "checkout_total": [120]},
            },
        ).raise_for_status()
        state = wait_done(http, flow_id)
        (token,) = state["executions"]["authorize-payment"]["work_items"]
        child_id = f"{flow_id}:authorize-payment:{token}"
        child = http.get(f"/engine/flow/{child_id}").json()
        listed = [f["id"] for f in http.get("/engine/flow").json()]
        return {
            "status": state["status"],
            "payment_authorized": state["attributes"]["payment_authorized"][0]["value"],
            "child_plan_steps": sorted(state["plan"]["children"]["authorize-payment"]["steps"]),
            "child_status": child["status"],
            "child_inputs": {
                name: values[0]["value"]
                for name, values in child["attributes"].items()
                if name in ("card_number", "amount")
            },
            "child_parent": child["metadata"]["parent_flow_id"] == flow_id,
            "child_listed": child_id in listed,
        }


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
