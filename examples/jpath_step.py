"""A jpath script step: pick the order items that have a quantity, with the SDK.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/jpath_step.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from argyll import AttributeType, Client, ScriptLanguage


def main(engine_url: str) -> dict[str, Any]:
    """Register the jpath step, run a flow through it, return the picked items."""
    with Client(engine_url) as client:
        (
            client.new_step()
            .with_id("jpath-pick-items")
            .with_name("Pick items")
            .required("jp_order", AttributeType.OBJECT, inner_name="order")
            .output("jp_picked", AttributeType.ARRAY)
            .with_script_language(ScriptLanguage.JPATH, "$.order.items[?@.qty > 0]")
            .update()  # register, or replace the version a previous run registered
            .register()
        )
        items = [{"sku": "pen", "qty": 2}, {"sku": "ink", "qty": 0}, {"sku": "pad", "qty": 1}]
        order = {"items": items}
        flow = (
            client.new_flow(f"jpath-{uuid.uuid4().hex[:8]}")
            .with_goals("jpath-pick-items")
            .with_initial_state({"jp_order": [order]})
            .start()
        )
        state = flow.wait(timeout=15)
        return {"status": state["status"], "picked": state["attributes"]["jp_picked"][0]["value"]}


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
