"""Settings of the engine's protective limits (issue 17), read from the environment.

One frozen value shared by the request guards (``engine/server``) and the
outbound side (``engine/execute``): nesting and size limits, allowed browser
origins, the bound on work in flight, and the step egress policy text.
``docs/reference/configuration.md`` lists the variables and
``docs/reference/reliability.md`` explains them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from argyll.errors import ConfigError
from argyll.model.nesting import DEFAULT_MAX_DEPTH

__all__ = ["GuardConfig"]

KIB = 1024
MIB = 1024 * 1024


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f'invalid {name}: "{text}"') from None
    if not low <= value <= high:
        raise ConfigError(f"invalid {name}: {value} out of range [{low}, {high}]")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


@dataclass(frozen=True)
class GuardConfig:
    """Protective limits; every field has a variable (empty means the default)."""

    max_depth: int = DEFAULT_MAX_DEPTH
    """Deepest JSON nesting accepted in a request body or step result (``JSON_MAX_DEPTH``)."""

    result_bytes: int = MIB
    """Largest result of one work item, as JSON (``STEP_RESULT_LIMIT``, bytes)."""

    error_bytes: int = 8 * KIB
    """Longest error text kept for a work item (``STEP_ERROR_LIMIT``, bytes)."""

    cors_origins: tuple[str, ...] = ()
    """Browser origins besides the engine's own that may call it (``CORS_ORIGINS``)."""

    max_work_in_flight: int = 2048
    """Background work (invocations, compensations) beyond which new flows are
    refused with 503 (``MAX_WORK_IN_FLIGHT``)."""

    max_requests_in_flight: int = 1024
    """Concurrent requests beyond which requests are refused with 503
    (``MAX_REQUESTS_IN_FLIGHT``)."""

    max_loop_lag_ms: int = 500
    """Sustained event-loop lag beyond which new flows are refused with 503
    (``MAX_LOOP_LAG``, ms)."""

    retry_after_s: int = 1
    """The ``Retry-After`` of a refusal, in seconds (``OVERLOAD_RETRY_AFTER``)."""

    step_allowed_hosts: tuple[str, ...] = ()
    """Hosts, CIDRs and ports steps may call; empty allows all not denied
    (``STEP_ALLOWED_HOSTS``)."""

    step_denied_hosts: tuple[str, ...] = ()
    """Hosts, CIDRs and ports steps may never call, besides the engine's own
    API address (``STEP_DENIED_HOSTS``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GuardConfig:
        """Read and validate the variables.

        Raises:
            ConfigError: a malformed or out-of-range value, or ``*`` in
                ``CORS_ORIGINS`` while ``API_TOKENS`` is set.
        """
        origins = tuple(o.rstrip("/") for o in _list(env, "CORS_ORIGINS"))
        if "*" in origins and env.get("API_TOKENS", "").strip():
            raise ConfigError('invalid CORS_ORIGINS: "*" is not allowed when API_TOKENS is set')
        return cls(
            max_depth=_int(env, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH, 2, 1000),
            result_bytes=_int(env, "STEP_RESULT_LIMIT", MIB, 1024, 256 * MIB),
            error_bytes=_int(env, "STEP_ERROR_LIMIT", 8 * KIB, 256, MIB),
            cors_origins=origins,
            max_work_in_flight=_int(env, "MAX_WORK_IN_FLIGHT", 2048, 1, 10_000_000),
            max_requests_in_flight=_int(env, "MAX_REQUESTS_IN_FLIGHT", 1024, 1, 1_000_000),
            max_loop_lag_ms=_int(env, "MAX_LOOP_LAG", 500, 1, 600_000),
            retry_after_s=_int(env, "OVERLOAD_RETRY_AFTER", 1, 1, 3600),
            step_allowed_hosts=_list(env, "STEP_ALLOWED_HOSTS"),
            step_denied_hosts=_list(env, "STEP_DENIED_HOSTS"),
        )
