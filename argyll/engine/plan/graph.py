"""The engine-level attribute graph of the catalog (CAT-6), kept incrementally.

Pure in-memory bookkeeping over registered steps. No I/O. Every mutation
costs time proportional to the step's attributes and their edges, never to
the catalog size, so registering step 10,001 is as cheap as registering the
first. The planner and the VAL-2 checks only read it.

Copying: :meth:`AttributeGraph.copy` exists but is O(catalog size). The
catalog does not need it: :func:`argyll.engine.plan.catalog_problem`
evaluates a candidate step against a *virtual* update of the graph (old
version removed, new version added) without touching it, and the catalog
mutates its graph only after the event is durable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import networkx as nx

from argyll.engine.plan.facts import StepFacts
from argyll.model.plan import AttributeEdges
from argyll.model.step import Step

__all__ = ["AttributeGraph"]


class AttributeGraph:
    """Steps, their attribute edges (CAT-6) and their step dependencies.

    Invariants kept by every mutation:

    - ``providers(n)`` / ``consumers(n)`` list the steps declaring ``n`` as an
      output / a required-or-optional input, in registration order, without
      duplicates;
    - an attribute name has a wire entry (:meth:`to_wire`) exactly while at
      least one registered step declares it, whatever its role;
    - ``required_index`` is the subset of the consumer lists whose role is
      ``required`` (pass 1 of the planner walks it);
    - ``dependencies`` has one node per step and an edge ``P -> C`` whenever
      ``P`` provides an attribute that ``C`` takes as an input.

    Attributes:
        steps: Stored steps by ID, in registration order (an update keeps
            the step's position).
        facts: Planning facts of each step (:class:`StepFacts`), by ID.
        dependencies: ``networkx.DiGraph`` of step dependencies, provider to
            consumer. Read it; never mutate it directly.
        version: Incremented by every mutation, for callers that cache
            derived data.
    """

    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}
        self.facts: dict[str, StepFacts] = {}
        self.dependencies: Any = nx.DiGraph()
        self.version = 0
        self._providers: dict[str, list[str]] = {}
        self._consumers: dict[str, list[str]] = {}
        self._required_by: dict[str, list[str]] = {}
        self._declared: dict[str, int] = {}
        self._types: dict[str, dict[str, int]] = {}
        self._seq: dict[str, int] = {}
        self._next_seq = 0
        self._flows: set[str] = set()

    # reading -----------------------------------------------------------------

    def __contains__(self, step_id: object) -> bool:
        return step_id in self.steps

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[str]:
        return iter(self.steps)

    def providers(self, name: str) -> list[str]:
        """IDs of the steps that output ``name``, in registration order (a copy)."""
        return list(self._providers.get(name, ()))

    def consumers(self, name: str) -> list[str]:
        """IDs of the steps that take ``name`` as an input, in registration order (a copy)."""
        return list(self._consumers.get(name, ()))

    @property
    def provider_index(self) -> Mapping[str, Sequence[str]]:
        """Read-only view: attribute name -> provider IDs (names without providers absent)."""
        return self._providers

    @property
    def consumer_index(self) -> Mapping[str, Sequence[str]]:
        """Read-only view: attribute name -> consumer IDs (names without consumers absent)."""
        return self._consumers

    @property
    def required_index(self) -> Mapping[str, Sequence[str]]:
        """Read-only view: attribute name -> IDs of steps requiring it (role ``required``)."""
        return self._required_by

    def declared_types(self, name: str) -> Mapping[str, int]:
        """How many registered steps declare ``name`` with each ``type`` (``""`` = untyped)."""
        return self._types.get(name, {})

    def registration_index(self, step_id: str) -> int:
        """A number ordering steps by first registration (kept across updates).

        Raises:
            KeyError: ``step_id`` is not registered.
        """
        return self._seq[step_id]

    @property
    def flow_ids(self) -> AbstractSet[str]:
        """Read-only view: IDs of steps with child goals (``flow`` steps), unordered."""
        return self._flows

    def flow_steps(self) -> list[str]:
        """IDs of steps with child goals (``flow`` steps), in registration order."""
        return sorted(self._flows, key=self._seq.__getitem__)

    def to_wire(self) -> dict[str, AttributeEdges]:
        """The catalog's ``attributes`` object (CAT-6), sorted by name.

        Every declared name has an entry; const/meta-only names have both
        lists empty (CONV-4: never ``null``). The lists are fresh copies.
        """
        return {
            name: AttributeEdges(
                providers=list(self._providers.get(name, ())),
                consumers=list(self._consumers.get(name, ())),
            )
            for name in sorted(self._declared)
        }

    # mutating ----------------------------------------------------------------

    def add_step(self, step: Step) -> None:
        """Register ``step``: append its edges and dependency arcs.

        Raises:
            ValueError: a step with this ID is already registered (use
                :meth:`replace_step`).
        """
        if step.id in self.steps:
            raise ValueError(f"step exists: {step.id}")
        facts = StepFacts.of(step)
        self.steps[step.id] = step
        self.facts[step.id] = facts
        self._seq[step.id] = self._next_seq
        self._next_seq += 1
        self._link(step.id, facts.outputs, facts.input_names, facts.required)
        self._count(facts, +1)
        self._connect(facts)
        self._track_flow(facts)
        self.version += 1

    def replace_step(self, step: Step) -> None:
        """Replace the stored version of ``step.id`` (CAT-6 [DECISION], EDGE-8).

        The old version's edges are removed and the new version's added: an
        edge both versions have keeps its list position; a new edge is
        appended. The step keeps its position in :attr:`steps`.

        Raises:
            KeyError: no step with this ID is registered.
        """
        old = self.facts[step.id]
        new = StepFacts.of(step)
        self._unlink(
            step.id,
            _minus(old.outputs, new.outputs),
            _minus(old.input_names, new.input_names),
            _minus(old.required, new.required),
        )
        self._count(old, -1)
        self.steps[step.id] = step
        self.facts[step.id] = new
        self._link(
            step.id,
            _minus(new.outputs, old.outputs),
            _minus(new.input_names, old.input_names),
            _minus(new.required, old.required),
        )
        self._count(new, +1)
        self.dependencies.remove_node(step.id)
        self._connect(new)
        self._track_flow(new)
        self.version += 1

    def remove_step(self, step_id: str) -> None:
        """Unregister ``step_id``: drop its edges; emptied, undeclared entries vanish.

        Raises:
            KeyError: no step with this ID is registered.
        """
        facts = self.facts.pop(step_id)
        del self.steps[step_id]
        del self._seq[step_id]
        self._unlink(step_id, facts.outputs, facts.input_names, facts.required)
        self._count(facts, -1)
        self.dependencies.remove_node(step_id)
        self._flows.discard(step_id)
        self.version += 1

    def copy(self) -> AttributeGraph:
        """An independent copy (O(catalog size); validation does not need one)."""
        other = AttributeGraph()
        other.steps = dict(self.steps)
        other.facts = dict(self.facts)
        other.dependencies = self.dependencies.copy()
        other.version = self.version
        other._providers = {k: list(v) for k, v in self._providers.items()}
        other._consumers = {k: list(v) for k, v in self._consumers.items()}
        other._required_by = {k: list(v) for k, v in self._required_by.items()}
        other._declared = dict(self._declared)
        other._types = {k: dict(v) for k, v in self._types.items()}
        other._seq = dict(self._seq)
        other._next_seq = self._next_seq
        other._flows = set(self._flows)
        return other

    # internals ---------------------------------------------------------------

    def _indexes(self) -> tuple[dict[str, list[str]], ...]:
        return (self._providers, self._consumers, self._required_by)

    def _link(self, sid: str, *names: Sequence[str]) -> None:
        """Append ``sid`` to the provider, consumer and required-by lists of ``names``."""
        for index, group in zip(self._indexes(), names, strict=True):
            for name in group:
                index.setdefault(name, []).append(sid)

    def _unlink(self, sid: str, *names: Sequence[str]) -> None:
        """Remove ``sid`` from those lists; drop lists left empty."""
        for index, group in zip(self._indexes(), names, strict=True):
            for name in group:
                ids = index[name]
                ids.remove(sid)
                if not ids:
                    del index[name]

    def _count(self, facts: StepFacts, delta: int) -> None:
        for name, type_ in facts.types:
            left = self._declared.get(name, 0) + delta
            if left:
                self._declared[name] = left
            else:
                del self._declared[name]
            types = self._types.setdefault(name, {})
            n = types.get(type_, 0) + delta
            if n:
                types[type_] = n
            else:
                del types[type_]
                if not types:
                    del self._types[name]

    def _track_flow(self, facts: StepFacts) -> None:
        if facts.flow_goals:
            self._flows.add(facts.step.id)
        else:
            self._flows.discard(facts.step.id)

    def _connect(self, facts: StepFacts) -> None:
        sid = facts.step.id
        graph = self.dependencies
        graph.add_node(sid)
        for name in facts.input_names:
            for provider in self._providers.get(name, ()):
                graph.add_edge(provider, sid)
        for name in facts.outputs:
            for consumer in self._consumers.get(name, ()):
                graph.add_edge(sid, consumer)


def _minus(names: Sequence[str], other: Sequence[str]) -> list[str]:
    """``names`` without those in ``other``, order kept."""
    drop = set(other)
    return [n for n in names if n not in drop]
