"""Parsing of the operations settings: API tokens, retention, log format.

Kept apart from ``config.py`` so that file only gains fields; each parser
raises ``ConfigError`` with one clear line, like the other settings (CFG-1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from argyll.errors import ConfigError

__all__ = ["ROLES", "parse_duration", "parse_log_format", "parse_tokens"]

#: Token roles: ``read`` may look (GET, plan preview, queries, subscriptions);
#: ``full`` may do everything.
ROLES = ("read", "full")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)\s*$")


def parse_tokens(text: str) -> dict[str, str]:
    """``"tok:full,peek:read"`` as ``{token: role}``; empty text means no tokens.

    Raises:
        ConfigError: an entry without ``:``, an empty token or an unknown role.
    """
    tokens: dict[str, str] = {}
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        token, sep, role = entry.rpartition(":")
        token, role = token.strip(), role.strip().lower()
        if not sep or not token:
            raise ConfigError("invalid API_TOKENS: each entry must be <token>:<role>")
        if role not in ROLES:
            raise ConfigError(f'invalid API_TOKENS: unknown role "{role}" (use read or full)')
        if any(c.isspace() for c in token):
            raise ConfigError("invalid API_TOKENS: a token must not contain white space")
        tokens[token] = role
    return tokens


def parse_duration(name: str, text: str) -> float:
    """A duration such as ``30s``, ``15m``, ``12h`` or ``7d`` in seconds; empty or ``0`` is 0.

    Raises:
        ConfigError: ``invalid <NAME>: "<text>" (use e.g. 30s, 15m, 12h, 7d)``.
    """
    if text.strip() in ("", "0"):
        return 0.0
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(f'invalid {name}: "{text}" (use e.g. 30s, 15m, 12h, 7d)')
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_log_format(env: Mapping[str, str]) -> str:
    """``LOG_FORMAT``: ``text`` (default) or ``json``.

    Raises:
        ConfigError: any other value.
    """
    value = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if value not in ("text", "json"):
        raise ConfigError(f'invalid LOG_FORMAT: "{value}" (use text or json)')
    return value
