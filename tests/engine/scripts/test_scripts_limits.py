"""ScriptLimits: defaults, environment variables and stable limit messages (SCRIPT-6)."""

from __future__ import annotations

import pytest

from argyll.engine.scripts import ScriptLimits
from argyll.engine.scripts.limits import format_bytes, format_seconds
from argyll.errors import ConfigError

MIB = 1 << 20


def test_defaults() -> None:
    limits = ScriptLimits()
    assert limits.script_timeout == 1.0
    assert limits.script_memory == 64 * MIB
    assert limits.eval_timeout == 0.1
    assert limits.eval_memory == 16 * MIB
    assert limits.max_source == 32 * 1024
    assert limits.workers >= 2


def test_from_env_reads_every_variable() -> None:
    env = {
        "ARGYLL_SCRIPT_TIMEOUT": "2.5",
        "ARGYLL_SCRIPT_MEMORY": "128",
        "ARGYLL_SCRIPT_EVAL_TIMEOUT": "0.05",
        "ARGYLL_SCRIPT_EVAL_MEMORY": "8",
        "ARGYLL_SCRIPT_MAX_SOURCE": "1000",
        "ARGYLL_SCRIPT_MAX_DEPTH": "10",
        "ARGYLL_SCRIPT_MAX_ITEMS": "500",
        "ARGYLL_SCRIPT_WORKERS": "0",
        "ARGYLL_SCRIPT_CACHE_SIZE": "7",
    }
    limits = ScriptLimits.from_env(env)
    assert limits == ScriptLimits(
        script_timeout=2.5,
        script_memory=128 * MIB,
        eval_timeout=0.05,
        eval_memory=8 * MIB,
        max_source=1000,
        max_depth=10,
        max_items=500,
        workers=0,
        cache_size=7,
    )


def test_from_env_empty_means_default() -> None:
    assert ScriptLimits.from_env({"ARGYLL_SCRIPT_TIMEOUT": ""}).script_timeout == 1.0


@pytest.mark.parametrize(
    ("var", "text"),
    [
        ("ARGYLL_SCRIPT_TIMEOUT", "soon"),
        ("ARGYLL_SCRIPT_TIMEOUT", "0"),
        ("ARGYLL_SCRIPT_MEMORY", "-1"),
        ("ARGYLL_SCRIPT_MEMORY", "1.5"),
        ("ARGYLL_SCRIPT_WORKERS", "many"),
        ("ARGYLL_SCRIPT_CACHE_SIZE", "0"),
    ],
)
def test_from_env_rejects_bad_values(var: str, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ScriptLimits.from_env({var: text})
    message = str(caught.value)
    assert var in message
    assert "\n" not in message


def test_messages() -> None:
    assert ScriptLimits().budget("script").message("time") == "script exceeded its time limit (1s)"
    assert (
        ScriptLimits().budget("script").message("memory")
        == "script exceeded its memory limit (64 MiB)"
    )
    assert ScriptLimits().budget("predicate").message("time") == (
        "script exceeded its time limit (100ms)"
    )
    assert format_seconds(2.5) == "2.5s"
    assert format_bytes(32 * 1024) == "32 KiB"
    assert format_bytes(1000) == "1000 bytes"
