"""Planner and catalog-graph costs, each against a floor measured in this run.

To run things: ``.venv/bin/python bench/bench_plan.py`` (``--help`` for options).

Scenarios:

- ``chain-10``: a strict and a preview plan for the goal at the end of a
  10-step chain (the typical catalog of PERF.md); the floor is a plain dict
  BFS over the goal's upstream, the least any planner must do.
- ``catalog-50``: a goal in a random 50-step catalog.
- ``random-10k``: goals in a random 10,000-step catalog (each step takes 1-3
  earlier outputs as required inputs, sometimes one optional); the floor is
  again the dict BFS, and ``networkx.ancestors`` is shown for reference.
- ``register``: the cost per step of growing the 10,000-step catalog: VAL-2
  (``catalog_problem``) plus ``AttributeGraph.add_step``, against building the
  networkx dependency graph from scratch once (what PERF.md says never to do
  per plan).

Figures are medians of ``--repeat`` runs; absolute numbers move by 20-30 %
on these machines, the ratios much less.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from argyll.engine.plan import AttributeGraph, build_plan, catalog_problem  # noqa: E402
from argyll.model.step import (  # noqa: E402
    AttributeSpec,
    HTTPConfig,
    Step,
    WorkConfig,
    with_work_defaults,
)

DEFAULTS = WorkConfig(
    backoff_type="exponential", max_retries=10, init_backoff=1000, max_backoff=60000
)


def make_step(sid: str, requires: list[str], optionals: list[str], outputs: list[str]) -> Step:
    attrs: dict[str, AttributeSpec | None] = {}
    for n in requires:
        attrs[n] = AttributeSpec(role="required", type="string")
    for n in optionals:
        attrs[n] = AttributeSpec(role="optional", type="string")
    for n in outputs:
        attrs[n] = AttributeSpec(role="output", type="string")
    step = Step(
        id=sid, name=sid, type="sync", attributes=attrs, http=HTTPConfig(endpoint="http://svc")
    )
    return with_work_defaults(step, DEFAULTS)


def chain_steps(n: int) -> list[Step]:
    steps = [make_step("s0", [], [], ["a0"])]
    steps += [make_step(f"s{i}", [f"a{i - 1}"], [], [f"a{i}"]) for i in range(1, n)]
    return steps


def random_steps(n: int, seed: int) -> list[Step]:
    rng = random.Random(seed)
    steps = []
    for i in range(n):
        want = rng.randint(0, 3) if i < 20 else rng.randint(1, 3)
        earlier = [f"a{j}" for j in rng.sample(range(i), min(i, want))]
        optional = [f"a{rng.randrange(i)}"] if i and rng.random() < 0.2 else []
        optional = [o for o in optional if o not in earlier]
        steps.append(make_step(f"s{i}", earlier, optional, [f"a{i}"]))
    return steps


def graph_of(steps: list[Step]) -> AttributeGraph:
    graph = AttributeGraph()
    for step in steps:
        graph.add_step(step)
    return graph


def timed(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Median seconds per call over ``repeat`` runs of ``number`` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def upstream_bfs(graph: AttributeGraph, goal: str) -> set[str]:
    """The floor: the goal's upstream through the plain-dict provider index."""
    facts, providers = graph.facts, graph.provider_index
    seen = {goal}
    todo = [goal]
    while todo:
        for inp in facts[todo.pop()].inputs:
            for p in providers.get(inp.name, ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
    return seen


def report(label: str, value: float, floor: float | None = None) -> None:
    ratio = f"  ({value / floor:5.1f}x floor)" if floor else ""
    print(f"  {label:<44} {value * 1e3:10.4f} ms{ratio}")


def bench_planning(graph: AttributeGraph, goal: str, repeat: int, number: int) -> None:
    floor = timed(lambda: upstream_bfs(graph, goal), repeat, number)
    size = len(upstream_bfs(graph, goal))
    report(f"floor: dict BFS over upstream ({size} steps)", floor)
    for preview in (False, True):
        cost = timed(
            lambda p=preview: build_plan(graph, [goal], {}, preview=p, match=None),  # type: ignore[misc]
            repeat,
            number,
        )
        report("preview plan" if preview else "strict plan", cost, floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--size", type=int, default=10_000, help="steps in the big catalog")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print("chain-10: goal at the end of a 10-step chain")
    chain = graph_of(chain_steps(10))
    bench_planning(chain, "s9", args.repeat, 2000)

    print("catalog-50: last step of a random 50-step catalog")
    small = graph_of(random_steps(50, args.seed))
    bench_planning(small, "s49", args.repeat, 1000)

    print(f"random-{args.size}: random catalog")
    steps = random_steps(args.size, args.seed)
    big = graph_of(steps)
    for goal in (f"s{args.size // 100}", f"s{args.size // 2}", f"s{args.size - 1}"):
        print(f" goal {goal}")
        bench_planning(big, goal, args.repeat, 3)
    anc = timed(lambda: nx.ancestors(big.dependencies, f"s{args.size - 1}"), args.repeat, 3)
    report(f"networkx.ancestors(s{args.size - 1}) for reference", anc)

    print(f"register: growing the {args.size}-step catalog, per step")
    runs_add, runs_check = [], []
    for _ in range(max(1, args.repeat // 2)):
        graph = AttributeGraph()
        checking = 0.0
        start = time.perf_counter()
        for step in steps:
            t0 = time.perf_counter()
            problem = catalog_problem(graph, step)
            checking += time.perf_counter() - t0
            if problem is not None:
                raise SystemExit(f"unexpected VAL-2 problem: {problem}")
            graph.add_step(step)
        total = time.perf_counter() - start
        runs_check.append(checking / len(steps))
        runs_add.append((total - checking) / len(steps))
    rebuild = timed(lambda: nx.DiGraph(big.dependencies.edges), max(1, args.repeat // 2), 1)
    report("AttributeGraph.add_step", statistics.median(runs_add))
    report("catalog_problem (VAL-2)", statistics.median(runs_check))
    report("for scale: networkx graph rebuilt from edges", rebuild)
    update = steps[args.size // 2]
    changed = make_step(update.id, ["a0"], [], [f"a{args.size // 2}", "extra"])
    report(
        "catalog_problem for an update mid-catalog",
        timed(lambda: catalog_problem(big, changed), args.repeat, 5),
    )

    def replace_twice() -> None:
        big.replace_step(changed)
        big.replace_step(update)

    report("replace_step (update), per call", timed(replace_twice, args.repeat, 50) / 2)


if __name__ == "__main__":
    main()
