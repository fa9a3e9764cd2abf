"""A trivial Lua flow keeps its latency while eight runaway flows run (issue 17 item 3).

Over real HTTP against a real engine of its own (the runaways would slow
other tests' flows): eight flows of the issue's runaway script start at
once; then one-line Lua flows run one after another. Before fair scheduling
they took 4 to 10 s each. Now, from ``POST /engine/flow`` to ``completed``,
their median stays under 100 ms and their p99 under a second on the shared
CI machine, whose own load puts a lone flow's p95 at 50-150 ms and makes
tighter end-to-end bounds flaky (measured: median 25-45 ms, p99 120-330 ms).
The 100 ms p99 bound is asserted where the scheduler decides it, on the
script call itself: ``tests/engine/scripts/test_scripts_fairness.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from support import EngineProcess

RUNAWAY = (
    "local t={} for i=1,3e5 do t[i]=-i end "
    "table.sort(t, function(a,b) for j=1,200 do end return a<b end) return {slow = 1}"
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path_factory.mktemp("fair"), env={"ARGYLL_SCRIPT_WORKERS": "2"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def lua(step_id: str, source: str, out: str) -> dict[str, object]:
    return {
        "id": step_id,
        "name": step_id,
        "type": "script",
        "attributes": {out: {"role": "output"}},
        "script": {"language": "lua", "script": source},
    }


def test_trivial_flow_latency_beside_runaway_flows(engine: EngineProcess) -> None:
    with httpx.Client(base_url=engine.url, timeout=10) as http:
        assert http.post("/engine/step", json=lua("runaway", RUNAWAY, "slow")).status_code == 201
        trivial = lua("trivial", "return {fast = 1}", "fast")
        assert http.post("/engine/step", json=trivial).status_code == 201

        def run(flow_id: str, goal: str) -> float:
            started = time.monotonic()
            assert http.post("/engine/flow", json={"id": flow_id, "goals": [goal]}).status_code
            while http.get(f"/engine/flow/{flow_id}/status").json()["status"] == "active":
                time.sleep(0.002)
            return time.monotonic() - started

        for i in range(5):  # warm the workers and the plan cache
            run(f"warm-{i}", "trivial")
        alone = sorted(run(f"alone-{i}", "trivial") for i in range(21))
        for i in range(8):
            response = http.post("/engine/flow", json={"id": f"runaway-{i}", "goals": ["runaway"]})
            assert response.status_code == 201
        time.sleep(0.3)
        latencies = sorted(run(f"trivial-{i}", "trivial") for i in range(40))
        p99 = latencies[int(len(latencies) * 0.99)]
        assert latencies[20] < 0.1 and p99 < 1.0, (
            f"p99 {p99 * 1000:.0f} ms, median {latencies[20] * 1000:.0f} ms; "
            f"alone: median {alone[10] * 1000:.0f} ms"
        )
        active = http.get("/engine/flow/runaway-7/status").json()["status"]
        assert active == "active"  # the measurement ran while the runaways did
