"""Sandbox limits: the configured bounds and the per-call budget derived from them.

This module only holds values and their wire form (environment variables); it
enforces nothing. The Ale prelude, the Lua bootstrap and the worker pool read a
:class:`Budget` and raise :class:`argyll.errors.ScriptLimitExceeded` with the
stable messages built here (SCRIPT-6).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from argyll.errors import ConfigError

__all__ = [
    "Budget",
    "LimitKind",
    "Purpose",
    "ScriptLimits",
    "format_bytes",
    "format_seconds",
    "limit_message",
]

MIB = 1 << 20
KIB = 1 << 10

Purpose = Literal["script", "predicate", "match", "mapping"]
LimitKind = Literal["time", "memory", "size", "depth", "recursion"]


def format_seconds(seconds: float) -> str:
    """Render a duration the way limit messages show it: ``1s``, ``2.5s``, ``100ms``."""
    if seconds >= 1:
        text = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"{text}s"
    ms = seconds * 1000
    text = f"{ms:.3f}".rstrip("0").rstrip(".")
    return f"{text}ms"


def format_bytes(size: int) -> str:
    """Render a byte count as MiB or KiB when it divides evenly, else bytes."""
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size} bytes"


@dataclass(frozen=True, slots=True)
class Budget:
    """The bounds of one evaluation, chosen by purpose from :class:`ScriptLimits`.

    Budgets travel to worker processes, so they hold plain numbers only.
    """

    timeout: float
    """Wall-clock (Ale) or CPU (Lua) seconds the evaluation may use."""

    memory: int
    """Bytes the evaluation may allocate (Ale: cumulative; Lua: live heap)."""

    max_depth: int
    """Deepest nesting of a converted result."""

    max_items: int
    """Most values (scalars and containers) a converted result may hold."""

    max_bytes: int = MIB
    """Largest encoded result a worker sends back; larger is a ``size`` limit."""

    def message(self, kind: LimitKind) -> str:
        """The stable message for exceeding ``kind`` under this budget."""
        return limit_message(kind, self)


def limit_message(kind: LimitKind, budget: Budget) -> str:
    """Build the stable, user-facing message for a limit (SCRIPT-6).

    Examples: ``script exceeded its time limit (1s)``,
    ``script exceeded its memory limit (64 MiB)``.
    """
    if kind == "time":
        return f"script exceeded its time limit ({format_seconds(budget.timeout)})"
    if kind == "memory":
        return f"script exceeded its memory limit ({format_bytes(budget.memory)})"
    if kind == "depth":
        return f"script result too deeply nested (limit {budget.max_depth} levels)"
    if kind == "recursion":
        return "script exceeded its recursion limit (recursion too deep)"
    return f"script result too large (limit {budget.max_items} items)"


@dataclass(frozen=True, slots=True)
class ScriptLimits:
    """Bounds for every script the engine compiles or runs (SCRIPT-6).

    Step scripts (``Scripts.run``) get the ``script_*`` bounds; predicates,
    matches and mappings, which run inside a flow's decision, get the smaller
    ``eval_*`` bounds. Every field can be set from the environment with
    :meth:`from_env`; see ``docs/guides/scripts.md``.
    """

    script_timeout: float = 1.0
    """Seconds a step script may run (``ARGYLL_SCRIPT_TIMEOUT``)."""

    script_memory: int = 64 * MIB
    """Bytes a step script may allocate (``ARGYLL_SCRIPT_MEMORY``, in MiB)."""

    eval_timeout: float = 0.1
    """Seconds a predicate, match or mapping may run (``ARGYLL_SCRIPT_EVAL_TIMEOUT``)."""

    eval_memory: int = 16 * MIB
    """Bytes a predicate, match or mapping may allocate (``ARGYLL_SCRIPT_EVAL_MEMORY``, MiB)."""

    max_source: int = 32 * KIB
    """Largest accepted script source in bytes (``ARGYLL_SCRIPT_MAX_SOURCE``)."""

    max_depth: int = 64
    """Deepest nesting of a script result (``ARGYLL_SCRIPT_MAX_DEPTH``)."""

    max_items: int = 100_000
    """Most values a script result may hold (``ARGYLL_SCRIPT_MAX_ITEMS``)."""

    workers: int = field(default_factory=lambda: default_workers())
    """Worker processes for step scripts; 0 runs them in-process on threads
    (``ARGYLL_SCRIPT_WORKERS``). The default is the CPU count, at least 2."""

    cache_size: int = 4096
    """Compiled scripts kept per language (``ARGYLL_SCRIPT_CACHE_SIZE``)."""

    reserve: int = 2
    """Worker capacity kept for short scripts beyond ``workers``
    (``ARGYLL_SCRIPT_RESERVE``); see :mod:`argyll.engine.scripts.fair`."""

    slow_after: float = 0.05
    """Seconds after which a running step script counts as long
    (``ARGYLL_SCRIPT_SLOW_AFTER``)."""

    max_result_bytes: int = MIB
    """Largest encoded step-script result (the engine sets ``STEP_RESULT_LIMIT``)."""

    def __post_init__(self) -> None:
        problems = []
        for name in ("script_timeout", "eval_timeout"):
            value = getattr(self, name)
            if not 0 < value <= 3600:
                problems.append(f"{name} must be in (0, 3600] seconds, got {value}")
        for name in ("script_memory", "eval_memory", "max_source", "max_depth", "max_items"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be positive, got {getattr(self, name)}")
        if self.workers < 0:
            problems.append(f"workers must be >= 0, got {self.workers}")
        if self.reserve < 0:
            problems.append(f"reserve must be >= 0, got {self.reserve}")
        if not 0 < self.slow_after <= 3600:
            problems.append(f"slow_after must be in (0, 3600] seconds, got {self.slow_after}")
        if self.cache_size < 1:
            problems.append(f"cache_size must be positive, got {self.cache_size}")
        if problems:
            raise ValueError("; ".join(problems))

    def budget(self, purpose: Purpose) -> Budget:
        """The budget for one evaluation of the given purpose."""
        if purpose == "script":
            return Budget(
                self.script_timeout,
                self.script_memory,
                self.max_depth,
                self.max_items,
                self.max_result_bytes,
            )
        return Budget(self.eval_timeout, self.eval_memory, self.max_depth, self.max_items)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScriptLimits:
        """Read limits from environment variables; unset or empty means the default.

        Args:
            env: The variables to read; ``os.environ`` when ``None``.

        Raises:
            ConfigError: A variable does not parse or is out of range; the
                one-line message names the variable.
        """
        source = os.environ if env is None else env
        values: dict[str, object] = {"workers": default_workers()}
        for var, (name, parse) in _ENV_FIELDS.items():
            text = source.get(var, "").strip()
            if not text:
                continue
            try:
                values[name] = parse(text)
            except ValueError as exc:
                raise ConfigError(f'invalid {var}: "{text}" ({exc})') from None
        return cls(**values)  # type: ignore[arg-type]


def default_workers() -> int:
    """Worker processes when unconfigured: the CPU count, at least 2."""
    return max(2, os.cpu_count() or 2)


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 3600:
        raise ValueError("must be seconds in (0, 3600]")
    return value


def _int_in(low: int, high: int, scale: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"out of range [{low}, {high}]")
        return value * scale

    return parse


_ENV_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "ARGYLL_SCRIPT_TIMEOUT": ("script_timeout", _seconds),
    "ARGYLL_SCRIPT_MEMORY": ("script_memory", _int_in(1, 65536, MIB)),
    "ARGYLL_SCRIPT_EVAL_TIMEOUT": ("eval_timeout", _seconds),
    "ARGYLL_SCRIPT_EVAL_MEMORY": ("eval_memory", _int_in(1, 65536, MIB)),
    "ARGYLL_SCRIPT_MAX_SOURCE": ("max_source", _int_in(1, 16 * MIB)),
    "ARGYLL_SCRIPT_MAX_DEPTH": ("max_depth", _int_in(1, 1000)),
    "ARGYLL_SCRIPT_MAX_ITEMS": ("max_items", _int_in(1, 100_000_000)),
    "ARGYLL_SCRIPT_WORKERS": ("workers", _int_in(0, 256)),
    "ARGYLL_SCRIPT_CACHE_SIZE": ("cache_size", _int_in(1, 10_000_000)),
    "ARGYLL_SCRIPT_RESERVE": ("reserve", _int_in(0, 256)),
    "ARGYLL_SCRIPT_SLOW_AFTER": ("slow_after", _seconds),
}
