"""The base install (no ``engine`` or ``cli`` extra) imports the SDK and serves a step.

A fresh virtualenv gets ``pip install <copy of this package>`` (dependencies
resolved normally, through pip's cache), then a script in it checks that no
engine library is present, serves a step handler over real HTTP and calls
it, and ``argyll serve`` says in one line what to install.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ENGINE_LIBRARIES = [
    "hy",
    "lupa",
    "jsonpath_ng",
    "networkx",
    "aiohttp",
    "asyncpg",
    "prometheus_client",
]
CLI_LIBRARIES = ["rich", "yaml", "mcp"]  # click comes with uvicorn

SCRIPT = """
import importlib.util, json, sys
missing = [m for m in %(libs)r if importlib.util.find_spec(m) is None]
assert missing == %(libs)r, f"engine libraries present: {set(%(libs)r) - set(missing)}"

import httpx
from argyll import AttributeType, Client, StepContext

def greet(ctx: StepContext, args: dict) -> dict:
    return {"greeting": f"Hello, {args['name']}!", "flow": ctx.flow_id}

builder = (
    Client("http://127.0.0.1:9").new_step("Light Greeting")
    .required("name", AttributeType.STRING)
    .output("greeting", AttributeType.STRING)
)
with builder.serve(greet, register=False) as server:
    reply = httpx.post(server.endpoint, json={"name": "Ada"}, headers={"Argyll-Flow-ID": "f-1"})
    health = httpx.get(server.url + "/health").json()
print(json.dumps({"endpoint": server.endpoint, "reply": reply.json(), "health": health}))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %(libs)r)))
"""


def _copy_package(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "argyll", dest / "argyll", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    shutil.copy(ROOT / "README.md", dest / "README.md")


def test_base_install_serves_a_step_without_the_engine(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _copy_package(source)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    code = SCRIPT % {"libs": ENGINE_LIBRARIES + CLI_LIBRARIES}
    result = subprocess.run(
        [str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    first, loaded = result.stdout.strip().splitlines()
    served = json.loads(first)
    assert served["endpoint"].endswith("/light-greeting")
    assert served["reply"] == {"greeting": "Hello, Ada!", "flow": "f-1"}
    assert served["health"] == {"status": "healthy", "service": "light-greeting"}
    assert json.loads(loaded) == []

    serve = subprocess.run(
        [str(env_dir / "bin" / "argyll"), "serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 2
    lines = serve.stderr.strip().splitlines()
    assert len(lines) == 1, serve.stderr
    assert "pip install 'argyll[engine]'" in lines[0]

    flows = subprocess.run(
        [str(env_dir / "bin" / "argyll"), "flows", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flows.returncode == 2
    assert flows.stderr.strip().splitlines() == [
        "argyll: the command line needs the cli extra (missing rich, yaml, mcp): "
        "pip install 'argyll[cli]'"
    ]


def test_engine_cli_names_the_extra_when_a_library_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from argyll.engine import cli

    monkeypatch.setattr(cli, "_ENGINE_LIBRARIES", ("hy", "no_such_engine_library"))
    assert cli.run(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "argyll: the engine needs the engine extra (missing no_such_engine_library): "
        "pip install 'argyll[engine]'"
    )
