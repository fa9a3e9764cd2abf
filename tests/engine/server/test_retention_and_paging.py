"""FLOW_RETENTION removes old terminal flows (never active ones); GET /engine/flow pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ops_support import lua_step, running, until

from argyll.engine.config import Config
from argyll.engine.retention import sweep_interval

NEVER = {  # an async step nobody answers: its flow stays active
    "id": "ret-wait",
    "name": "ret-wait",
    "type": "async",
    "attributes": {"ret_wait_out": {"role": "output"}},
    "http": {"endpoint": "http://127.0.0.1:9/never"},
}


async def _retention(data_dir: Path) -> None:
    config = Config(data_dir=data_dir, flow_retention_s=2.0)
    async with running(config) as r:
        c = r.client
        assert r.ops.retention is not None and r.ops.retention.interval == 1.0
        await c.post("/engine/step", json=lua_step("ret-ok", "ret_out", "return {ret_out = 1}"))
        await c.post("/engine/step", json=NEVER)
        for i in range(5):
            await c.post("/engine/flow", json={"id": f"ret-{i}", "goals": ["ret-ok"]})
        await c.post("/engine/flow", json={"id": "ret-active", "goals": ["ret-wait"]})
        for i in range(5):
            assert await r.wait_status(f"ret-{i}") == "completed"
        assert (await c.get("/engine/flow/ret-0")).status_code == 200  # cached, then deleted
        # SQLite keeps the store's newest event (positions continue after it): make
        # sure it is not the last flow's.
        await c.post("/engine/step", json=lua_step("ret-later", "ret_later", "return {}"))

        async def swept() -> bool:
            listed = (await c.get("/engine/flow")).json()
            gone = (await c.get("/engine/flow/ret-4")).status_code == 404
            return gone and [f["id"] for f in listed] == ["ret-active"]

        await until(swept, timeout=20, message="terminal flows swept")
        for path in (
            "/engine/flow/ret-0",
            "/engine/flow/ret-0/status",
            "/engine/flow/ret-0/events",
        ):
            assert (await c.get(path)).status_code == 404, path
        active = await c.get("/engine/flow/ret-active")
        assert active.status_code == 200 and active.json()["status"] == "active"
        assert r.ops.retention.deleted == 5
        # The ID is free again.
        again = await c.post("/engine/flow", json={"id": "ret-0", "goals": ["ret-ok"]})
        assert again.status_code == 201
        assert await r.wait_status("ret-0") == "completed"


def test_retention_sweeps_terminal_flows_only(tmp_path: Path) -> None:
    asyncio.run(_retention(tmp_path))


def test_sweep_interval() -> None:
    assert sweep_interval(0.3) == 1.0
    assert sweep_interval(30) == 15.0
    assert sweep_interval(7 * 86400) == 60.0


async def _paging() -> None:
    async with running() as r:
        c = r.client
        await c.post("/engine/step", json=lua_step("pg-ok", "pg_out", "return {pg_out = 1}"))
        for i in range(5):
            await c.post("/engine/flow", json={"id": f"pg-{i}", "goals": ["pg-ok"]})
        for i in range(5):
            await r.wait_status(f"pg-{i}")
        everything = (await c.get("/engine/flow")).json()
        assert len(everything) == 5
        pages: list[list[dict[str, str]]] = []
        cursor = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = await c.get("/engine/flow", params=params)
            assert page.status_code == 200 and isinstance(page.json(), list)
            pages.append(page.json())
            cursor = page.headers.get("x-next-cursor")
            if cursor is None:
                break
        assert [len(p) for p in pages] == [2, 2, 1]
        assert [f for p in pages for f in p] == everything
        for bad in ({"limit": "0"}, {"limit": "x"}, {"limit": "1001"}, {"cursor": "!!"}):
            answer = await c.get("/engine/flow", params=bad)
            assert answer.status_code == 400, bad
            assert answer.json()["status"] == 400


def test_flow_list_pages_with_limit_and_cursor() -> None:
    asyncio.run(_paging())
