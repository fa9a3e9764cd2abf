"""Reading one flow: its state, and waiting for its outcome."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from argyll.errors import FlowError

if TYPE_CHECKING:
    from argyll.sdk.client import Client

__all__ = ["TERMINAL_STATUSES", "FlowClient", "is_deactivated"]

#: Flow statuses after which nothing new starts (TERM-1..4).
TERMINAL_STATUSES = frozenset({"completed", "failed"})


def is_deactivated(state: dict[str, Any]) -> bool:
    """True when ``deactivated_at`` is set: no work is active or compensating (TERM-7).

    An unset timestamp is the zero time ``0001-01-01T00:00:00Z`` (CONV-1).
    """
    stamp = state.get("deactivated_at")
    return isinstance(stamp, str) and bool(stamp) and not stamp.startswith("0001-01-01")


class FlowClient:
    """Reads the flow ``flow_id`` through ``client``.

    Step handlers get one for the flow they run in as ``ctx.client``.

    Args:
        client: The engine client.
        flow_id: The flow's ID (exact; not sanitized).
    """

    def __init__(
        self,
        client: Client,
        flow_id: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._flow_id = flow_id
        self._sleep = sleep
        self._clock = clock

    @property
    def flow_id(self) -> str:
        """The flow's ID."""
        return self._flow_id

    @property
    def client(self) -> Client:
        """The engine client this flow is read through."""
        return self._client

    def __repr__(self) -> str:
        return f"FlowClient({self._flow_id!r})"

    def get_state(self) -> dict[str, Any]:
        """The flow's full state: the engine's JSON for ``GET /engine/flow/{id}`` (API-50).

        Raises:
            FlowError: 404 ``flow not found: <id>``, or the engine is
                unreachable (``status_code=None``).
        """
        return self._client.get_flow_state(self._flow_id)

    def wait(
        self,
        timeout: float = 30.0,
        poll_interval: float = 0.1,
        *,
        deactivated: bool = False,
    ) -> dict[str, Any]:
        """Poll the flow until it is ``completed`` or ``failed``; returns that state.

        A failed flow is returned, not raised: check ``state["status"]`` and
        ``state.get("error")``.

        Args:
            timeout: Seconds to wait in total. Defaults to 30.
            poll_interval: Seconds between polls. Defaults to 0.1.
            deactivated: Also wait until the flow is deactivated, i.e. no
                work item is still active or compensating (TERM-7). Use it
                to wait for compensation to finish after a failure.

        Returns:
            The terminal flow state (the JSON of ``get_state()``).

        Raises:
            FlowError: The flow is not terminal (or not deactivated) within
                ``timeout`` (``status_code=None``), does not exist (404), or
                the engine is unreachable.
        """
        deadline = self._clock() + timeout
        while True:
            state = self.get_state()
            status = state.get("status")
            if status in TERMINAL_STATUSES and (not deactivated or is_deactivated(state)):
                return state
            remaining = deadline - self._clock()
            if remaining <= 0:
                what = "deactivated" if deactivated and status in TERMINAL_STATUSES else "finished"
                raise FlowError(
                    f"flow {self._flow_id} not {what} after {timeout:g}s (status {status}); "
                    "wait longer with wait(timeout=...)"
                )
            self._sleep(min(poll_interval, remaining))
