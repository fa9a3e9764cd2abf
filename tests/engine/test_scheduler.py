"""Keyed timers on an injected clock: arm, replace, cancel, cancel a flow, close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from argyll.engine.scheduler import Scheduler, SystemClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FixedClock:
    """A clock that stands still (only the delay passed to the loop matters)."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def recorder(
    log: list[str], name: str, fired: asyncio.Event | None = None
) -> Callable[[], Awaitable[None]]:
    async def callback() -> None:
        log.append(name)
        if fired is not None:
            fired.set()

    return callback


def test_system_clock_is_utc_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)


def test_a_due_timer_runs_at_once_and_a_future_one_waits_for_its_delay() -> None:
    async def body() -> None:
        scheduler = Scheduler(FixedClock(T0))
        log: list[str] = []
        fired = asyncio.Event()
        scheduler.arm(("deadline", "wf", "past"), T0 - timedelta(hours=1), recorder(log, "past"))
        scheduler.arm(("deadline", "wf", "later"), T0 + timedelta(hours=1), recorder(log, "later"))
        scheduler.arm(
            ("retry", "wf", "soon"), T0 + timedelta(milliseconds=1), recorder(log, "soon", fired)
        )
        await asyncio.wait_for(fired.wait(), 5)
        assert log == ["past", "soon"]
        assert scheduler.pending() == 1  # the one an hour ahead
        await scheduler.close()
        assert scheduler.pending() == 0

    asyncio.run(body())


def test_arming_a_key_again_replaces_its_timer() -> None:
    async def body() -> None:
        scheduler = Scheduler(FixedClock(T0))
        log: list[str] = []
        fired = asyncio.Event()
        key = ("retry", "wf", "step", "token")
        scheduler.arm(key, T0 + timedelta(hours=1), recorder(log, "first"))
        scheduler.arm(key, T0, recorder(log, "second", fired))
        assert scheduler.pending() <= 1
        await asyncio.wait_for(fired.wait(), 5)
        await asyncio.sleep(0)
        assert log == ["second"]
        assert scheduler.pending() == 0
        await scheduler.close()

    asyncio.run(body())


def test_cancel_and_cancel_flow_drop_only_their_timers() -> None:
    async def body() -> None:
        scheduler = Scheduler(FixedClock(T0))
        log: list[str] = []
        later = T0 + timedelta(hours=1)
        scheduler.arm(("deadline", "a", "x"), later, recorder(log, "a-x"))
        scheduler.arm(("retry", "a", "y"), later, recorder(log, "a-y"))
        scheduler.arm(("retry", "b", "z"), later, recorder(log, "b-z"))
        scheduler.cancel(("retry", "b", "z"))
        scheduler.cancel(("retry", "b", "unknown"))  # nothing armed: no error
        assert scheduler.pending() == 2
        scheduler.cancel_flow("a")  # TERM-5
        assert scheduler.pending() == 0
        scheduler.cancel_flow("a")
        await scheduler.close()
        assert log == []

    asyncio.run(body())


def test_a_failing_callback_is_logged_and_other_timers_still_fire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body() -> list[str]:
        scheduler = Scheduler(FixedClock(T0))
        log: list[str] = []
        fired = asyncio.Event()

        async def broken() -> None:
            raise RuntimeError("timer bug")

        scheduler.arm(("retry", "wf", "broken"), T0, broken)
        scheduler.arm(("retry", "wf", "ok"), T0, recorder(log, "ok", fired))
        await asyncio.wait_for(fired.wait(), 5)
        await scheduler.close()
        return log

    with caplog.at_level(logging.ERROR, logger="argyll.scheduler"):
        assert asyncio.run(body()) == ["ok"]
    assert "timer ('retry', 'wf', 'broken') failed" in caplog.text


def test_close_cancels_running_callbacks_and_refuses_new_timers() -> None:
    async def body() -> None:
        scheduler = Scheduler(FixedClock(T0))
        entered = asyncio.Event()
        cancelled: list[bool] = []

        async def long_running() -> None:
            entered.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        scheduler.arm(("retry", "wf", "long"), T0, long_running)
        await asyncio.wait_for(entered.wait(), 5)
        await scheduler.close()
        assert cancelled == [True]
        log: list[str] = []
        scheduler.arm(("retry", "wf", "after"), T0, recorder(log, "after"))
        assert scheduler.pending() == 0
        await asyncio.sleep(0.01)
        assert log == []

    asyncio.run(body())


def test_the_delay_comes_from_the_injected_clock() -> None:
    async def body() -> None:
        clock = FixedClock(T0)
        scheduler = Scheduler(clock)
        log: list[str] = []
        fired = asyncio.Event()
        clock.at = T0 + timedelta(days=1)  # the engine clock says the time is already past
        scheduler.arm(("deadline", "wf", "x"), T0 + timedelta(hours=1), recorder(log, "x", fired))
        await asyncio.wait_for(fired.wait(), 5)
        assert log == ["x"]
        await scheduler.close()

    asyncio.run(body())
