"""Greeting: a sync HTTP step served by the SDK's step server.

The handler receives the flow's ``guest_name`` and returns a ``greeting``.

To run it, start an engine (``python -m argyll serve``) and then either

- ``scripts/python examples/sdk_greeting_server.py`` to serve the step in the
  background, run one flow through it and print the greeting; or
- ``scripts/python examples/sdk_greeting_server.py --serve`` to register the step and
  serve it on ``STEP_PORT`` (default 8081) until Ctrl-C, as a real step
  service would (``STEP_HOSTNAME`` sets the host name the engine calls back).

``ENGINE_URL`` selects another engine (default ``http://localhost:8080``).
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

from argyll import AttributeType, Client, StepBuilder, StepContext
from argyll.errors import HTTPError


def greet(ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
    """The step handler: inputs in, outputs out."""
    name = args.get("guest_name")
    if not isinstance(name, str) or not name.strip():
        # A 4xx is a permanent failure: retrying cannot fix the input.
        raise HTTPError(422, "guest_name must be a non-empty string")
    return {"greeting": f"Hello, {name}!"}


def greeting_step(client: Client) -> StepBuilder:
    """The step definition; ``start``/``serve`` fill in the endpoint."""
    return (
        client.new_step()
        .with_name("Greeting")
        .required("guest_name", AttributeType.STRING)
        .output("greeting", AttributeType.STRING)
        .with_label("example", "sdk")
    )


def main(engine_url: str, guest_name: str = "Ada") -> str:
    """Serve the step in the background, run one flow and return the greeting."""
    with Client(engine_url) as client:
        builder = greeting_step(client)
        with builder.serve(greet) as server:
            print(f"serving {server.endpoint}")
            flow = (
                client.new_flow(f"greeting-{uuid.uuid4().hex[:8]}")
                .with_goals(builder.step_id)
                .with_initial_state({"guest_name": [guest_name]})
                .start()
            )
            state = flow.wait(timeout=30)
        if state["status"] != "completed":
            raise RuntimeError(f"flow {flow.flow_id} failed: {state.get('error')}")
        greeting: str = state["attributes"]["greeting"][0]["value"]
        return greeting


def serve_forever(engine_url: str) -> None:
    """Register the step and serve it until SIGINT/SIGTERM."""
    with Client(engine_url) as client:
        greeting_step(client).start(greet)


if __name__ == "__main__":
    url = os.environ.get("ENGINE_URL", "http://localhost:8080")
    if "--serve" in sys.argv[1:]:
        serve_forever(url)
    else:
        print(main(url))
