"""The command line and the MCP server against an engine that requires tokens (API_TOKENS)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import price_steps, write_yaml
from click.testing import CliRunner
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from support import EngineProcess

from argyll.cli.app import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = EngineProcess(
        tmp_path_factory.mktemp("secured"), env={"API_TOKENS": "cli-full:full,cli-peek:read"}
    )
    proc.start()
    try:
        yield proc.url
    finally:
        proc.stop()


def test_tokens_over_http_and_the_websocket(secured: str, tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(write_yaml(tmp_path / "s.yaml", price_steps("auth")))

    anonymous = runner.invoke(cli, ["--engine", secured, "step", "list"])
    assert anonymous.exit_code == 1
    assert anonymous.stderr == "Error: missing bearer token\n"
    wrong = runner.invoke(cli, ["--engine", secured, "--token", "nope", "step", "list"])
    assert wrong.stderr == "Error: invalid bearer token\n"
    reader = ["--engine", secured, "--token", "cli-peek"]
    refused = runner.invoke(cli, [*reader, "step", "register", "-f", path])
    assert refused.exit_code == 1
    assert refused.stderr == "Error: this token may only read\n"

    full = CliRunner(env={"ARGYLL_TOKEN": "cli-full"})
    base = ["--engine", secured]
    assert full.invoke(cli, [*base, "step", "register", "-f", path]).exit_code == 0
    started = full.invoke(
        cli,
        [*base, "flow", "start", "auth-1", "--goal", "tax-auth",
         "--init", "price_auth=1", "--init", "qty_auth=2"],
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    # the read token may plan, query and watch (the WebSocket gets the header too)
    assert runner.invoke(cli, [*reader, "plan", "tax-auth", "--json"]).exit_code == 0
    listed = runner.invoke(cli, [*reader, "flow", "list", "--json"])
    assert [f["id"] for f in json.loads(listed.stdout)["flows"]] == ["auth-1"]
    watched = subprocess.run(
        [sys.executable, "-m", "argyll", "flow", "watch", "auth-1", "--timeout", "30"],
        cwd=ROOT,
        env={**os.environ, "ENGINE_URL": secured, "ARGYLL_TOKEN": "cli-peek"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert watched.returncode == 0, watched.stderr
    assert "flow auth-1 completed" in watched.stdout


def test_mcp_server_passes_the_token(secured: str) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "argyll", "--engine", secured, "mcp"],
        env={"ARGYLL_TOKEN": "cli-peek"},
        cwd=str(ROOT),
    )

    async def session() -> tuple[bool, bool, str]:
        async with Client(params, read_timeout_seconds=30) as client:
            listed = await client.call_tool("list_steps", {})
            write = await client.call_tool("unregister_step", {"step_id": "tax-auth"})
            block = write.content[0]
            return listed.is_error, write.is_error, getattr(block, "text", "")

    listed_failed, write_failed, text = asyncio.run(asyncio.wait_for(session(), timeout=60))
    assert not listed_failed
    assert write_failed
    assert text.endswith("this token may only read")
