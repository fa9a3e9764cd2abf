"""FlowRunner.state() returns committed state only (REC-6, ARCHITECTURE principle 4).

Found by tests/engine/execute/test_memo_api.py: a flow read as deactivated before its
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
    entered: asyncio.Event | None = None

    async def append(self, batch: AppendBatch) -> list[StoredEvent]:
        if self.gate is not None:
            if self.entered is not None:
                self.entered.set()
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
            await engine.runner.start("wf", ExecutionPlan(goals=[]), {})
            store.gate, store.entered = asyncio.Event(), asyncio.Event()
            writer = asyncio.ensure_future(engine.runner.write("wf", set_attribute))
            await store.entered.wait()  # the writer decided and waits in append
            reader = asyncio.ensure_future(engine.runner.state("wf"))
            # No dirty read of the uncommitted attribute: the reader cannot
            # finish while the append is held (it can only fail if it does).
            done, _ = await asyncio.wait({reader}, timeout=0.05)
            assert not done
            store.gate.set()
            state = await reader
            assert state is not None and state.attributes["k"][0].value == 1
            await writer
        finally:
            await engine.stop()

    asyncio.run(scenario())
