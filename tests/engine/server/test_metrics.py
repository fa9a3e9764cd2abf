"""``GET /metrics`` after real flows: counts, outcomes, durations, bounded labels."""

from __future__ import annotations

import asyncio

from ops_support import lua_step, running
from prometheus_client.parser import text_string_to_metric_families


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def _scenario() -> str:
    async with running() as r:
        c = r.client
        ok = lua_step("m-ok", "m_out", "return {m_out = 1}")
        bad = lua_step("m-bad", "m_bad_out", 'error("boom")')
        assert (await c.post("/engine/step", json=ok)).status_code == 201
        assert (await c.post("/engine/step", json=bad)).status_code == 201
        for i in range(3):
            assert (
                await c.post("/engine/flow", json={"id": f"ok-{i}", "goals": ["m-ok"]})
            ).is_success
        assert (await c.post("/engine/flow", json={"id": "bad-1", "goals": ["m-bad"]})).is_success
        for flow_id in ("ok-0", "ok-1", "ok-2"):
            assert await r.wait_status(flow_id) == "completed"
        assert await r.wait_status("bad-1") == "failed"
        rejected = await c.post("/webhook/nope/m-ok/tok", json={})
        assert rejected.status_code == 400
        scrape = await c.get("/metrics")
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        return scrape.text


def test_metrics_count_real_flows() -> None:
    text = asyncio.run(_scenario())
    s = _samples(text)
    assert s[("argyll_flows_started_total", ())] == 4
    assert s[("argyll_flows_completed_total", ())] == 3
    assert s[("argyll_flows_failed_total", ())] == 1
    assert s[("argyll_flows_active", ())] == 0
    assert s[("argyll_flow_duration_seconds_count", (("status", "completed"),))] == 3
    assert s[("argyll_flow_duration_seconds_count", (("status", "failed"),))] == 1
    assert s[("argyll_steps_total", (("outcome", "completed"), ("step_id", "m-ok")))] == 3
    assert s[("argyll_steps_total", (("outcome", "failed"), ("step_id", "m-bad")))] == 1
    assert s[("argyll_work_items_total", (("outcome", "succeeded"), ("step_id", "m-ok")))] == 3
    assert s[("argyll_work_items_total", (("outcome", "failed"), ("step_id", "m-bad")))] == 1
    assert s[("argyll_step_duration_seconds_count", (("step_id", "m-ok"),))] == 3
    assert s[("argyll_script_duration_seconds_count", (("language", "lua"),))] == 4
    assert s[("argyll_webhooks_total", (("result", "rejected"),))] == 1
    assert s[("argyll_store_append_duration_seconds_count", ())] > 0
    assert s[("argyll_store_append_events_sum", ())] > 0
    assert s[("argyll_http_requests_total", (("method", "POST"), ("status", "201")))] >= 6
    assert s[("argyll_websocket_connections", ())] == 0
    health = ("argyll_step_health", (("status", "healthy"), ("step_id", "m-ok")))
    assert s[health] == 1  # script steps are healthy once registered
    # Bounded cardinality: no flow IDs or tokens as label values.
    labels = {k for _, pairs in s for k, _ in pairs}
    assert labels <= {"status", "step_id", "outcome", "language", "result", "method", "le"}
    assert not any(v.startswith(("ok-", "bad-")) for _, pairs in s for _, v in pairs)
