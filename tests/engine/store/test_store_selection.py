"""Choosing the store (--store, STORE_URL, --data-dir) and one engine per data directory."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, EngineProcess, free_port

from argyll.engine.cli import run as cli
from argyll.engine.config import Config
from argyll.engine.store import MemoryStore, SQLiteStore, open_store
from argyll.engine.store.factory import claim_store, describe_store
from argyll.engine.store.lock import LOCK_FILE, DataDirLock
from argyll.engine.store.postgres import PostgresStore
from argyll.errors import ConfigError, StoreError

PG = "postgresql://u@db:5432/argyll"


def test_the_configuration_picks_the_store(tmp_path: Path) -> None:
    assert isinstance(open_store(Config(data_dir=None)), MemoryStore)
    sqlite = open_store(Config(data_dir=tmp_path))
    assert isinstance(sqlite, SQLiteStore) and sqlite.path == tmp_path / "argyll.db"
    pg = open_store(Config(data_dir=tmp_path, store_url=f"{PG}?schema=s"))
    assert isinstance(pg, PostgresStore) and pg.url.schema == "s"
    assert describe_store(Config(store_url=PG)) == f"PostgreSQL {PG}, schema argyll"
    assert describe_store(Config(data_dir=tmp_path)) == f"SQLite in {tmp_path}"


def test_store_url_and_node_id_from_flags_and_environment() -> None:
    assert Config.from_env({}).store_url == ""
    assert Config.from_env({"STORE_URL": PG}).store_url == PG
    assert Config.from_env({"STORE_URL": "postgresql://x/y"}, store_url=PG).store_url == PG
    assert Config.from_env({}).node_id == "argyll-1"
    assert Config.from_env({"RAFT_NODE_ID": "raft"}).node_id == "raft"
    assert Config.from_env({"RAFT_NODE_ID": "raft", "NODE_ID": "n2"}).node_id == "n2"
    assert Config.from_env({"NODE_ID": "n2"}, node_id="n3").node_id == "n3"
    with pytest.raises(ConfigError, match='invalid store URL "sqlite:///x"'):
        Config.from_env({"STORE_URL": "sqlite:///x"})


def test_a_bad_store_url_stops_the_cli_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["serve", "--store", "postgresql://u:pw@h:port/db"]) == 2
    err = capsys.readouterr().err
    assert err.startswith('argyll: invalid store URL "postgresql://u:***@h:port/db"')
    assert err.count("\n") == 1


def test_an_unreachable_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    proc = subprocess.run(
        [sys.executable, "-m", "argyll", "serve", "--port", str(free_port()), "--store", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"argyll: cannot open event store {url}: ")
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_a_data_directory_has_one_holder(tmp_path: Path) -> None:
    first, second = DataDirLock(tmp_path / "d"), DataDirLock(tmp_path / "d")
    first.acquire("pid 1 on here, port 8080")
    with pytest.raises(StoreError) as info:
        second.acquire("pid 2 on here, port 8081")
    assert str(info.value) == (
        f"data directory {tmp_path / 'd'} is in use by another engine (pid 1 on here, port 8080)"
    )
    first.release()
    second.acquire("pid 2 on here, port 8081")
    assert (tmp_path / "d" / LOCK_FILE).read_text() == "pid 2 on here, port 8081\n"
    second.release()


def test_claim_store_checks_the_store_and_holds_the_directory(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path / "data", port=9999)
    lock = claim_store(config)
    assert lock is not None
    with pytest.raises(StoreError, match=r"in use by another engine \(pid \d+ on .*, port 9999\)"):
        claim_store(config)
    lock.release()
    assert claim_store(Config(data_dir=None)) is None


def test_a_second_engine_on_one_data_directory_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    engine = EngineProcess(data_dir)
    engine.start()
    try:
        assert engine.proc is not None
        argv = ["serve", "--port", str(free_port()), "--data-dir", str(data_dir)]
        second = subprocess.run(
            [sys.executable, "-m", "argyll", *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert second.stderr == (
            f"argyll: data directory {data_dir} is in use by another engine"
            f" (pid {engine.proc.pid} on {socket.gethostname()},"
            f" port {engine.port})\n"
        )
    finally:
        engine.kill()
    # kill -9 releases the lock with the process: the directory is free again.
    lock = DataDirLock(data_dir)
    lock.acquire("test")
    lock.release()
