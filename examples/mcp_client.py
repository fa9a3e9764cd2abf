"""Drive an engine the way an AI assistant does: through ``argyll mcp``.

Starts ``python -m argyll mcp`` as a stdio MCP server (as an MCP client such
as Claude Desktop would, see ``examples/mcp_config.json``), then uses the MCP
SDK's client to list the tools, register a step, preview its plan, start a
flow, wait for it and read the result.

To run things: start the engine (``scripts/serve``), then
``scripts/python examples/mcp_client.py`` (set ENGINE_URL to use another engine).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult, TextContent

DOUBLE = {
    "id": "mcp-double",
    "name": "Double",
    "type": "script",
    "attributes": {
        "mcp_n": {"role": "required", "type": "number"},
        "mcp_twice": {"role": "output", "type": "number"},
    },
    "script": {"language": "lua", "script": "return {mcp_twice = mcp_n * 2}"},
}


def result_of(answer: CallToolResult) -> Any:
    """A tool's JSON result; a tool error raises with the engine's message."""
    block = answer.content[0]
    text = block.text if isinstance(block, TextContent) else str(block)
    if answer.is_error:
        raise RuntimeError(text)
    return json.loads(text)


async def run(engine_url: str) -> dict[str, Any]:
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "argyll", "--engine", engine_url, "mcp"]
    )
    async with Client(server, read_timeout_seconds=30) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        print(f"{len(tools)} tools: {', '.join(tools)}")

        step = result_of(await client.call_tool("register_step", {"step": DOUBLE}))
        print(f"registered {step['id']}")

        plan = result_of(await client.call_tool("preview_plan", {"goals": ["mcp-double"]}))
        print(f"plan needs: {plan['required']}")

        flow_id = f"mcp-{uuid.uuid4().hex[:8]}"
        start = {"flow_id": flow_id, "goals": ["mcp-double"], "init": {"mcp_n": [21]}}
        print(f"started {result_of(await client.call_tool('start_flow', start))['flow_id']}")

        wait = {"flow_id": flow_id, "timeout_seconds": 15}
        state = result_of(await client.call_tool("wait_for_flow", wait))
        twice = state["attributes"]["mcp_twice"][0]["value"]
        print(f"flow {flow_id} {state['status']}: mcp_twice = {twice}")

        try:
            result_of(await client.call_tool("get_flow", {"flow_id": "no-such-flow"}))
        except RuntimeError as exc:
            print(f"tool error: {exc}")
        return {"status": state["status"], "mcp_twice": twice, "plan_needs": plan["required"]}


def main(engine_url: str) -> dict[str, Any]:
    """Run the session above; returns what the flow produced."""
    return asyncio.run(run(engine_url))


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
