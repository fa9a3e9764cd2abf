"""The outcome of one work-item invocation (WORK-7), shared by the core and the executors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["NO_OUTPUTS", "Outcome", "OutcomeKind"]

OutcomeKind = Literal["success", "permanent", "transient"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one invocation, classified for retries (RETRY-1)."""

    kind: OutcomeKind
    """``success``, ``permanent`` (never retried) or ``transient`` (retryable)."""
    outputs: dict[str, Any] | None = None
    """On success, the outputs; ``None`` means the step returned none."""
    error: str = ""
    """On failure, the error text the work item records."""


NO_OUTPUTS: Final = Outcome("success")
"""Success without outputs (shared: Outcome is immutable)."""
