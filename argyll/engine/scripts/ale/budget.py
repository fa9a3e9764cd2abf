"""Per-call fuel, deadline and allocation meter for Ale, kept per thread.

Generated code calls :func:`tick` at every lambda entry and the prelude calls
:func:`tick`/:func:`charge` for every element it consumes and :func:`alloc`
for every value it builds. Every :data:`CHECK_EVERY` ticks the wall clock is
compared with the deadline. Nothing here knows about Scripts or languages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "CHECK_EVERY",
    "AleError",
    "AleLimit",
    "Meter",
    "alloc",
    "charge",
    "metered",
    "tick",
]

CHECK_EVERY = 256
"""Ticks between two looks at the clock."""

_monotonic = time.monotonic


class AleError(Exception):
    """An Ale runtime error; the message is shown to the user."""


class AleLimit(Exception):
    """An Ale evaluation exceeded a sandbox limit.

    Attributes:
        kind: ``time``, ``memory``, ``size``, ``depth`` or ``recursion``.
        detail: A specific message, or empty to use the budget's stable text.
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail


class Meter:
    """The running totals of one evaluation."""

    __slots__ = ("countdown", "deadline", "mem_left")

    def __init__(self, timeout: float, memory: int) -> None:
        self.countdown = CHECK_EVERY
        self.deadline = _monotonic() + timeout
        self.mem_left = memory


class _State(threading.local):
    meter: Meter | None = None


_state = _State()


@contextmanager
def metered(timeout: float, memory: int) -> Iterator[Meter]:
    """Install a fresh meter for the current thread for the duration of a call."""
    previous = _state.meter
    meter = Meter(timeout, memory)
    _state.meter = meter
    try:
        yield meter
    finally:
        _state.meter = previous


def _check(meter: Meter) -> None:
    meter.countdown = CHECK_EVERY
    if _monotonic() > meter.deadline:
        raise AleLimit("time")


def tick() -> None:
    """Charge one unit of work (a call or one consumed element)."""
    meter = _state.meter
    if meter is None:
        raise AleError("Ale code ran outside an evaluation")
    meter.countdown -= 1
    if meter.countdown <= 0:
        _check(meter)


def charge(units: int) -> None:
    """Charge ``units`` of work at once (bulk operations done in C)."""
    meter = _state.meter
    if meter is None:
        raise AleError("Ale code ran outside an evaluation")
    meter.countdown -= units
    if meter.countdown <= 0:
        _check(meter)


def alloc(size: int) -> None:
    """Charge ``size`` bytes against the memory budget (cumulative, not live)."""
    meter = _state.meter
    if meter is None:
        raise AleError("Ale code ran outside an evaluation")
    meter.mem_left -= size
    if meter.mem_left < 0:
        raise AleLimit("memory")
