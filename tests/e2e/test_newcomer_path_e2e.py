"""A new user's first hour on ONE engine, without a reset (issue 16 item 10).

The README's curl quickstart (parsed from README.md, so the text is what is
tested), then the README's Python snippet run with ``scripts/python`` as the
README says, then its ``argyll`` command lines, then every example in
``examples/`` one after another against the same engine. Observed before:
``monitor_flow.py`` after the quickstart failed with ``attribute type
conflict: n``, and plain ``python`` could not import ``argyll``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
from local_engine import LocalEngine
from support import ROOT

EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))  # examples import example_support, as when run as scripts

CURL = re.compile(
    r"curl -s(?: -X (?P<method>POST))? localhost:8080(?P<path>\S+)(?: -d '(?P<body>[^']*)')?",
    re.S,
)


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    """One engine (in-process, over loopback HTTP) for the whole first hour."""
    with LocalEngine() as local:
        yield local


def readme_block(language: str) -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(rf"```{language}\n(.*?)```", text, re.S)
    quick = [b for b in blocks if "localhost:8080" in b]
    assert quick, f"no {language} quickstart block in README.md"
    return str(quick[0])


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"newcomer_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_example(name: str, url: str) -> Any:
    module = load(name)
    if name == "monitor_flow":
        return module.main(url, module.start_demo(url))
    return module.main(url)


def test_readme_quickstart_then_every_example_on_one_engine(engine: LocalEngine) -> None:
    # 1. the curl quickstart, exactly as written
    calls = list(CURL.finditer(readme_block("bash")))
    assert len(calls) >= 4
    with httpx.Client(base_url=engine.url, timeout=10) as http:
        for call in calls:
            body = call["body"]
            if call["method"] == "POST":
                r = http.post(call["path"], content=body.encode() if body else b"")
            else:
                r = http.get(call["path"])
            assert r.status_code < 300, (call[0], r.text)
            assert "error" not in r.json(), r.text
        assert http.get("/engine/flow/first-flow").json()["status"] in ("active", "completed")

    # 2. the Python snippet, run the way the README says
    snippet = readme_block("python").replace("http://localhost:8080", engine.url)
    out = subprocess.run(
        [str(ROOT / "scripts" / "python"), "-c", snippet],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",  # not the repository: the package must come from .venv
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "completed 8"

    # 3. the README's command-line block, with the .venv's `argyll`
    text = (ROOT / "README.md").read_text()
    (cli_block,) = [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "argyll " in b]
    commands = [line.split("#")[0].split() for line in cli_block.splitlines() if line.strip()]
    assert commands and all(c[0] == "argyll" for c in commands)
    for command in commands:
        out = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "argyll"), *command[1:]],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "ENGINE_URL": engine.url},
        )
        assert out.returncode == 0, (command, out.stdout, out.stderr)

    # 4. every example, one after another, on the same engine
    names = sorted(
        p.stem
        for p in EXAMPLES.glob("*.py")
        if p.stem != "example_support" and "def main(" in p.read_text()
    )
    assert len(names) >= 15
    failures: dict[str, str] = {}
    for name in names:
        try:
            run_example(name, engine.url)
        except Exception as exc:  # collect them all: one report names every clash
            failures[name] = f"{type(exc).__name__}: {exc}"
    assert not failures, json.dumps(failures, indent=1)


def test_scripts_python_runs_an_example_as_a_user_would(engine: LocalEngine) -> None:
    out = subprocess.run(
        [str(ROOT / "scripts" / "python"), str(EXAMPLES / "script_step.py")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"ENGINE_URL": engine.url, "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert "'total': 36" in out.stdout


def test_docs_say_how_to_run_python() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = (ROOT / "docs" / "get-started" / "quickstart.md").read_text()
    assert "scripts/python" in readme and "scripts/python" in quickstart
    for path in EXAMPLES.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"(?<![/\w.])python examples/", text), path.name
