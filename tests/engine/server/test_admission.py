"""The event-loop lag measure behind back-pressure (issue 17 item 4)."""

from __future__ import annotations

import asyncio
import time

from argyll.engine.server.admission import LagMonitor


def test_lag_monitor_sees_a_saturated_loop_but_not_one_stall() -> None:
    async def scenario() -> tuple[float, float, float, float]:
        monitor = LagMonitor()
        monitor.current()
        await asyncio.sleep(0.4)
        calm = monitor.current()
        time.sleep(0.5)  # one long stall (a first compile, say)
        await asyncio.sleep(0.12)
        stalled = monitor.current()
        for _ in range(14):  # saturated: every timer runs late
            time.sleep(0.25)
            await asyncio.sleep(0)
        saturated = monitor.current()
        await asyncio.sleep(0.5)
        return calm, stalled, saturated, monitor.current()

    calm, stalled, saturated, recovered = asyncio.run(scenario())
    assert calm < 0.05
    assert stalled < 0.05
    assert saturated > 0.2
    assert recovered < 0.05
