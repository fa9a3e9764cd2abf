"""What an operator sees: version, the OpenAPI document, metrics after a flow, paging.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/operations.py`` (set ENGINE_URL to use another engine, and
ARGYLL_TOKEN when the engine runs with API_TOKENS).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
from example_support import upsert, wait_done


def metric(text: str, name: str) -> float:
    """The value of an unlabelled metric in Prometheus text format."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def main(engine_url: str, token: str | None = None) -> dict[str, Any]:
    """Run one flow, then read the operator's endpoints; returns what they said."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=engine_url, headers=headers, timeout=10) as http:
        version = http.get("/version").json()
        print(f"engine {version['version']} on {version['store']} ({version['node_id']})")
        document = http.get("/openapi.json").json()
        print(f"OpenAPI {document['openapi']}: {len(document['paths'])} paths; docs at /docs")
        upsert(
            http,
            {
                "id": "ops-hello",
                "name": "Hello",
                "type": "script",
                "attributes": {"ops_greeting": {"role": "output", "type": "string"}},
                "script": {"language": "lua", "script": 'return {ops_greeting = "hello"}'},
            },
        )
        before = metric(http.get("/metrics").text, "argyll_flows_completed_total")
        flow_id = f"ops-{uuid.uuid4().hex[:8]}"
        http.post("/engine/flow", json={"id": flow_id, "goals": ["ops-hello"]}).raise_for_status()
        state = wait_done(http, flow_id)
        after = metric(http.get("/metrics").text, "argyll_flows_completed_total")
        print(f"flow {flow_id}: {state['status']}; completed flows {before:.0f} -> {after:.0f}")
        page = http.get("/engine/flow", params={"limit": 1})
        print(
            f"first page: {[f['id'] for f in page.json()]}, next cursor: "
            f"{page.headers.get('x-next-cursor', '(none)')[:16]}"
        )
        return {
            "status": state["status"],
            "completed_delta": after - before,
            "openapi": document["openapi"],
            "page_size": len(page.json()),
        }


if __name__ == "__main__":
    main(os.environ.get("ENGINE_URL", "http://localhost:8080"), os.environ.get("ARGYLL_TOKEN"))
