"""Property-based API testing: schemathesis against the served OpenAPI document.

An engine (in-process, on a loopback port) serves ``/openapi.json``; the schemathesis command line
generates requests from it (coverage, fuzzing and stateful phases, a fixed
seed so CI is deterministic) and checks every answer: no 5xx, documented
status codes, content types, headers and response schemas.

Two checks are left out because the document cannot express what they
assume, not because answers are wrong:

- ``positive_data_acceptance``: a body can match the schema and still be
  refused with a 400 that names the problem (step validation VAL-1, API-21
  checks, API-23 limits): the schema says what is well-formed, the engine
  what is valid.
- ``unsupported_method``: an unsupported method answers 404 by design
  (SPEC 12: unknown paths and unsupported methods answer 404), not 405.

Two known defects owned by other work are filtered out by
``schemathesis_hooks.py``, each with its reason: IDs with control characters
in the path, and over-long web UI file names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_engine import LocalEngine

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    """An in-process engine on a loopback port for the schemathesis process."""
    with LocalEngine() as local:
        yield local


def test_schemathesis_finds_no_failures(engine: LocalEngine) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{engine.url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance,unsupported_method",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "30",
        "--workers",
        "2",
        "--seed",
        "20261207",
        "--max-failures",
        "20",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": str(HERE),
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        command, cwd=HERE, env=env, capture_output=True, text=True, timeout=110, check=False
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-20000:]
