"""Start-up errors are one line, and nothing is created before the checks pass (issue 16).

Observed: a port already in use printed ``serving on ...`` and ``engine
started`` before ``address already in use``, after creating the data
directory; a ``--data-dir`` that is a file printed a 16-line traceback.
These run the real ``python -m argyll serve`` command.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOG_LEVEL": "info"}
    return subprocess.run(
        [sys.executable, "-m", "argyll", "serve", "--host", "127.0.0.1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_port_in_use_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "data"
        out = serve("--port", str(port), "--data-dir", str(data))
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr == f"argyll: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert not data.exists()


def test_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = serve("--port", str(port), "--data-dir", str(a_file))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("argyll: "), out.stderr
    assert str(a_file) in lines[0]
    assert "Traceback" not in out.stderr
