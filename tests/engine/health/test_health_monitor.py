"""The health monitor over an in-memory engine, with a table instead of HTTP probes.

Covers recording (HEALTH-2), resets on register/update (CAT-5, HEALTH-3), the
checker round (HEALTH-4: spread, slow probes, flow steps re-derived), dispatch
gating (HEALTH-6) and loading the records before recovery (REC-2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.health import HealthState
from argyll.engine.store import MemoryStore
from argyll.model.step import Step


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(fn())  # type: ignore[arg-type]


def sync_step(step_id: str, outputs: list[str], health_check: str = "") -> Step:
    return msgspec.convert(
        {
            "id": step_id,
            "name": step_id,
            "type": "sync",
            "attributes": {n: {"role": "output"} for n in outputs},
            "http": {"endpoint": f"http://svc/{step_id}", "health_check": health_check},
        },
        Step,
    )


def flow_step(step_id: str, goals: list[str]) -> Step:
    return msgspec.convert(
        {"id": step_id, "name": step_id, "type": "flow", "flow": {"goals": goals}}, Step
    )


class FakeProbes:
    """``HTTPInvoker.probe`` from a table: URL -> (status, error), with optional delays."""

    def __init__(self) -> None:
        self.results: dict[str, tuple[str, str]] = {}
        self.delays: dict[str, float] = {}
        self.calls: list[tuple[str, float]] = []

    async def probe(self, url: str, timeout_s: float = 3.0) -> tuple[str, str]:
        assert timeout_s == 3.0  # HEALTH-4 / CFG-3
        self.calls.append((url, asyncio.get_running_loop().time()))
        await asyncio.sleep(self.delays.get(url, 0))
        return self.results.get(url, ("healthy", ""))


async def new_engine(store: MemoryStore, probes: FakeProbes, interval: float = 60.0) -> Engine:
    engine = Engine(Config(data_dir=None), store=store)
    engine.health.interval = interval
    engine.http.probe = probes.probe  # type: ignore[method-assign]
    await engine.start()
    await engine.health.stop()  # rounds are run by the tests, not the background timer
    return engine


async def cluster_events(engine: Engine) -> list[dict[str, Any]]:
    events = msgspec.json.decode(msgspec.json.encode(await engine.health.events()))["events"]
    return [e["data"] for e in events]


def test_register_resets_health_and_records_only_changes() -> None:  # CAT-5, HEALTH-2/3
    async def scenario() -> None:
        store, probes = MemoryStore(), FakeProbes()
        engine = await new_engine(store, probes)
        try:
            step = sync_step("a", ["x"], "http://svc/health")
            await engine.register_step(step)
            await engine.register_step(step)  # identical: no catalog event, no reset
            assert await cluster_events(engine) == [
                {"node_id": "argyll-1", "step_id": "a", "status": "unknown"}
            ]
            assert await engine.health.record({"a": HealthState("unknown")}) is False
            assert await engine.health.record({"a": HealthState("unhealthy", "down")}) is True
            assert engine.health.dispatchable("a") is False  # HEALTH-6
            updated = msgspec.structs.replace(step, name="renamed")
            await engine.update_step("a", updated)  # HEALTH-3: back to unknown
            assert engine.health.dispatchable("a") is True
            statuses = [e["status"] for e in await cluster_events(engine)]
            assert statuses == ["unknown", "unhealthy", "unknown"]
        finally:
            await engine.stop()

    run(scenario)


def test_checker_round_probes_rederives_flow_steps_and_gates() -> None:  # HEALTH-4/5/6
    async def scenario() -> None:
        store, probes = MemoryStore(), FakeProbes()
        engine = await new_engine(store, probes)
        try:
            await engine.register_step(sync_step("a", ["x"], "http://svc/a/health"))
            await engine.register_step(sync_step("plain", ["y"]))  # no health_check: never probed
            await engine.register_step(flow_step("f", ["a"]))
            probes.results["http://svc/a/health"] = ("unhealthy", "HTTP 503 Service Unavailable")
            probes.calls.clear()
            await engine.health.check_once()
            assert [url for url, _ in probes.calls] == ["http://svc/a/health"]
            # recorded from the local records; API-16 merges nodes first (node prefix)
            assert engine.health.cluster.record("argyll-1", "f") == HealthState(
                "unhealthy", "step a: HTTP 503 Service Unavailable"
            )
            assert engine.health.resolved("f") == HealthState(
                "unhealthy", "step a: node argyll-1: HTTP 503 Service Unavailable"
            )
            assert not engine.health.dispatchable("a") and not engine.health.dispatchable("f")
            assert engine.health.dispatchable("plain")
            before = len(await cluster_events(engine))
            await engine.health.check_once()  # nothing changed: no events (HEALTH-2)
            assert len(await cluster_events(engine)) == before
            probes.results.clear()
            await engine.health.check_once()
            assert engine.health.dispatchable("a") and engine.health.dispatchable("f")
            assert engine.health.resolved("f") == HealthState("healthy")
            assert engine.health.resolved("plain") == HealthState("unknown")
            assert engine.health.resolved("gone") is None
            state = msgspec.to_builtins(engine.engine_state())
            assert state["health"]["argyll-1"]["health"]["plain"] == {"status": "unknown"}
        finally:
            await engine.stop()

    run(scenario)


def test_probes_are_spread_and_a_slow_one_delays_no_other() -> None:  # HEALTH-4
    async def scenario() -> None:
        store, probes = MemoryStore(), FakeProbes()
        engine = await new_engine(store, probes)
        try:
            for i in range(4):
                await engine.register_step(sync_step(f"s{i}", [f"o{i}"], f"http://svc/{i}"))
            engine.health.interval = 0.4
            probes.delays["http://svc/0"] = 0.3
            probes.calls.clear()
            start = asyncio.get_running_loop().time()
            await engine.health.check_once(start)
            offsets = {url: t - start for url, t in probes.calls}
            for i in range(4):
                assert abs(offsets[f"http://svc/{i}"] - i * 0.1) < 0.05, offsets
        finally:
            await engine.stop()

    run(scenario)


def test_records_are_loaded_before_recovery() -> None:  # REC-2, REC-1
    async def scenario() -> None:
        store, probes = MemoryStore(), FakeProbes()
        probes.results["http://svc/h"] = ("unhealthy", "refused")
        engine = await new_engine(store, probes)
        await engine.register_step(sync_step("a", ["x"], "http://svc/h"))
        await engine.health.check_once()
        count = len(await cluster_events(engine))
        await engine.stop()

        blocked = asyncio.Event()

        async def never(url: str, timeout_s: float = 3.0) -> tuple[str, str]:
            await blocked.wait()  # the checker of the restarted engine never answers
            return "healthy", ""

        again = Engine(Config(data_dir=None), store=store)
        again.http.probe = never  # type: ignore[method-assign]
        await again.start()
        try:
            assert again.health.dispatchable("a") is False  # gated before any probe
            assert again.health.cluster.next_sequence == count
            assert again.health.resolved("a") == HealthState("unhealthy", "node argyll-1: refused")
        finally:
            await again.stop()

    run(scenario)
