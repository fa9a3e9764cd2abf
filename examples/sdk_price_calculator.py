"""Price calculator: an Ale script step that the engine runs itself.

Registers the script step "Price Calculator" (``order_total = unit_price *
quantity - discount``, with ``discount`` optional and defaulting to 0),
previews the plan, starts a flow for it and waits for the total. No step
server is involved: script steps run inside the engine.

To run it, start an engine (``python -m argyll serve``) and then::

    scripts/python examples/sdk_price_calculator.py

``ENGINE_URL`` selects another engine (default ``http://localhost:8080``).
"""

from __future__ import annotations

import os
import uuid

from argyll import AttributeType, Client

PRICE_SCRIPT = "{:order_total (- (* unit_price quantity) discount)}"


def main(engine_url: str, unit_price: float = 12.5, quantity: int = 4) -> float:
    """Register the step, run one flow and return its ``order_total``."""
    with Client(engine_url) as client:
        step = (
            client.new_step()
            .with_name("Price Calculator")
            .required("unit_price", AttributeType.NUMBER)
            .required("quantity", AttributeType.NUMBER)
            .optional("discount", AttributeType.NUMBER, "0")
            .output("order_total", AttributeType.NUMBER)
            .with_script(PRICE_SCRIPT)
            .with_label("example", "sdk")
            .register()
        )
        plan = client.plan([step.id], {"unit_price": [unit_price]})
        print(f"still needed to run {step.id}: {plan['required']}")

        flow = (
            client.new_flow(f"price-{uuid.uuid4().hex[:8]}")
            .with_goals(step.id)
            .with_initial_state({"unit_price": [unit_price], "quantity": [quantity]})
            .start()
        )
        state = flow.wait(timeout=30)
        if state["status"] != "completed":
            raise RuntimeError(f"flow {flow.flow_id} failed: {state.get('error')}")
        total: float = state["attributes"]["order_total"][0]["value"]
        return total


if __name__ == "__main__":
    print(f"order_total: {main(os.environ.get('ENGINE_URL', 'http://localhost:8080'))}")
