"""A sync HTTP step and an async HTTP step completed through its webhook.

The example serves both step endpoints itself on a loopback port (starlette
under uvicorn in a background thread). The async endpoint answers 202 at
once and posts its result to the ``Argyll-Webhook-URL`` a moment later.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/http_steps.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from typing import Any

import httpx
import uvicorn
from example_support import upsert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def lookup(request: Request) -> Response:
    """Sync step: the outputs are the response body."""
    customer = request.path_params["customer_id"]
    return JSONResponse({"customer": {"id": customer, "tier": "gold"}})


async def ship(request: Request) -> Response:
    """Async step: accept now, report through the webhook later."""
    hook = request.headers["argyll-webhook-url"]
    args = await request.json()

    async def later() -> None:
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient() as client:
            await client.post(hook, json={"tracking": f"TRK-{args['customer']['id']}"})

    asyncio.get_running_loop().create_task(later())
    return Response(status_code=202)


def serve() -> tuple[uvicorn.Server, threading.Thread, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = Starlette(
        routes=[
            Route("/customers/{customer_id}", lookup, methods=["POST"]),
            Route("/ship", ship, methods=["POST"]),
        ]
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


def main(engine_url: str) -> dict[str, Any]:
    """Run a flow through a sync and an async step; return the tracking number."""
    server, thread, url = serve()
    try:
        with httpx.Client(base_url=engine_url, timeout=10) as http:
            upsert(
                http,
                {
                    "id": "lookup-customer",
                    "name": "Lookup customer",
                    "type": "sync",
                    "attributes": {
                        "customer_id": {"role": "required", "type": "string"},
                        "customer": {"role": "output", "type": "object"},
                    },
                    "http": {"endpoint": url + "/customers/{customer_id}", "timeout": 5000},
                },
            )
            upsert(
                http,
                {
                    "id": "ship-order",
                    "name": "Ship order",
                    "type": "async",
                    "attributes": {
                        "customer": {"role": "required", "type": "object"},
                        "tracking": {"role": "output", "type": "string"},
                    },
                    "http": {"endpoint": url + "/ship"},
                    "work_config": {"max_retries": 3, "init_backoff": 200},
                },
            )
            flow_id = f"ship-{uuid.uuid4().hex[:8]}"
            http.post(
                "/engine/flow",
                json={
                    "id": flow_id,
                    "goals": ["ship-order"],
                    "init": {"customer_id": ["c-42"]},
                },
            ).raise_for_status()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                state: dict[str, Any] = http.get(f"/engine/flow/{flow_id}").json()
                if state["status"] != "active":
                    return {
                        "status": state["status"],
                        "tracking": state["attributes"]["tracking"][0]["value"],
                    }
                time.sleep(0.05)
            raise TimeoutError(flow_id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
