"""The worker pool's own backstops: RLIMIT_AS, hard kill, replacement (SCRIPT-6)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from argyll.engine.scripts.limits import Budget
from argyll.engine.scripts.pool import WorkerPool
from argyll.errors import ScriptLimitExceeded

MIB = 1 << 20


def test_address_space_cap_stops_what_budgets_allow() -> None:
    """With a budget larger than the worker's RLIMIT_AS, the rlimit still wins."""
    pool = WorkerPool(size=1, memory_cap=48 * MIB, cache_size=16)
    generous = Budget(timeout=5.0, memory=4096 * MIB, max_depth=64, max_items=100_000)
    try:
        with pytest.raises(ScriptLimitExceeded) as caught:
            pool.call("lua", "k1", 'return #string.rep("x", 3e8)', [], {}, generous)
        assert caught.value.kind == "memory"
        assert pool.call("lua", "k2", "return {ok = true}", [], {}, generous) == {"ok": True}
    finally:
        pool.close()


def test_hard_deadline_kills_and_replaces() -> None:
    """A worker that does not answer by 2 x timeout + 0.25 s is killed and replaced.

    A stopped process stands in for one stuck in a long C call (which no
    in-worker check can interrupt).
    """
    pool = WorkerPool(size=1, memory_cap=256 * MIB, cache_size=16)
    tight = Budget(timeout=0.2, memory=64 * MIB, max_depth=64, max_items=100_000)
    try:
        assert pool.call("lua", "k0", "return 1", [], {}, tight) == {"result": 1}
        (pid,) = pool.process_ids
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(ScriptLimitExceeded) as caught:
            pool.call("lua", "k1", "return 1", [], {}, tight)
        elapsed = time.monotonic() - started
        assert caught.value.kind == "time"
        assert caught.value.message == "script exceeded its time limit (200ms)"
        assert 0.6 < elapsed < 1.5
        assert pool.call("lua", "k2", "return 2", [], {}, tight) == {"result": 2}
        assert pid not in pool.process_ids
    finally:
        pool.close()
