"""Pure planning over the catalog graph (SPEC 4.2). No I/O.

``build_plan`` turns ``(graph, goals, init)`` into an
:class:`~argyll.model.plan.ExecutionPlan`, recursively for flow steps
(PLAN-10). It only reads the graph, and resolves it backward from the goals
on networkx: the graph's dependency ``DiGraph`` (kept up to date on every
catalog change) gives each goal's ancestors, the upstream closure that both
passes work within. The plan rules on top walk the graph's plain-dict
indexes in their specified order, iteratively, so catalogs of any depth
plan without recursion.

Pass 1 (PLAN-4) is computed only over the goals' upstream closure (every
provider of every input, transitively): a step's satisfiability depends only
on its upstream, and pass 2 never looks at any other step, so the result is
the same as a fixpoint over the whole catalog at a fraction of the cost.

Output order is deterministic (EDGE-9): ``steps``, ``attributes``,
``excluded`` maps and ``children`` are keyed in sorted order, and the
provider/consumer lists of plan attributes list included steps sorted by ID.
Inputs of a step are walked in name order, providers in registration order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import networkx as nx

from argyll.engine.plan.facts import StepFacts
from argyll.engine.plan.gate import Gate, MatchEvaluator, MatchStatus, step_gate
from argyll.engine.plan.graph import AttributeGraph
from argyll.errors import BadRequestError, InternalError, NotFoundError
from argyll.model.plan import AttributeEdges, Excluded, ExecutionPlan

__all__ = ["build_plan", "placeholder_init", "upstream_closure"]

_NO_STATUSES: dict[str, MatchStatus] = {}


def build_plan(
    graph: AttributeGraph,
    goals: Sequence[str],
    init: Mapping[str, Sequence[Any]],
    *,
    preview: bool,
    match: MatchEvaluator | None,
) -> ExecutionPlan:
    """Build the execution plan for ``goals`` (PLAN-1..12).

    Args:
        graph: The catalog graph; only read.
        goals: Goal step IDs, kept verbatim as the plan's ``goals``.
        init: Initial values, attribute name -> list of values (DATA-30); a
            name with an empty list counts as not provided.
        preview: Preview mode (``POST /engine/plan``) when true, strict mode
            (flow start) when false (PLAN-12). Child plans use the same mode.
        match: Evaluates required-match scripts at plan time (PLAN-9). With
            ``None``, a gated input with init candidates counts as ``unknown``.

    Returns:
        The plan, with ``children`` for included flow steps. Its ``steps``
        hold the graph's stored step objects.

    Raises:
        BadRequestError: ``goals`` is empty (PLAN-2).
        NotFoundError: a goal, or a child plan's goal, is not registered; the
            message lists the whole top-level goal list (PLAN-2, PLAN-10).
        InternalError: a flow step is its own ancestor through child plans
            (PLAN-10).
    """
    return _create(graph, list(goals), init, preview, match, (), goals)


def upstream_closure(graph: AttributeGraph, goals: Sequence[str]) -> set[str]:
    """The goals and every step they transitively depend on (their networkx ancestors)."""
    dependencies = graph.dependencies
    upstream: set[str] = set()
    for goal in goals:
        if goal not in upstream:  # else its ancestors are in already
            upstream |= nx.ancestors(dependencies, goal)
            upstream.add(goal)
    return upstream


def placeholder_init(facts: StepFacts) -> dict[str, list[Any]]:
    """PLAN-10: the child-plan init of a flow step: ``[true]`` per guaranteed inner name."""
    return {name: [True] for name in facts.guaranteed}


def _create(
    graph: AttributeGraph,
    goals: list[str],
    init: Mapping[str, Sequence[Any]],
    preview: bool,
    match: MatchEvaluator | None,
    chain: tuple[str, ...],
    top_goals: Sequence[str],
) -> ExecutionPlan:
    if not goals:
        raise BadRequestError("at least one goal step is required")
    steps = graph.steps
    if any(goal not in steps for goal in goals):
        raise NotFoundError(f"step not found: [{' '.join(top_goals)}]")
    plan = _Walk(graph, init, preview, match).plan(goals)
    flows = graph.flow_ids
    for sid in [sid for sid in plan.steps if sid in flows] if flows else ():
        step_facts = graph.facts[sid]
        if sid in chain:
            raise InternalError(f"circular dependency detected: step {sid}")
        plan.children[sid] = _create(
            graph,
            list(step_facts.flow_goals),
            placeholder_init(step_facts),
            preview,
            match,
            (*chain, sid),
            top_goals,
        )
    return plan


class _Walk:
    """The state of one plan build: pass 1, pass 2 and the plan assembly."""

    def __init__(
        self,
        graph: AttributeGraph,
        init: Mapping[str, Sequence[Any]],
        preview: bool,
        match: MatchEvaluator | None,
    ) -> None:
        self.graph = graph
        self.facts = graph.facts
        self.providers = graph.provider_index
        self.init = init
        self.preview = preview
        self.match = match
        # has_init(n) of SPEC 4.2: a non-empty init list.
        self.has: set[str] = {name for name, values in init.items() if values}
        self.available: set[str] = set(self.has)
        self.satisfiable: set[str] = set()
        self.visited: set[str] = set()
        # [DECISION] Steps PLAN-5 only *marks* (3b satisfied providers, 3c
        # non-selected providers) are reported in ``excluded`` but not treated
        # as visited: a later input that needs them, or a goal, still visits
        # them. Read literally, marking counted as visiting, so a goal could
        # end up in neither ``steps`` nor ``excluded`` and a ``last`` input
        # could lose a provider depending on input order.
        self.marked: set[str] = set()
        self.needed: set[str] = set()
        self.included: set[str] = set()
        self.missing: set[str] = set()
        self.blocked: dict[str, list[str]] = {}

    def plan(self, goals: list[str]) -> ExecutionPlan:
        self._pass1(goals)
        visited = self.visited
        for goal in goals:
            if goal in visited:
                continue
            # PLAN-5 is a recursive visit; an explicit stack of generators
            # keeps its exact order without Python's recursion limit.
            stack = [self._visit(goal)]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                elif nxt not in visited:
                    stack.append(self._visit(nxt))
        return self._assemble(goals)

    # PLAN-4 ------------------------------------------------------------------

    def _pass1(self, goals: list[str]) -> None:
        facts, has = self.facts, self.has
        upstream = upstream_closure(self.graph, goals)
        # Worklist fixpoint: count each step's required names not yet
        # available; a step whose count reaches zero becomes satisfiable.
        available = self.available
        unmet: dict[str, int] = {}
        ready: list[str] = []
        for sid in upstream:
            f = facts[sid]
            if f.none_inputs and not has.isdisjoint(f.none_inputs):
                continue  # blocked (PLAN-3): never satisfiable
            count = len(f.required_set - available) if f.required else 0
            if count:
                unmet[sid] = count
            else:
                ready.append(sid)
        required_by = self.graph.required_index
        satisfiable = self.satisfiable
        while ready:
            sid = ready.pop()
            satisfiable.add(sid)
            for name in facts[sid].outputs:
                if name in available:
                    continue
                available.add(name)
                for consumer in required_by.get(name, ()):
                    left = unmet.get(consumer)
                    if left is None:
                        continue
                    if left == 1:
                        del unmet[consumer]
                        ready.append(consumer)
                    else:
                        unmet[consumer] = left - 1

    # PLAN-5 ------------------------------------------------------------------

    def _outputs_init(self, f: StepFacts) -> bool:
        """True when ``f`` has outputs and init provides every one of them."""
        has = self.has
        return bool(f.outputs) and all(n in has for n in f.outputs)

    def _visit(self, sid: str) -> Iterator[str]:
        """PLAN-5 ``visit(S)``; yields each provider to visit before continuing."""
        self.visited.add(sid)
        f = self.facts[sid]
        has = self.has
        if f.none_inputs:
            blocked = [n for n in f.none_inputs if n in has]
            if blocked:  # 5.1, PLAN-3
                self.blocked[sid] = blocked
                return
        gate: Gate = "open"
        statuses = _NO_STATUSES
        if f.gated:  # 5.2, PLAN-9
            gate, statuses = step_gate(f, self.init, self._provided, self.match)
        providers = self.providers
        for inp in f.inputs:
            name = inp.name
            gated = inp.match is not None
            if gate == "closed" and not gated:  # 5.3a
                continue
            if (
                inp.collect == "first"
                and name in has
                and (not gated or statuses[name] == "matched")
            ):
                # 5.3b: init satisfies the input; providers whose outputs are
                # all init-provided are reported as excluded.satisfied.
                for provider in providers.get(name, ()):
                    if self._outputs_init(self.facts[provider]):
                        self.marked.add(provider)
                continue
            found = False  # 5.3c
            candidates = providers.get(name, ())
            if candidates:
                sat = self.satisfiable
                selected = [p for p in candidates if p in sat]
                if not selected and self.preview:
                    selected = list(candidates)
                if inp.collect != "all" or len(selected) == len(candidates):
                    if len(selected) != len(candidates):
                        self.marked.update(p for p in candidates if p not in selected)
                    for provider in selected:
                        found = True
                        self.needed.add(provider)
                        yield provider
            if (
                inp.required
                and not found
                and inp.collect != "none"
                and name not in has
                and (gate == "open" or (gate == "unknown" and gated))
            ):
                self.missing.add(name)  # 5.3d
        if sid in self.needed or not self._outputs_init(f):  # 5.4
            self.included.add(sid)

    def _provided(self, name: str) -> bool:
        return bool(self.providers.get(name))

    # PLAN-1, PLAN-6, PLAN-7 --------------------------------------------------

    def _assemble(self, goals: list[str]) -> ExecutionPlan:
        facts, has = self.facts, self.has
        included = sorted(self.included)
        edges: dict[str, AttributeEdges] = {}
        for sid in included:
            for name in facts[sid].outputs:
                entry = edges.get(name)
                if entry is None:
                    entry = edges[name] = AttributeEdges()
                entry.providers.append(sid)
        for sid in included:
            for inp in facts[sid].inputs:
                entry = edges.get(inp.name)
                if entry is None:
                    if inp.name not in has:
                        continue
                    entry = edges[inp.name] = AttributeEdges()
                entry.consumers.append(sid)
        excluded = Excluded()
        available = self.available
        for sid in sorted((self.visited | self.marked) - self.included):
            f = facts[sid]
            blocked = self.blocked.get(sid)
            if blocked:
                excluded.blocked[sid] = blocked
            elif self._outputs_init(f):
                excluded.satisfied[sid] = list(f.outputs)
            else:
                missing = [n for n in f.required if n not in available]
                if missing:
                    excluded.missing[sid] = missing
        steps = self.graph.steps
        return ExecutionPlan(
            goals=goals,
            required=sorted(self.missing),
            steps={sid: steps[sid] for sid in included},
            attributes={name: edges[name] for name in sorted(edges)},
            excluded=excluded,
        )
