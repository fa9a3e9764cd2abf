"""Building and starting a flow: goals, initial values and labels (DATA-31)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from argyll.model.requests import FlowStartRequest

if TYPE_CHECKING:
    from argyll.sdk.client import Client
    from argyll.sdk.flow_client import FlowClient

__all__ = ["FlowBuilder"]


def _checked_init(init: Mapping[str, Any]) -> dict[str, list[Any]]:
    bad = sorted(name for name, values in init.items() if not isinstance(values, list))
    if bad:
        raise TypeError(
            f"initial values must be lists, got non-lists for {bad}: "
            "wrap each value, e.g. {'name': ['Alice']}; pass an array as one value "
            "as {'items': [['a', 'b']]}"
        )
    return {name: list(values) for name, values in init.items()}


@dataclass(frozen=True)
class FlowBuilder:
    """An immutable description of a flow to start; every method returns a new builder.

    Get one from ``client.new_flow(flow_id)``.

    Attributes:
        client: The engine client that starts the flow.
        flow_id: The flow's ID; the engine sanitizes it (DATA-1).
        goals: Goal step IDs, in order.
        init: Initial values: attribute name -> list of values (DATA-30).
        labels: Flow labels (string -> string).
    """

    client: Client
    flow_id: str
    goals: tuple[str, ...] = ()
    init: Mapping[str, list[Any]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    def with_goals(self, *goals: str) -> FlowBuilder:
        """Set all goals, replacing any set before."""
        return replace(self, goals=tuple(goals))

    def with_goal(self, goal: str) -> FlowBuilder:
        """Append one goal."""
        return replace(self, goals=(*self.goals, goal))

    def with_initial_state(self, init: Mapping[str, list[Any]]) -> FlowBuilder:
        """Set the initial values, replacing any set before.

        Args:
            init: Each attribute maps to a **list** of values (DATA-30):
                ``{"amount": [150]}``; an array passed as one value is
                wrapped: ``{"items": [["a", "b"]]}``.

        Raises:
            TypeError: A value is not a list.
        """
        return replace(self, init=_checked_init(init))

    def with_label(self, key: str, value: str) -> FlowBuilder:
        """Add (or replace) one label."""
        return replace(self, labels={**self.labels, key: value})

    def with_labels(self, labels: Mapping[str, str]) -> FlowBuilder:
        """Add (or replace) several labels; labels set before are kept."""
        return replace(self, labels={**self.labels, **labels})

    def build(self) -> FlowStartRequest:
        """The ``POST /engine/flow`` body (DATA-31); empty ``init``/``labels`` are omitted."""
        return FlowStartRequest(
            id=self.flow_id,
            goals=list(self.goals),
            init={name: list(values) for name, values in self.init.items()},
            labels=dict(self.labels),
        )

    def start(self) -> FlowClient:
        """Start the flow.

        Returns:
            A ``FlowClient`` for the started flow (under the ID the engine
            sanitized), e.g. to ``wait()`` for its outcome.

        Raises:
            FlowError: The engine refused the flow (no goals, unknown goal
                steps, missing required inputs, a conflicting duplicate) or
                is unreachable (``status_code=None``).
        """
        request = self.build()
        flow_id = self.client.start_flow(
            request.id, request.goals, init=request.init, labels=request.labels
        )
        return self.client.flow(flow_id)
