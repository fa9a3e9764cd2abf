"""Fair script scheduling: trivial scripts keep their latency beside runaways (SCRIPT-6).

The issue's runaway (a comparator sort that runs into the time limit) is
started eight times at once; a one-line Lua script must still answer fast:
p95 under 100 ms (first-in-first-out scheduling made it wait 4-10 s), or,
when the shared machine is so loaded that the same calls already exceed that
without any runaway, under three times their p95 measured just before (a
floor from the same run, as PERF.md asks). Measured on its own (see
docs/reference/reliability.md) p99 is 14-30 ms; with nine agents sharing two
cores, single outliers of 100-300 ms come from the machine, so CI asserts
the p95. At most ``general`` long scripts
compute at a time (the others wait or are paused). The admission policy
itself is tested without processes on :class:`FairGate`.
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

    async def trivial_calls(seconds: float) -> list[float]:
        latencies: list[float] = []
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            started = time.monotonic()
            assert await scripts.run("lua", "return {x = x + 1}", ["x"], {"x": 1}) == {"x": 2}
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.01)
        return sorted(latencies)

    async def scenario() -> tuple[list[float], list[float], int, list[BaseException | None]]:
        await asyncio.gather(*(scripts.run("lua", "return 1", [], {}) for _ in range(4)))
        warm = time.monotonic() + 30
        while len(scripts.worker_pids) < 6 and time.monotonic() < warm:  # 2 + 2 x reserve
            await asyncio.sleep(0.05)
        alone = await trivial_calls(1.0)
        runaways = [asyncio.create_task(scripts.run("lua", RUNAWAY, [], {})) for _ in range(8)]
        await asyncio.sleep(0.3)  # the runaways are recognised as long within 50 ms of CPU
        gate = scripts._gate
        assert gate is not None
        most_computing = 0

        async def watch() -> None:
            nonlocal most_computing
            while True:
                most_computing = max(most_computing, gate.running["long"] - len(gate.paused))
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        latencies = await trivial_calls(1.5)
        watcher.cancel()
        errors: list[BaseException | None] = []
        for task in runaways:
            task.cancel()
        for task in runaways:
            try:
                await task
                errors.append(None)
            except (ScriptLimitExceeded, asyncio.CancelledError) as exc:
                errors.append(exc)
        return alone, latencies, most_computing, errors

    try:
        alone, latencies, most_computing, errors = asyncio.run(scenario())
    finally:
        scripts.close()
    p95 = latencies[int(len(latencies) * 0.95)]
    floor = alone[int(len(alone) * 0.95)]
    assert len(latencies) >= 20
    assert p95 < max(0.1, 3 * floor), (
        f"p95 {p95 * 1000:.0f} ms over {len(latencies)} calls; alone {floor * 1000:.0f} ms"
    )
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
