"""A runaway step script must not stall other work (SCRIPT-6).

While an infinite loop runs through ``Scripts.run`` (in a worker process),
other ``run`` calls complete and an asyncio heartbeat keeps ticking; the
runaway ends with a time-limit error and its worker is replaced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from argyll.engine.scripts import ScriptLimits, Scripts
from argyll.errors import ScriptLimitExceeded


@pytest.fixture
def pool_scripts() -> Iterator[Scripts]:
    instance = Scripts(ScriptLimits(workers=2, script_timeout=1.0))
    yield instance
    instance.close()


@pytest.mark.parametrize(
    ("language", "attack"),
    [("lua", "while true do end"), ("ale", "(reduce + (range))")],
)
def test_runaway_does_not_stall_other_work(
    pool_scripts: Scripts, language: str, attack: str
) -> None:
    async def scenario() -> tuple[int, list[float], float, BaseException | None]:
        # Warm both workers so the measurement is not dominated by start-up.
        await asyncio.gather(*(pool_scripts.run("ale", "1", [], {}) for _ in range(4)))
        beats = 0
        stop = asyncio.Event()

        async def heartbeat() -> None:
            nonlocal beats
            while not stop.is_set():
                beats += 1
                await asyncio.sleep(0.01)

        beat_task = asyncio.create_task(heartbeat())
        started = time.monotonic()
        runaway = asyncio.create_task(pool_scripts.run(language, attack, [], {}))
        await asyncio.sleep(0.05)
        finished: list[float] = []
        for i in range(20):
            result = await pool_scripts.run("lua", "return {n = n + 1}", ["n"], {"n": i})
            assert result == {"n": i + 1}
            finished.append(time.monotonic() - started)
        error: BaseException | None = None
        try:
            await runaway
        except ScriptLimitExceeded as exc:
            error = exc
        elapsed = time.monotonic() - started
        stop.set()
        await beat_task
        return beats, finished, elapsed, error

    beats, finished, elapsed, error = asyncio.run(scenario())
    assert isinstance(error, ScriptLimitExceeded)
    assert error.kind == "time"
    assert elapsed < 2.5
    # All twenty normal calls finished while the runaway was still running.
    assert finished[-1] < 0.9
    # The event loop kept ticking (10 ms heartbeat) for the whole second.
    assert beats >= 40
