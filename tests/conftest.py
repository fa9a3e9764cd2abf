"""Shared fixtures: a fresh in-process engine per test, a REST helper, and a
real engine process for the tests that need one.

- ``engine_url`` / ``api``: a fresh engine for this test (memory store), in
  this process, served over loopback HTTP (``local_engine.LocalEngine``).
- ``local_engine``: a factory for engines with their own settings
  (``local_engine(env={"MEMO_CACHE_SIZE": "2"})``, ``manual_time=True``, a
  SQLite ``data_dir``).
- ``isolated_engine_url``: one in-process engine for a whole module.
- ``engine_process``: ``python -m argyll serve`` in a subprocess (SQLite in a
  temp dir) -- only for what needs a real process: kill -9, signals, the
  command line.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from local_engine import LocalEngine, close_session_scripts
from support import Api, EngineProcess


@pytest.fixture(scope="session", autouse=True)
def _session_scripts() -> Iterator[None]:
    """Stop the script workers local engines shared, at the end of the session."""
    yield
    close_session_scripts()


@pytest.fixture
def local_engine() -> Iterator[Callable[..., LocalEngine]]:
    """Start in-process engines with given settings; all are stopped after the test."""
    started: list[LocalEngine] = []

    def make(**kwargs: Any) -> LocalEngine:
        engine = LocalEngine(**kwargs).start()
        started.append(engine)
        return engine

    try:
        yield make
    finally:
        for engine in reversed(started):
            engine.stop(wait=False)  # shuts down while the next test starts


@pytest.fixture
def engine_url(local_engine: Callable[..., LocalEngine]) -> str:
    """Base URL of this test's own in-process engine, e.g. ``http://127.0.0.1:53124``."""
    return local_engine().url


@pytest.fixture(scope="module")
def isolated_engine_url() -> Iterator[str]:
    """One in-process engine shared by the tests of a module."""
    with LocalEngine() as engine:
        yield engine.url


@pytest.fixture
def engine_process(tmp_path: Path) -> Iterator[EngineProcess]:
    """A real engine process (SQLite in a temp dir) for tests that need one."""
    proc = EngineProcess(tmp_path / "engine-data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def api(engine_url: str) -> Iterator[Api]:
    """A JSON client for this test's engine."""
    client = Api(engine_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def uid() -> str:
    """A unique suffix for step and flow IDs."""
    return uuid.uuid4().hex[:10]
