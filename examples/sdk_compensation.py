"""Seat reservation with compensation: undo the work that succeeded when a step fails.

"Reserve Seats" reserves each seat of ``seats`` in its own work item
(``for_each``), one at a time. Seat ``Z9`` is taken: that item fails
permanently (HTTP 409), so the step fails, and the engine calls the
compensation handler for every seat that was reserved (COMP-1..4), which
releases it. The flow ends ``failed`` with nothing left reserved.

To run it, start an engine (``python -m argyll serve``) and then::

    scripts/python examples/sdk_compensation.py

``ENGINE_URL`` selects another engine (default ``http://localhost:8080``).
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

from argyll import AttributeType, Client, StepContext
from argyll.errors import HTTPError

TAKEN = {"Z9"}


class Venue:
    """The reservations this step service holds, keyed by receipt token."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reserved: dict[str, str] = {}
        self.released: list[str] = []

    def reserve(self, ctx: StepContext, args: dict[str, Any]) -> dict[str, Any]:
        seat = args["seats"]
        if seat in TAKEN:
            raise HTTPError(409, f"seat {seat} is taken")
        with self.lock:
            # The receipt token makes a retried invocation idempotent (RETRY-6).
            self.reserved[ctx.receipt_token] = seat
        return {"reservation": f"res-{seat}"}

    def release(self, ctx: StepContext, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        with self.lock:
            self.reserved.pop(ctx.receipt_token, None)
            self.released.append(inputs["seats"])


def main(engine_url: str, seats: tuple[str, ...] = ("A1", "A2", "Z9")) -> dict[str, Any]:
    """Run one flow; returns the flow status and the seats released and still held."""
    venue = Venue()
    with Client(engine_url) as client:
        builder = (
            client.new_step()
            .with_name("Reserve Seats")
            .required("seats", AttributeType.ARRAY, for_each=True)
            .output("reservation", AttributeType.STRING)
            .with_work_config(parallelism=1)
            .with_compensate_handler(venue.release)
        )
        with builder.serve(venue.reserve):
            flow = (
                client.new_flow(f"seats-{uuid.uuid4().hex[:8]}")
                .with_goals(builder.step_id)
                .with_initial_state({"seats": [list(seats)]})
                .start()
            )
            # Deactivation waits for compensation to finish (TERM-7).
            state = flow.wait(timeout=30, deactivated=True)
    return {
        "status": state["status"],
        "error": state.get("error", ""),
        "released": sorted(venue.released),
        "still_reserved": sorted(venue.reserved.values()),
    }


if __name__ == "__main__":
    print(main(os.environ.get("ENGINE_URL", "http://localhost:8080")))
