"""Shared fixtures: a real engine process per session and a REST helper."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support import Api, EngineProcess


@pytest.fixture(scope="session")
def engine_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    """One real engine (SQLite in a temp dir) shared by the session's e2e tests."""
    proc = EngineProcess(tmp_path_factory.mktemp("engine"))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def engine_url(engine_process: EngineProcess) -> str:
    """Base URL of the session's engine, e.g. ``http://127.0.0.1:53124``."""
    return engine_process.url


@pytest.fixture(scope="module")
def isolated_engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh engine for one test module, for tests (like examples) whose
    attribute names could clash with other tests' steps in the shared engine
    (VAL-2 type conflicts)."""
    proc = EngineProcess(tmp_path_factory.mktemp("isolated-engine"))
    proc.start()
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture
def api(engine_url: str) -> Iterator[Api]:
    """A JSON client for the session's engine."""
    client = Api(engine_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def uid() -> str:
    """A unique suffix for step and flow IDs."""
    return uuid.uuid4().hex[:10]
