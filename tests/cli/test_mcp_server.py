"""``argyll mcp`` through the MCP SDK's own client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from cli_support import price_steps
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult, TextContent
from support import eventually, free_port

ROOT = Path(__file__).resolve().parents[2]


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def data_of(result: CallToolResult) -> Any:
    assert not result.is_error, text_of(result)
    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if list(content) == ["result"] else content
    return json.loads(text_of(result))


def stdio_params(engine_url: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "argyll", "--engine", engine_url, "mcp"],
        cwd=str(ROOT),
    )


async def drive(engine_url: str, uid: str) -> None:
    async with Client(stdio_params(engine_url), read_timeout_seconds=30) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        tools = set(listed)
        hints = listed["get_flow"].annotations
        assert hints is not None and hints.read_only_hint is True
        hints = listed["unregister_step"].annotations
        assert hints is not None and hints.destructive_hint is True
        schema = listed["start_flow"].input_schema
        assert set(schema["required"]) == {"flow_id", "goals"}
        assert {
            "list_steps", "get_step", "register_step", "update_step", "unregister_step",
            "preview_plan", "start_flow", "get_flow", "get_flow_status", "query_flows",
            "flow_events", "engine_state", "step_health", "step_handler_template",
            "wait_for_flow",
        } <= tools  # fmt: skip

        sub, tax = price_steps(uid)
        for step in (sub, tax):
            registered = data_of(await client.call_tool("register_step", {"step": step}))
            assert registered["id"] == step["id"]

        plan = data_of(
            await client.call_tool(
                "preview_plan", {"goals": [tax["id"]], "init": {f"price_{uid}": [4]}}
            )
        )
        assert plan["required"] == [f"qty_{uid}"]

        flow_id = f"mcp-{uid}"
        init = {f"price_{uid}": [4], f"qty_{uid}": [5]}
        started = await client.call_tool(
            "start_flow",
            {"flow_id": flow_id, "goals": [tax["id"]], "init": init, "labels": {"via": uid}},
        )
        assert data_of(started) == {"flow_id": flow_id}

        final = data_of(
            await client.call_tool("wait_for_flow", {"flow_id": flow_id, "timeout_seconds": 20})
        )
        assert final["status"] == "completed"
        status = data_of(await client.call_tool("get_flow_status", {"flow_id": flow_id}))
        assert status == {"id": flow_id, "status": "completed"}

        state = data_of(await client.call_tool("get_flow", {"flow_id": flow_id}))
        assert state["attributes"][f"total_{uid}"][0]["value"] == 40
        found = data_of(await client.call_tool("query_flows", {"labels": {"via": uid}}))
        assert [f["id"] for f in found["flows"]] == [flow_id]
        events = data_of(
            await client.call_tool("flow_events", {"flow_id": flow_id, "types": ["flow_completed"]})
        )
        assert events["count"] == 1
        health = data_of(await client.call_tool("step_health", {"step_id": sub["id"]}))
        assert health["status"] == "healthy"
        engine = data_of(await client.call_tool("engine_state", {}))
        assert sub["id"] in engine["steps"]

        template = data_of(await client.call_tool("step_handler_template", {"step_id": sub["id"]}))
        compile(template, "template.py", "exec")
        assert f".required('price_{uid}', 'number')" in template

        # engine errors and invalid input come back as tool errors
        missing = await client.call_tool("get_step", {"step_id": f"nope-{uid}"})
        assert missing.is_error
        assert f"step not found: nope-{uid}" in text_of(missing)
        no_goals = await client.call_tool("start_flow", {"flow_id": "x", "goals": []})
        assert no_goals.is_error
        bad_step = await client.call_tool("register_step", {"step": {"id": 5}})
        assert bad_step.is_error
        assert "invalid step" in text_of(bad_step)
        refused = await client.call_tool("register_step", {"step": {"id": f"bad-{uid}"}})
        assert refused.is_error
        assert "invalid step" in text_of(refused)

        assert data_of(await client.call_tool("unregister_step", {"step_id": tax["id"]}))

        resources = {str(r.uri) for r in (await client.list_resources()).resources}
        assert resources == {
            "argyll://guide/steps",
            "argyll://guide/scripts",
            "argyll://guide/http-steps",
        }
        guide = await client.read_resource("argyll://guide/http-steps")
        assert "Argyll-Receipt-Token" in str(guide.contents[0])
        prompt = await client.get_prompt(
            "implement_step", {"description": "double it", "step_id": sub["id"]}
        )
        assert sub["id"] in str(prompt.messages[0].content)


def test_mcp_over_stdio_drives_the_engine(engine_url: str, uid: str) -> None:
    asyncio.run(asyncio.wait_for(drive(engine_url, uid), timeout=60))


def test_mcp_over_streamable_http(engine_url: str) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "argyll", "--engine", engine_url, "mcp", "--http", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        try:
            httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    async def list_steps() -> Any:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            return data_of(await client.call_tool("list_steps", {}))

    try:
        eventually(listening, timeout=20, message="MCP HTTP server")
        answer = asyncio.run(asyncio.wait_for(list_steps(), timeout=30))
        assert answer["count"] == len(answer["steps"])
    finally:
        proc.terminate()
        proc.wait(timeout=15)
