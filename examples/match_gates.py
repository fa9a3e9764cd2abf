"""Required match gates as lazy routing: one contact, three senders, one runs.

``route-contact`` (a Lua script) produces a ``contact`` object. Three sender
steps require ``contact`` with a ``match`` script, one in each language:

- ``send-postal``: Lua, ``return value.channel == "postal"``
- ``send-email``:  Ale, ``(eq (:channel value) "email")``
- ``send-sms``:    JPath, ``$.channel == "sms"`` (the candidate is the document)

All three are goals. Once ``route-contact`` has finished, the senders whose
gate does not match are skipped with ``required match did not match``; the
flow completes because not every goal was pruned. No step server is needed.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/match_gates.py [channel]`` (set ENGINE_URL to use another
engine; channel is postal, email or sms, default email).
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

import httpx
from example_support import upsert, wait_done

GATES = {
    "postal": ("lua", 'return value.channel == "postal"'),
    "email": ("ale", '(eq (:channel value) "email")'),
    "sms": ("jpath", '$.channel == "sms"'),
}


def steps() -> list[dict[str, Any]]:
    route = {
        "id": "route-contact",
        "name": "Route a contact",
        "type": "script",
        "attributes": {
            "preferred_channel": {"role": "required", "type": "string"},
            "contact": {"role": "output", "type": "object"},
        },
        "script": {
            "language": "lua",
            "script": "return {contact = {channel = preferred_channel, to = 'customer-42'}}",
        },
    }
    senders = [
        {
            "id": f"send-{channel}",
            "name": f"Send by {channel}",
            "type": "script",
            "attributes": {
                "contact": {
                    "role": "required",
                    "type": "object",
                    "required": {"match": {"language": language, "script": source}},
                },
                f"sent_{channel}": {"role": "output", "type": "string"},
            },
            "script": {"language": "ale", "script": f"{{:sent_{channel} (:to contact)}}"},
        }
        for channel, (language, source) in GATES.items()
    ]
    return [route, *senders]


def main(engine_url: str, channel: str = "email") -> dict[str, Any]:
    """Route one contact; return which sender ran and which were skipped."""
    with httpx.Client(base_url=engine_url, timeout=10) as http:
        for step in steps():
            upsert(http, step)
        flow_id = f"notify-{uuid.uuid4().hex[:8]}"
        http.post(
            "/engine/flow",
            json={
                "id": flow_id,
                "goals": [f"send-{c}" for c in GATES],
                "init": {"preferred_channel": [channel]},
            },
        ).raise_for_status()
        state = wait_done(http, flow_id)
        executions = state["executions"]
        return {
            "status": state["status"],
            "sent": {
                s: ex["outputs"]
                for s, ex in executions.items()
                if s.startswith("send-") and ex.get("outputs")
            },
            "skipped": sorted(
                s
                for s, ex in executions.items()
                if ex.get("error") == "required match did not match"
            ),
        }


if __name__ == "__main__":
    engine = os.environ.get("ENGINE_URL", "http://localhost:8080")
    print(main(engine, *sys.argv[1:2]))
