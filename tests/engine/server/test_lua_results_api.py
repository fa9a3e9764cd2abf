"""A Lua step's table with holes, through the HTTP API in process (issue 16 item 8)."""

from __future__ import annotations

import asyncio
from typing import Any

from asgi_engine import asgi_engine, wait_for

OBSERVED = "return {r = setmetatable({[1] = 1, [3] = 3}, {__index = function() return 0 end})}"


def test_observed_table_with_holes_keeps_the_three() -> None:
    async def body() -> None:
        async with asgi_engine() as (_engine, client):
            step = {
                "id": "holes",
                "name": "holes",
                "type": "script",
                "attributes": {"r": {"role": "output"}},
                "script": {"language": "lua", "script": OBSERVED},
            }
            assert (await client.post("/engine/step", json=step)).status_code == 201
            start = {"id": "h1", "goals": ["holes"]}
            assert (await client.post("/engine/flow", json=start)).status_code == 201

            async def done() -> dict[str, Any] | None:
                state = dict((await client.get("/engine/flow/h1")).json())
                return state if state["status"] != "active" else None

            state = await wait_for(done)
            assert state["status"] == "completed"
            assert state["attributes"]["r"][0]["value"] == [1, None, 3]

    asyncio.run(body())
