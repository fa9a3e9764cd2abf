"""Fair script scheduling: trivial scripts keep their latency beside runaways (SCRIPT-6).

The issue's runaway (a comparator sort that runs into the time limit) is
started eight times at once; a one-line Lua script must still answer fast
(p99 under 100 ms), and at most ``general`` long scripts may compute at a
time (the others wait or are paused). The admission policy itself is tested
without processes on :class:`FairGate`.
"""

from __future__ import annotations

import asyncio
import time

from argyll.engine.scripts import ScriptLimits, Scripts
from argyll.engine.scripts.fair import FairGate, Ticket
from argyll.errors import ScriptLimitExceeded

RUNAWAY = (
    "local t={} for i=1,3e5 do t[i]=-i end "
    "table.sort(t, function(a,b) for j=1,200 do end return a<b end)"
)


def test_trivial_script_keeps_its_latency_beside_eight_runaways() -> None:
    scripts = Scripts(ScriptLimits(workers=2, reserve=2))

    async def scenario() -> tuple[list[float], int, list[BaseException | None]]:
        await asyncio.gather(*(scripts.run("lua", "return 1", [], {}) for _ in range(4)))
        runaways = [asyncio.create_task(scripts.run("lua", RUNAWAY, [], {})) for _ in range(8)]
        await asyncio.sleep(0.3)  # the runaways are recognised as long within 50 ms of CPU
        gate = scripts._gate
        assert gate is not None
        latencies: list[float] = []
        most_computing = 0
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            started = time.monotonic()
            assert await scripts.run("lua", "return {x = x + 1}", ["x"], {"x": 1}) == {"x": 2}
            latencies.append(time.monotonic() - started)
            most_computing = max(most_computing, gate.running["long"] - len(gate.paused))
            await asyncio.sleep(0.01)
        errors: list[BaseException | None] = []
        for task in runaways:
            task.cancel()
        for task in runaways:
            try:
                await task
                errors.append(None)
            except (ScriptLimitExceeded, asyncio.CancelledError) as exc:
                errors.append(exc)
        return latencies, most_computing, errors

    try:
        latencies, most_computing, errors = asyncio.run(scenario())
    finally:
        scripts.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)]
    assert len(latencies) >= 20
    assert p99 < 0.1, f"p99 {p99 * 1000:.0f} ms over {len(latencies)} calls"
    assert most_computing <= 2
    assert None not in errors  # no runaway completed normally


class FakeWorker:
    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False


def test_gate_policy() -> None:
    async def scenario() -> None:
        gate = FairGate(general=2, reserve=1, slow_after=0.05)
        assert gate.capacity == 6
        # three unknown scripts run as short: general + reserve admissions
        shorts = [await gate.enter(f"s{i}") for i in range(3)]
        assert gate.running == {"short": 3, "long": 0}
        waiting = asyncio.create_task(gate.enter("s3"))
        await asyncio.sleep(0)
        assert not waiting.done()
        # all three turn long: two compute, the third is paused; the waiter gets in
        workers = [FakeWorker() for _ in shorts]
        for ticket, worker in zip(shorts, workers, strict=True):
            ticket.demote(worker)
        assert [w.paused for w in workers] == [False, False, True]
        fourth = await waiting
        assert gate.running == {"short": 1, "long": 3}
        # a known-long script waits while one is paused; a short one does not
        assert gate.known_long("s0")
        long_waiter = asyncio.create_task(gate.enter("s0"))
        short = await gate.enter("fresh")
        await asyncio.sleep(0)
        assert not long_waiter.done()
        # a long one ends: the paused one resumes before any new long run starts
        shorts[0].leave()
        assert not workers[2].paused
        await asyncio.sleep(0)
        assert not long_waiter.done()
        shorts[1].leave()
        again: Ticket = await long_waiter
        assert again.long and again.lane == "long"
        # a short finish makes its script short again
        for ticket in (fourth, short, shorts[2], again):
            ticket.leave()
        assert gate.running == {"short": 0, "long": 0}
        assert not gate.known_long("fresh")

    asyncio.run(scenario())


def test_lua_tostring_shows_no_heap_addresses() -> None:
    scripts = Scripts(ScriptLimits(workers=0))
    source = (
        "local t, f = {}, function() end "
        "return {a = tostring(t), b = tostring(f), c = string.format('%s %s', t, print), "
        "d = ('%s'):format({}), e = tostring(string), f = tostring(t)}"
    )
    try:
        out = asyncio.run(scripts.run("lua", source, [], {}))
    finally:
        scripts.close()
    assert out == {
        "a": "table: 1",
        "b": "function: 2",
        "c": "table: 1 function: 3",
        "d": "table: 4",
        "e": "table: 5",
        "f": "table: 1",
    }
    assert not any("0x" in value for value in out.values())
