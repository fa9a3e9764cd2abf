"""The README quickstart works as written (curl bodies and the Python snippet)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_curl_quickstart(isolated_engine_url: str) -> None:
    commands = re.findall(r"^curl .*?(?=\n\n|\n#|\n```)", README, flags=re.S | re.M)
    assert len(commands) >= 4
    for command in commands:
        args = shlex.split(command.replace("\\\n", " "))
        method = args[args.index("-X") + 1] if "-X" in args else "GET"
        url = next(a for a in args if a.startswith("localhost:8080"))
        url = isolated_engine_url + url.removeprefix("localhost:8080")
        body = json.loads(args[args.index("-d") + 1]) if "-d" in args else None
        response = httpx.request(method, url, json=body)
        assert response.status_code in (200, 201), (command, response.text)


def test_readme_python_snippet(isolated_engine_url: str) -> None:
    snippet = re.search(r"```python\n(.*?)```", README, re.S)
    assert snippet is not None
    code = snippet.group(1).replace("http://localhost:8080", isolated_engine_url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("completed 8")
