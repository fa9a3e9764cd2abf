"""The event-loop lag measure behind back-pressure (issue 17 item 4)."""

from __future__ import annotations

import asyncio
import time

from argyll.engine.server.admission import LagMonitor


def test_lag_monitor_sees_a_blocked_loop_and_recovers() -> None:
    async def scenario() -> tuple[float, float, float]:
        monitor = LagMonitor()
        monitor.current()
        await asyncio.sleep(0.2)
        calm = monitor.current()
        time.sleep(0.6)  # the loop is blocked: ready work waits
        await asyncio.sleep(0.06)
        blocked = monitor.current()
        await asyncio.sleep(1.0)
        return calm, blocked, monitor.current()

    calm, blocked, recovered = asyncio.run(scenario())
    assert calm < 0.05
    assert blocked > 0.1  # smoothed: 0.3 x the ~0.55 s the timer was late
    assert recovered < blocked / 4
