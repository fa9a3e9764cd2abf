"""Watch a flow live over the engine's WebSocket (``GET /engine/ws``).

Subscribes to one flow with ``include_state``: the first reply carries the
flow's current state and the sequence the live stream continues from, so the
script prints what already happened and then every new event as it is
committed, until the flow is deactivated (no work can still change it).

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/monitor_flow.py`` to start a small demo flow and watch it,
or ``scripts/python examples/monitor_flow.py <flow id>`` to watch an existing one
(set ENGINE_URL to use another engine). ``websockets`` comes with
``uvicorn[standard]``, which the engine already installs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import connect

ZERO_TIME = "0001-01-01T00:00:00Z"


def describe(event: dict[str, Any]) -> str:
    """One line per event: sequence, type and the interesting part of the payload."""
    data = event["data"]
    detail = ""
    if "step_id" in data:
        detail = f" step={data['step_id']}"
    if event["type"] in ("attribute_set",):
        detail += f" {data['key']}={json.dumps(data['value'])}"
    if event["type"] in ("flow_completed",):
        detail += f" result={json.dumps(data['result'])}"
    if "error" in data:
        detail += f" error={data['error']!r}"
    return f"#{event['sequence']:<3} {event['type']}{detail}"


async def watch(engine_url: str, flow_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Print the flow's state, then its events until ``flow_deactivated``; return the events."""
    url = engine_url.replace("http://", "ws://").replace("https://", "wss://") + "/engine/ws"
    events: list[dict[str, Any]] = []
    async with connect(url) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "subscribe",
                    "data": {
                        "sub_id": "monitor",
                        "aggregate_ids": [["flow", flow_id]],
                        "include_state": True,
                    },
                }
            )
        )
        reply = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if not reply["items"]:
            print(f"flow {flow_id} does not exist (yet); waiting for it to start")
        for item in reply["items"]:
            state = item["data"]
            done = [s for s, x in state["executions"].items() if x.get("status") == "completed"]
            print(
                f"flow {flow_id}: {state['status']}, {len(done)} step(s) completed, "
                f"live from sequence {item['sequence']}"
            )
            if state["deactivated_at"] != ZERO_TIME:
                return events  # nothing more will happen to it
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if message["type"] == "error":
                raise RuntimeError(message["error"])
            events.append(message)
            print(describe(message))
            if message["type"] == "flow_deactivated":
                return events


def main(engine_url: str, flow_id: str) -> list[dict[str, Any]]:
    """Watch ``flow_id`` on the engine at ``engine_url``; returns the events seen live."""
    return asyncio.run(watch(engine_url, flow_id))


def start_demo(engine_url: str) -> str:
    """Register a two-step Lua chain and start a flow through it; returns its ID."""
    with httpx.Client(base_url=engine_url, timeout=10) as http:
        for step_id, source, arg, out in [
            # Attribute names of their own, so the demo runs on an engine that
            # already has the quickstart's `n` or other examples' steps.
            (
                "monitor-double",
                "return {monitor_doubled = monitor_n * 2}",
                "monitor_n",
                "monitor_doubled",
            ),
            (
                "monitor-label",
                'return {monitor_label = "got " .. monitor_doubled}',
                "monitor_doubled",
                "monitor_label",
            ),
        ]:
            step = {
                "id": step_id,
                "name": step_id,
                "type": "script",
                "attributes": {arg: {"role": "required"}, out: {"role": "output"}},
                "script": {"language": "lua", "script": source},
            }
            r = http.post("/engine/step", json=step)
            if r.status_code == 409:
                r = http.put(f"/engine/step/{step_id}", json=step)
            r.raise_for_status()
        flow_id = f"monitor-{uuid.uuid4().hex[:8]}"
        body = {"id": flow_id, "goals": ["monitor-label"], "init": {"monitor_n": [21]}}
        http.post("/engine/flow", json=body).raise_for_status()
        return flow_id


if __name__ == "__main__":
    engine = os.environ.get("ENGINE_URL", "http://localhost:8080")
    main(engine, sys.argv[1] if len(sys.argv) > 1 else start_demo(engine))
