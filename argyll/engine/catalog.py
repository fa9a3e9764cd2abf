"""The step registry: a projection of catalog events (EVT-10) and pure decisions.

``Catalog.decide_*`` validate a request against the current projection and
return the event to append (or ``None`` for an idempotent no-op); they never
write. The engine appends the event and then calls ``apply``. Catalog
writes are serialized by the engine (CAT-8).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from argyll.engine.plan import AttributeGraph, catalog_problem
from argyll.errors import ConflictError, InvalidStepError, NotFoundError
from argyll.model import events as ev
from argyll.model.codec import ZERO_TIME
from argyll.model.step import Step, WorkConfig, comparable, with_work_defaults
from argyll.model.validate import CompileCheck, first_problem

__all__ = ["Catalog"]


class Catalog:
    """The catalog aggregate ``["catalog"]`` (CAT-1).

    Attributes:
        graph: Stored steps in registration order and the attribute graph (CAT-6).
        last_updated: Timestamp of the last catalog event (CAT-7).
        next_sequence: Sequence the next catalog event will get.
    """

    def __init__(self, defaults: WorkConfig) -> None:
        self.defaults = defaults
        self.graph = AttributeGraph()
        self.last_updated: datetime = ZERO_TIME
        self.next_sequence = 0

    @property
    def steps(self) -> dict[str, Step]:
        """Stored steps by ID, in registration order."""
        return self.graph.steps

    def apply(self, payload: ev.Payload, ts: datetime) -> None:
        """Apply one catalog event (EVT-10)."""
        match payload:
            case ev.StepRegistered(step=step) | ev.StepUpdated(step=step):
                if step.id in self.graph.steps:
                    self.graph.replace_step(step)
                else:
                    self.graph.add_step(step)
            case ev.StepUnregistered(step_id=step_id):
                if step_id in self.graph.steps:
                    self.graph.remove_step(step_id)
        self.last_updated = ts
        self.next_sequence += 1

    def stored_form(self, step: Step) -> Step:
        """The stored form of a submitted step (DATA-15)."""
        return with_work_defaults(step, self.defaults)

    def _validate(self, stored: Step, check: CompileCheck | None) -> None:
        problem = first_problem(stored, check)
        if problem is not None:
            raise InvalidStepError(problem)

    def _consistency(self, stored: Step) -> None:
        problem = catalog_problem(self.graph, stored)
        if problem is not None:
            raise InvalidStepError(problem)

    def decide_register(self, step: Step, check: CompileCheck | None) -> ev.Payload | None:
        """CAT-2: the event to raise, or ``None`` for an identical re-registration.

        Raises:
            InvalidStepError: VAL-1 or VAL-2 failed (400).
            ConflictError: a different step with this ID exists (409).
        """
        stored = self.stored_form(step)
        self._validate(stored, check)
        existing = self.graph.steps.get(stored.id)
        if existing is not None:
            if comparable(existing) == comparable(stored):
                return None
            raise ConflictError(f"step exists: {stored.id}")
        self._consistency(stored)
        return ev.StepRegistered(step=stored)

    def decide_update(self, step: Step, check: CompileCheck | None) -> ev.Payload | None:
        """CAT-3: the event to raise, or ``None`` when nothing changes.

        Raises:
            InvalidStepError: VAL-1 or VAL-2 failed (400).
            NotFoundError: no step with this ID (404).
        """
        stored = self.stored_form(step)
        self._validate(stored, check)
        existing = self.graph.steps.get(stored.id)
        if existing is None:
            raise NotFoundError(f"step not found: {stored.id}")
        if comparable(existing) == comparable(stored):
            return None
        self._consistency(stored)
        return ev.StepUpdated(step=stored)

    def decide_unregister(self, step_id: str) -> ev.Payload:
        """CAT-4: the unregister event.

        Raises:
            NotFoundError: no step with this ID (404).
        """
        if step_id not in self.graph.steps:
            raise NotFoundError(f"step not found: {step_id}")
        return ev.StepUnregistered(step_id=step_id)

    def to_wire(self) -> dict[str, Any]:
        """``{"last_updated", "steps", "attributes"}`` (API-3)."""
        return {
            "last_updated": self.last_updated,
            "steps": self.graph.steps,
            "attributes": self.graph.to_wire(),
        }

    def sorted_steps(self) -> list[Step]:
        """Stored steps sorted by ID (API-10)."""
        return [self.graph.steps[k] for k in sorted(self.graph.steps)]
