"""Building and starting a flow: goals, initial values and labels (DATA-31).

``FlowBuilder`` starts through a ``Client``, ``AsyncFlowBuilder`` through an
``AsyncClient`` (``await builder.start()``); both share the definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Self

from argyll.model.requests import FlowStartRequest

if TYPE_CHECKING:
    from argyll.sdk.async_client import AsyncClient
    from argyll.sdk.client import Client
    from argyll.sdk.flow_client import AsyncFlowClient, FlowClient

__all__ = ["AsyncFlowBuilder", "FlowBuilder", "FlowDefinition"]


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
class FlowDefinition:
    """An immutable description of a flow to start; every method returns a new one.

    Attributes:
        flow_id: The flow's ID; the engine sanitizes it (DATA-1).
        goals: Goal step IDs, in order.
        init: Initial values: attribute name -> list of values (DATA-30).
        labels: Flow labels (string -> string).
    """

    flow_id: str
    goals: tuple[str, ...] = ()
    init: Mapping[str, list[Any]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    def with_goals(self, *goals: str) -> Self:
        """Set all goals, replacing any set before."""
        return replace(self, goals=tuple(goals))

    def with_goal(self, goal: str) -> Self:
        """Append one goal."""
        return replace(self, goals=(*self.goals, goal))

    def with_initial_state(self, init: Mapping[str, list[Any]]) -> Self:
        """Set the initial values, replacing any set before.

        Args:
            init: Each attribute maps to a **list** of values (DATA-30):
                ``{"amount": [150]}``; an array passed as one value is
                wrapped: ``{"items": [["a", "b"]]}``.

        Raises:
            TypeError: A value is not a list.
        """
        return replace(self, init=_checked_init(init))

    def with_label(self, key: str, value: str) -> Self:
        """Add (or replace) one label."""
        return replace(self, labels={**self.labels, key: value})

    def with_labels(self, labels: Mapping[str, str]) -> Self:
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


@dataclass(frozen=True)
class FlowBuilder(FlowDefinition):
    """A flow to start through ``client``; get one from ``client.new_flow(flow_id)``."""

    client: Client = field(kw_only=True)

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
        return self.client.flow(self.client.start(self.build()))


@dataclass(frozen=True)
class AsyncFlowBuilder(FlowDefinition):
    """A flow to start through an ``AsyncClient``: ``await builder.start()``."""

    client: AsyncClient = field(kw_only=True)

    async def start(self) -> AsyncFlowClient:
        """Start the flow; see ``FlowBuilder.start``.

        Returns:
            An ``AsyncFlowClient`` for the started flow.

        Raises:
            FlowError: The engine refused the flow or is unreachable.
        """
        return self.client.flow(await self.client.start(self.build()))
