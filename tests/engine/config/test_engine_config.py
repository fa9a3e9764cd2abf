"""Configuration from the environment and the CLI (CFG-1, CFG-2, CFG-5, SPEC 14.2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from argyll.engine.config import Config
from argyll.errors import ConfigError
from argyll.model.step import WorkConfig


def test_defaults() -> None:  # SPEC 14.2, CFG-5
    config = Config.from_env({})
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert config.data_dir == Path("argyll-data")
    assert config.step_timeout_ms == 30_000 and config.memo_cache_size == 65_536
    assert config.retry == WorkConfig(
        max_retries=10, init_backoff=1000, max_backoff=60_000, backoff_type="exponential"
    )
    assert config.webhook_base_url == "http://localhost:8080"
    assert config.node_id == "argyll-1"
    assert config.health_interval_ms == 30_000  # HEALTH-4


def test_environment_and_flags() -> None:
    env = {
        "API_HOST": "0.0.0.0",
        "API_PORT": "9000",
        "RETRY_BACKOFF_TYPE": "linear",
        "LOG_LEVEL": "LOUD",
        "WEBHOOK_BASE_URL": "http://me:9000/",
        "STEP_TIMEOUT": "",
    }
    config = Config.from_env(env)
    assert (config.host, config.port) == ("0.0.0.0", 9000)
    assert config.retry.backoff_type == "linear"
    assert config.log_level == "info"  # unknown levels mean info
    assert config.webhook_base_url == "http://me:9000"
    assert config.step_timeout_ms == 30_000  # empty = default (CFG-1)
    flags = Config.from_env(env, host="127.0.0.2", port=7000, data_dir=Path("/tmp/x"))
    assert (flags.host, flags.port, flags.data_dir) == ("127.0.0.2", 7000, Path("/tmp/x"))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"API_PORT": "eighty"}, 'invalid API_PORT: "eighty"'),
        ({"API_PORT": "70000"}, "invalid API_PORT: 70000 out of range [1, 65535]"),
        ({"RETRY_MAX_RETRIES": "0"}, "invalid RETRY_MAX_RETRIES: 0 out of range [1, 1000]"),
        ({"MEMO_CACHE_SIZE": "1.5"}, 'invalid MEMO_CACHE_SIZE: "1.5"'),
        (
            {"RETRY_INITIAL_BACKOFF": "5000", "RETRY_MAX_BACKOFF": "100"},
            "invalid RETRY_MAX_BACKOFF",
        ),
        ({"RETRY_BACKOFF_TYPE": "random"}, 'invalid RETRY_BACKOFF_TYPE: "random"'),
        ({"HEALTH_CHECK_INTERVAL": "0"}, "invalid HEALTH_CHECK_INTERVAL: 0 out of range"),
    ],
)
def test_invalid_values_fail_with_one_line(env: dict[str, str], message: str) -> None:  # CFG-1/2
    with pytest.raises(ConfigError) as info:
        Config.from_env(env)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_start_up_fails_with_one_clear_line(tmp_path: Path) -> None:  # CFG-1
    out = subprocess.run(
        [sys.executable, "-m", "argyll", "serve", "--data-dir", str(tmp_path)],
        env={"PATH": "/usr/bin:/bin", "API_PORT": "nope"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == 'argyll: invalid API_PORT: "nope"'
