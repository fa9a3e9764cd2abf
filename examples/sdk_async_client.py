"""The async client: register, start, watch live and list flows with ``await``.

Registers a Lua script step "Shipping Quote" (``shipping_quote =
parcel_weight * shipping_rate``),
starts a few flows for it with the ``AsyncClient``, watches the first one
over the engine's WebSocket (its state, then each event until it ends),
waits for the rest, lists them by label across cursor pages and reads one
flow's event history. No step server: script steps run in the engine.

To run it, start an engine (``python -m argyll serve``) and then::

    scripts/python examples/sdk_async_client.py

``ENGINE_URL`` selects another engine (default ``http://localhost:8080``);
``ARGYLL_TOKEN``, when set, is sent as a bearer token.
"""

from __future__ import annotations

import asyncio
import uuid

from argyll import AsyncClient, AttributeType, FlowSnapshot, FlowStatus, ScriptLanguage


async def quote_all(
    engine_url: str | None = None, weights: tuple[float, ...] = (1, 2.5, 4)
) -> dict[str, float]:
    """Run one flow per weight; return ``{flow id: quote}``."""
    batch = uuid.uuid4().hex[:8]
    async with AsyncClient(engine_url) as client:
        step = await (
            client.new_step("Shipping Quote")
            .required("parcel_weight", AttributeType.NUMBER)
            .optional("shipping_rate", AttributeType.NUMBER, 3)  # a plain value: encoded for you
            .output("shipping_quote", AttributeType.NUMBER)
            .with_script_language(
                ScriptLanguage.LUA, "return {shipping_quote = parcel_weight * shipping_rate}"
            )
            .register()
        )
        flows = [
            await client.new_flow(f"quote-{batch}-{i}")
            .with_goals(step.id)
            .with_initial_state({"parcel_weight": [weight]})
            .with_labels({"batch": batch})
            .start()
            for i, weight in enumerate(weights)
        ]

        async for item in flows[0].watch(timeout=30):
            if isinstance(item, FlowSnapshot):
                print(f"{flows[0].flow_id}: {item.state.status} at sequence {item.sequence}")
            else:
                print(f"{flows[0].flow_id}: {item.type}")

        quotes = {}
        for flow in flows:
            state = await flow.wait(timeout=30)
            if state.status is not FlowStatus.COMPLETED:
                raise RuntimeError(f"flow {flow.flow_id} failed: {state.error}")
            quotes[flow.flow_id] = state.value("shipping_quote")

        listed = [
            summary.id async for summary in client.flows(labels={"batch": batch}, page_size=2)
        ]
        print(f"flows labelled batch={batch}: {sorted(listed)}")
        history = await flows[0].events()
        print(f"{flows[0].flow_id} has {len(history)} events, the last {history[-1].type}")
        return quotes


def main(engine_url: str | None = None) -> dict[str, float]:
    """``quote_all`` on a fresh event loop (``None``: ``ENGINE_URL``)."""
    return asyncio.run(quote_all(engine_url))


if __name__ == "__main__":
    for flow_id, quote in main().items():
        print(f"{flow_id}: quote {quote}")
