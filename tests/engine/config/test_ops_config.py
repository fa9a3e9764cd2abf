"""API_TOKENS, FLOW_RETENTION and LOG_FORMAT parsing (bad values fail start-up clearly)."""

from __future__ import annotations

import pytest

from argyll.engine.config import Config
from argyll.errors import ConfigError


def test_defaults_are_off() -> None:
    config = Config.from_env({})
    assert config.api_tokens == {} and config.flow_retention_s == 0 and config.log_format == "text"


def test_tokens_durations_and_format() -> None:
    config = Config.from_env(
        {"API_TOKENS": " s3cret:full , peek:READ,", "FLOW_RETENTION": "15m", "LOG_FORMAT": "JSON"}
    )
    assert config.api_tokens == {"s3cret": "full", "peek": "read"}
    assert config.flow_retention_s == 900 and config.log_format == "json"
    for text, seconds in (("30s", 30), ("12h", 43200), ("7d", 604800), ("500ms", 0.5), ("0", 0)):
        assert Config.from_env({"FLOW_RETENTION": text}).flow_retention_s == seconds


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"API_TOKENS": "nocolon"}, "invalid API_TOKENS: each entry must be <token>:<role>"),
        ({"API_TOKENS": ":full"}, "invalid API_TOKENS: each entry must be <token>:<role>"),
        ({"API_TOKENS": "t:admin"}, 'invalid API_TOKENS: unknown role "admin" (use read or full)'),
        ({"FLOW_RETENTION": "7 weeks"}, 'invalid FLOW_RETENTION: "7 weeks"'),
        ({"FLOW_RETENTION": "0s"}, 'invalid FLOW_RETENTION: "0s"'),
        ({"LOG_FORMAT": "xml"}, 'invalid LOG_FORMAT: "xml" (use text or json)'),
    ],
)
def test_bad_values_fail_clearly(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_env(env)
    assert str(info.value).startswith(message)
