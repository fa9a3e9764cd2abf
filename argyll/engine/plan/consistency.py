"""Catalog consistency checks of VAL-2, as pure functions over the graph.

No I/O, no mutation: a candidate step is checked against a *virtual* update
of the catalog (its old version removed, the new one added) computed on the
fly, so the graph needs no copy. Walks are iterative (a 10,000-step chain
does not hit the recursion limit) and remember fully explored steps, so each
check costs O(steps + edges reachable from the candidate), not exponential
time on diamond-shaped catalogs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from argyll.engine.plan.facts import StepFacts
from argyll.engine.plan.graph import AttributeGraph
from argyll.model.step import Step

__all__ = ["attribute_cycle", "catalog_problem", "flow_cycle", "type_conflict"]


def catalog_problem(graph: AttributeGraph, new_step: Step) -> str | None:
    """The first VAL-2 problem of registering or updating ``new_step``, or ``None``.

    Checks, in order: attribute type conflicts, attribute cycles, then
    flow-composition cycles. ``graph`` is left untouched.

    Args:
        graph: The current catalog graph (``new_step``'s old version, if any,
            still registered).
        new_step: The stored form of the step being registered or updated.

    Returns:
        ``attribute type conflict: <name>`` or ``circular dependency
        detected: step <id>`` (the reason part of VAL-3's ``invalid step``
        error), or ``None`` when the step is consistent with the catalog.
    """
    facts = StepFacts.of(new_step)
    return type_conflict(graph, facts) or attribute_cycle(graph, facts) or flow_cycle(graph, facts)


def type_conflict(graph: AttributeGraph, facts: StepFacts) -> str | None:
    """VAL-2 type conflict: another step types one of ``facts``' names differently.

    The step's own previous version is ignored; an unset type (``""``) is a
    distinct value. Names are checked in sorted order.
    """
    old = graph.facts.get(facts.step.id)
    old_types = dict(old.types) if old is not None else {}
    for name, type_ in facts.types:
        counts = graph.declared_types(name)
        if not counts:
            continue
        own = old_types.get(name)
        for other, n in counts.items():
            # The step's own previous version does not count (VAL-2).
            others = n - 1 if other == own else n
            if others > 0 and other != type_:
                return _conflict_text(graph, facts, name, type_)
    return None


def _type_text(type_: str) -> str:
    return type_ or "untyped"


def _conflict_text(graph: AttributeGraph, facts: StepFacts, name: str, type_: str) -> str:
    """``attribute type conflict: <name>``, naming the steps and types involved (issue 16).

    E.g. ``attribute type conflict: n: step "b" declares number; already
    declared as string by step "a"``. Steps are listed in registration order.
    """
    sid = facts.step.id
    by_type: dict[str, list[str]] = {}
    for other_id in sorted(graph.facts, key=graph.registration_index):
        if other_id == sid:
            continue
        other = dict(graph.facts[other_id].types).get(name)
        if other is not None and other != type_:
            by_type.setdefault(other, []).append(f'"{other_id}"')
    parts = [
        f"as {_type_text(t)} by step{'s' if len(ids) > 1 else ''} {', '.join(ids)}"
        for t, ids in by_type.items()
    ]
    return (
        f'attribute type conflict: {name}: step "{sid}" declares {_type_text(type_)}; '
        f"already declared {' and '.join(parts)}"
    )


def attribute_cycle(graph: AttributeGraph, facts: StepFacts) -> str | None:
    """VAL-2 attribute cycle: depth-first from the new step through input providers.

    For each input of a step (sorted by name) every provider (registration
    order) is visited, in the catalog updated with ``facts``' step. Reaching
    a step on the current path reports it.
    """
    sid = facts.step.id
    outputs = set(facts.outputs)
    old = graph.facts.get(sid)
    had = set(old.outputs) if old is not None else set()
    index = graph.provider_index

    def providers(name: str) -> Sequence[str]:
        base = index.get(name, ())
        if name in outputs:
            return base if name in had else (*base, sid)
        if name in had:
            return [p for p in base if p != sid]
        return base

    def upstream(step_id: str) -> Iterator[str]:
        step_facts = facts if step_id == sid else graph.facts[step_id]
        for inp in step_facts.inputs:
            yield from providers(inp.name)

    return _first_cycle([sid], upstream)


def flow_cycle(graph: AttributeGraph, facts: StepFacts) -> str | None:
    """VAL-2 flow-composition cycle over ``flow.goals`` in the updated catalog.

    Walks start at every flow step in registration order (a new step comes
    last); goal IDs that are not registered are ignored.
    """
    sid = facts.step.id
    starts = [s for s in graph.flow_steps() if s != sid]
    if facts.flow_goals:
        if sid in graph.steps:
            rank = graph.registration_index(sid)
            at = sum(1 for s in starts if graph.registration_index(s) < rank)
            starts.insert(at, sid)
        else:
            starts.append(sid)
    if not starts:
        return None

    def goals(step_id: str) -> Iterator[str]:
        if step_id == sid:
            yield from facts.flow_goals
            return
        step_facts = graph.facts.get(step_id)
        if step_facts is not None:
            yield from step_facts.flow_goals

    return _first_cycle(starts, goals)


def _first_cycle(starts: Sequence[str], successors: Callable[[str], Iterator[str]]) -> str | None:
    # Depth-first search with an explicit stack. A step whose walk finished
    # without finding a cycle reaches none, so it is never walked again; this
    # keeps the first cycle reported identical to the plain recursive walk.
    done: set[str] = set()
    for start in starts:
        if start in done:
            continue
        path = {start}
        stack = [(start, successors(start))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.discard(node)
                done.add(node)
                continue
            if nxt in path:
                return f"circular dependency detected: step {nxt}"
            if nxt not in done:
                path.add(nxt)
                stack.append((nxt, successors(nxt)))
    return None
