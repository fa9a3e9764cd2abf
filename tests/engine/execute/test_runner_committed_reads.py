"""FlowRunner.state() returns committed state only (REC-6, ARCHITECTURE principle 4).

Found by tests/e2e/test_memo_e2e.py: a flow read as deactivated before its
last write committed let the next flow run before that write's effects.
"""

from __future__ import annotations

import asyncio

from argyll.engine.config import Config
from argyll.engine.engine import Engine
from argyll.engine.flow.tx import Env, Tx
from argyll.engine.store import MemoryStore
from argyll.engine.store.base import AppendBatch, StoredEvent
from argyll.model import events as ev
from argyll.model.flow import FlowState
from argyll.model.plan import ExecutionPlan


class GatedStore(MemoryStore):
    """A memory store whose appends wait for ``gate`` when one is set."""

    gate: asyncio.Event | None = None

    async def append(self, batch: AppendBatch) -> list[StoredEvent]:
        if self.gate is not None:
            await self.gate.wait()
        return await super().append(batch)


def set_attribute(state: FlowState, env: Env) -> Tx:
    tx = Tx(state, env)
    tx.raise_(ev.AttributeSet(flow_id=state.id, step_id="x", key="k", value=1))
    return tx


def test_reads_wait_for_a_write_in_progress() -> None:
    async def scenario() -> None:
        store = GatedStore()
        engine = Engine(Config(data_dir=None), store=store)
        await engine.start()
        try:
            await engine.start_planned("wf", ExecutionPlan(goals=[]), {})
            store.gate = asyncio.Event()
            writer = asyncio.ensure_future(engine.runner.write("wf", set_attribute))
            for _ in range(5):
                await asyncio.sleep(0)  # the writer decides, then waits in append
            reader = asyncio.ensure_future(engine.runner.state("wf"))
            await asyncio.sleep(0.01)
            assert not reader.done()  # no dirty read of the uncommitted attribute
            store.gate.set()
            state = await reader
            assert state is not None and state.attributes["k"][0].value == 1
            await writer
        finally:
            await engine.stop()

    asyncio.run(scenario())
