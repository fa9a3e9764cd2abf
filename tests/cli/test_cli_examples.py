"""The command-line and MCP examples run as documented, against a real engine."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from argyll.cli.app import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_cli_guide_steps_file(isolated_engine_url: str) -> None:
    """docs/guides/cli.md: register examples/cli_steps.yaml; order-1 grosses 60.0, order-3 fails."""
    runner = CliRunner()
    base = ["--engine", isolated_engine_url]
    path = str(EXAMPLES / "cli_steps.yaml")
    registered = runner.invoke(cli, [*base, "step", "register", "-f", path])
    assert registered.stdout == (
        "registered step invoice-net\nregistered step invoice-gross\n"
        "registered step invoice-approve\n"
    )
    started = runner.invoke(
        cli,
        [*base, "flow", "start", "order-1", "--goal", "invoice-gross",
         "--init", "item_price=12.5", "--init", "item_count=4", "--wait", "--json"],
    )  # fmt: skip
    assert started.exit_code == 0, started.output
    state = json.loads(started.stdout)
    assert state["attributes"]["gross_amount"][0]["value"] == 60.0
    refused = runner.invoke(
        cli,
        [*base, "flow", "start", "order-3", "--goal", "invoice-approve",
         "--init", "item_price=500", "--init", "item_count=4", "--wait"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "needs manual approval" in refused.stdout


def test_mcp_client_example(isolated_engine_url: str) -> None:
    result = load("mcp_client").main(isolated_engine_url)
    assert result == {"status": "completed", "mcp_twice": 42, "plan_needs": ["mcp_n"]}


def test_mcp_config_example_starts_the_server(isolated_engine_url: str) -> None:
    """examples/mcp_config.json, with the console script of this environment."""
    config = json.loads((EXAMPLES / "mcp_config.json").read_text())["mcpServers"]["argyll"]
    command = Path(sys.executable).parent / config["command"]
    assert command.exists(), "the argyll console script is installed next to python"
    env = {**config["env"], "ENGINE_URL": isolated_engine_url}
    params = StdioServerParameters(command=str(command), args=config["args"], env=env)

    async def steps() -> int:
        async with Client(params, read_timeout_seconds=30) as client:
            answer = await client.call_tool("list_steps", {})
            assert not answer.is_error
            return len((await client.list_tools()).tools)

    assert asyncio.run(asyncio.wait_for(steps(), timeout=30)) == 15


def test_readme_command_lines(isolated_engine_url: str, tmp_path: Path) -> None:
    """The README's ``argyll`` lines work as written after its curl registration."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    body = re.search(r"curl -s -X POST localhost:8080/engine/step -d '(.*?)'", readme, re.S)
    assert body is not None
    step_file = tmp_path / "double.json"
    step_file.write_text(body.group(1))
    runner = CliRunner()
    base = ["--engine", isolated_engine_url]
    assert runner.invoke(cli, [*base, "step", "register", "-f", str(step_file)]).exit_code == 0
    lines = re.findall(r"^argyll (.*)$", readme, flags=re.M)
    assert len(lines) >= 3
    for line in lines:
        args = shlex.split(line.split("#")[0])
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 0, (line, result.output)
        if "--json" in args:
            json.loads(result.stdout)
