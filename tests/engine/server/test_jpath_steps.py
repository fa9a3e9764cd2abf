"""JPath script steps over HTTP, in process (JPATH-4 as revised, issue 16 item 1).

The issue's step, ``$.order.items[?@.qty > 0]`` over the step's input map,
registered and run through the real ASGI app on the memory store.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from asgi_engine import asgi_engine, wait_for

ORDER = {"items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 0}, {"sku": "c", "qty": 1}]}


def jpath_step(step_id: str, script: str, outputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": step_id,
        "type": "script",
        "attributes": {"order": {"role": "required", "type": "object"}, **outputs},
        "script": {"language": "jpath", "script": script},
    }


async def finished(client: httpx.AsyncClient, flow_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        state = dict((await client.get(f"/engine/flow/{flow_id}")).json())
        return state if state["status"] != "active" else None

    result: dict[str, Any] = await wait_for(done, timeout=10)
    return result


def test_jpath_steps_run_register_and_report_health() -> None:
    async def body() -> None:
        async with asgi_engine() as (_engine, client):
            picks = jpath_step("pick", "$.order.items[?@.qty > 0]", {"picked": {"role": "output"}})
            r = await client.post("/engine/step", json=picks)
            assert r.status_code == 201, r.text
            health = (await client.get("/engine/health/pick")).json()
            assert health == {"status": "healthy"}  # health by compilation

            start = {"id": "o1", "goals": ["pick"], "init": {"order": [ORDER]}}
            assert (await client.post("/engine/flow", json=start)).status_code == 201
            state = await finished(client, "o1")
            assert state["status"] == "completed"
            # several matches -> the list, to the step's only output
            assert state["attributes"]["picked"][0]["value"] == [
                {"sku": "a", "qty": 2},
                {"sku": "c", "qty": 1},
            ]

            # one match that is a map -> outputs by name; mapped output names work
            first = jpath_step(
                "first-item",
                "$.order.items[0]",
                {
                    "first_sku": {"role": "output", "output": {"mapping": {"name": "sku"}}},
                    "first_qty": {"role": "output", "output": {"mapping": {"name": "qty"}}},
                },
            )
            assert (await client.post("/engine/step", json=first)).status_code == 201
            start = {"id": "o2", "goals": ["first-item"], "init": {"order": [ORDER]}}
            assert (await client.post("/engine/flow", json=start)).status_code == 201
            state = await finished(client, "o2")
            assert state["attributes"]["first_sku"][0]["value"] == "a"
            assert state["attributes"]["first_qty"][0]["value"] == 2

            # no match -> the work item fails permanently
            none = jpath_step("big-qty", "$.order.items[?@.qty > 5]", {"big": {"role": "output"}})
            assert (await client.post("/engine/step", json=none)).status_code == 201
            start = {"id": "o3", "goals": ["big-qty"], "init": {"order": [ORDER]}}
            assert (await client.post("/engine/flow", json=start)).status_code == 201
            state = await finished(client, "o3")
            assert state["status"] == "failed"
            assert "jpath produced no matches" in state["executions"]["big-qty"]["error"]
            events = (await client.get("/engine/flow/o3/events")).json()["events"]
            types = [e["type"] for e in events]
            assert "work_failed" in types and "work_retry_scheduled" not in types

            # compile errors at registration
            bad = jpath_step("bad", "$..[", {"b": {"role": "output"}})
            r = await client.post("/engine/step", json=bad)
            assert r.status_code == 400
            assert "jpath compile error: $..[" in r.json()["error"]

    asyncio.run(body())
