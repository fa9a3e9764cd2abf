"""Fixtures for the script-layer tests: shared Scripts instances, closed at the end.

``scripts`` runs step scripts in worker processes (the production set-up);
``scripts_inproc`` runs them on threads (``workers=0``); ``fast_scripts``
has short time limits so denial-of-service attempts finish quickly. Each is
created once per session and closed afterwards, so no worker outlives the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from argyll.engine.scripts import ScriptLimits, Scripts


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="session")
def scripts() -> Iterator[Scripts]:
    """Default limits, two worker processes."""
    instance = Scripts(ScriptLimits(workers=2))
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def scripts_inproc() -> Iterator[Scripts]:
    """Default limits, step scripts on threads in this process."""
    instance = Scripts(ScriptLimits(workers=0))
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def fast_scripts() -> Iterator[Scripts]:
    """Short limits (0.3 s scripts, 50 ms evaluations) for attack tests."""
    instance = Scripts(ScriptLimits(workers=2, script_timeout=0.3, eval_timeout=0.05))
    yield instance
    pids = instance.worker_pids
    instance.close()
    assert not [pid for pid in pids if _alive(pid)]
