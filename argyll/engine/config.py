"""Validated engine configuration from environment variables and CLI flags (SPEC 14.2).

Bad values fail start-up with one clear line (CFG-1, CFG-2): ``ConfigError``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from argyll.engine.config_ops import parse_duration, parse_log_format, parse_tokens
from argyll.errors import ConfigError
from argyll.model.step import WorkConfig

__all__ = ["Config", "Limits", "int_setting"]

_LOG_LEVELS = ("debug", "info", "warn", "error")
_BACKOFF_TYPES = ("fixed", "linear", "exponential")


@dataclass(frozen=True)
class Limits:
    """Fixed request limits (CFG-3)."""

    step_body: int = 512 * 1024
    flow_body: int = 1024 * 1024
    flow_id: int = 256
    goals: int = 64
    init_keys: int = 128
    labels: int = 32
    work_items: int = 10_000
    query_limit: int = 1000


def int_setting(env: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    """An integer variable in ``[1, maximum]``; empty means ``default`` (CFG-1).

    Raises:
        ConfigError: ``invalid <NAME>: "<text>"`` or ``... out of range [1, <max>]``.
    """
    text = env.get(name, "")
    if text == "":
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f'invalid {name}: "{text}"') from None
    if not 1 <= value <= maximum:
        raise ConfigError(f"invalid {name}: {value} out of range [1, {maximum}]")
    return value


@dataclass(frozen=True)
class Config:
    """Everything the engine reads at start-up.

    Attributes mirror the variables of SPEC 14.2; ``data_dir`` ``None`` runs
    on the in-memory store (tests only).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path | None = Path("argyll-data")
    webhook_base_url: str = "http://localhost:8080"
    log_level: str = "info"
    step_timeout_ms: int = 30_000
    memo_cache_size: int = 65_536
    timebox_cache_size: int = 32_768
    retry: WorkConfig = field(
        default_factory=lambda: WorkConfig(
            max_retries=10, init_backoff=1000, max_backoff=60_000, backoff_type="exponential"
        )
    )
    node_id: str = "argyll-1"
    #: ``postgresql://...`` runs on the shared PostgreSQL store; "" on SQLite in ``data_dir``.
    store_url: str = ""
    env_label: str = ""
    health_interval_ms: int = 30_000
    #: Cluster: how long a node may be silent before others take its flows.
    cluster_lease_ms: int = 10_000
    #: Cluster: where other nodes reach this one ("" = http://<host>:<port>).
    advertise_url: str = ""
    limits: Limits = field(default_factory=Limits)
    log_format: str = "text"
    api_tokens: dict[str, str] = field(default_factory=dict)
    flow_retention_s: float = 0.0

    @property
    def node_address(self) -> str:
        """Where other cluster nodes reach this engine."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        data_dir: Path | None = None,
        store_url: str | None = None,
        node_id: str | None = None,
    ) -> Config:
        """Read and validate the configuration; CLI values win over the environment.

        Raises:
            ConfigError: a variable is malformed or out of range.
        """
        env = os.environ if env is None else env
        api_port = int_setting(env, "API_PORT", 8080, 65535)
        the_port = api_port if port is None else port
        if not 1 <= the_port <= 65535:
            raise ConfigError(f"invalid port: {the_port} out of range [1, 65535]")
        the_host = host or env.get("API_HOST", "") or "127.0.0.1"
        level = env.get("LOG_LEVEL", "").strip().lower() or "info"
        if level not in _LOG_LEVELS:
            level = "info"
        init_backoff = int_setting(env, "RETRY_INITIAL_BACKOFF", 1000, 86_400_000)
        max_backoff = int_setting(env, "RETRY_MAX_BACKOFF", 60_000, 86_400_000)
        if max_backoff < init_backoff:
            raise ConfigError(
                f"invalid RETRY_MAX_BACKOFF: {max_backoff} is less than "
                f"RETRY_INITIAL_BACKOFF {init_backoff}"
            )
        backoff_type = env.get("RETRY_BACKOFF_TYPE", "").strip() or "exponential"
        if backoff_type not in _BACKOFF_TYPES:
            raise ConfigError(
                f'invalid RETRY_BACKOFF_TYPE: "{backoff_type}" (use {", ".join(_BACKOFF_TYPES)})'
            )
        webhook = env.get("WEBHOOK_BASE_URL", "") or f"http://localhost:{the_port}"
        the_store = (env.get("STORE_URL", "") if store_url is None else store_url).strip()
        if the_store:
            from argyll.engine.store.postgres_url import parse_postgres_url

            parse_postgres_url(the_store)  # a bad URL stops start-up here (one line)
        the_node = (
            node_id or env.get("NODE_ID", "") or env.get("RAFT_NODE_ID", "") or "argyll-1"
        ).strip()
        return cls(
            host=the_host,
            port=the_port,
            data_dir=data_dir if data_dir is not None else Path("argyll-data"),
            webhook_base_url=webhook.rstrip("/"),
            log_level=level,
            step_timeout_ms=int_setting(env, "STEP_TIMEOUT", 30_000, 31_536_000_000),
            memo_cache_size=int_setting(env, "MEMO_CACHE_SIZE", 65_536, 10_240_000),
            timebox_cache_size=int_setting(env, "TIMEBOX_CACHE_SIZE", 32_768, 1_024_000),
            retry=WorkConfig(
                max_retries=int_setting(env, "RETRY_MAX_RETRIES", 10, 1000),
                init_backoff=init_backoff,
                max_backoff=max_backoff,
                backoff_type=backoff_type,
            ),
            node_id=the_node,
            store_url=the_store,
            health_interval_ms=int_setting(env, "HEALTH_CHECK_INTERVAL", 30_000, 86_400_000),
            env_label=env.get("ENV", ""),
            log_format=parse_log_format(env),
            api_tokens=parse_tokens(env.get("API_TOKENS", "")),
            flow_retention_s=parse_duration("FLOW_RETENTION", env.get("FLOW_RETENTION", "")),
            cluster_lease_ms=int_setting(env, "CLUSTER_LEASE", 10_000, 3_600_000),
            advertise_url=env.get("ADVERTISE_URL", "").strip(),
        )
