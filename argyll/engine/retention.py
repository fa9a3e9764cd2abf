"""Flow retention (``FLOW_RETENTION``): a background sweep deleting old terminal flows.

Every ``interval`` seconds (half the retention, between 1 s and 60 s) the
sweeper asks the store to delete terminal flows whose index time is older
than the retention, ``batch`` flows per transaction, yielding between
transactions so the engine never stalls. Active flows are never touched
(the store only deletes terminal flows and keeps a flow with an active
child). Deleted flows are dropped from the repository's cache, so reading
one afterwards is a 404.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from argyll.engine.background import Background

if TYPE_CHECKING:
    from argyll.engine.engine import Engine

__all__ = ["RetentionSweeper", "sweep_interval"]

log = logging.getLogger("argyll.retention")


def sweep_interval(retention_s: float) -> float:
    """Seconds between sweeps: half the retention, at least 1 s, at most 60 s."""
    return min(60.0, max(1.0, retention_s / 2))


class RetentionSweeper:
    """Deletes terminal flows older than ``retention_s`` in batches of ``batch``."""

    def __init__(self, engine: Engine, retention_s: float, batch: int = 50) -> None:
        self.engine = engine
        self.retention = timedelta(seconds=retention_s)
        self.interval = sweep_interval(retention_s)
        self.batch = batch
        self.deleted = 0
        self._loop = Background(self._run)

    async def sweep(self, max_batches: int = 1000) -> int:
        """One sweep: delete batches until none is full; returns the flows deleted."""
        total = 0
        for _ in range(max_batches):
            cutoff = self.engine.clock.now() - self.retention
            ids = await self.engine.store.delete_flows_before(cutoff, self.batch)
            for flow_id in ids:
                self.engine.repository.forget_flow(flow_id)
            total += len(ids)
            if len(ids) < self.batch:
                break
            await asyncio.sleep(0.01)  # let appends through between transactions
        self.deleted += total
        if total:
            log.info("retention deleted %d terminal flows", total, extra={"deleted": total})
        return total

    def start(self) -> None:
        """Start sweeping in the background (idempotent)."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop sweeping and wait for the current sweep."""
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(self.interval)
