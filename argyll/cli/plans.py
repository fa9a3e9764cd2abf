"""``argyll plan``: preview the execution plan for goals as a tree."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.tree import Tree

from argyll.cli.common import console, engine_call, json_option, parse_init, print_json, settings

__all__ = ["plan", "plan_tree"]


def _inputs_of(step: dict[str, Any]) -> list[str]:
    attributes = step.get("attributes") or {}
    return [
        name
        for name, spec in attributes.items()
        if (spec or {}).get("role") in ("required", "optional")
    ]


def _outputs_of(step: dict[str, Any]) -> list[str]:
    attributes = step.get("attributes") or {}
    return [name for name, spec in attributes.items() if (spec or {}).get("role") == "output"]


def _inner_inputs(step: dict[str, Any]) -> dict[str, list[Any]]:
    """The names a flow step hands its child flow (inputs, renamed by their mapping)."""
    names: dict[str, list[Any]] = {}
    for name, spec in (step.get("attributes") or {}).items():
        role = (spec or {}).get("role")
        if role in ("required", "optional"):
            mapping = ((spec or {}).get(role) or {}).get("mapping") or {}
            names[str(mapping.get("name") or name)] = []
    return names


def plan_tree(plan: dict[str, Any], init: dict[str, list[Any]], given: str = "init") -> Tree:
    """The plan as a tree: each goal, then the steps that provide its inputs.

    Inputs given in ``init`` are marked ``init`` (``given``); inputs in the
    plan's ``required`` list (the caller must supply them) are marked
    ``missing``. A flow step shows its child flow's plan under it.
    """
    steps: dict[str, Any] = plan.get("steps") or {}
    edges: dict[str, Any] = plan.get("attributes") or {}
    required = set(plan.get("required") or [])
    goals = plan.get("goals") or []
    root = Tree(f"[bold]plan[/bold] for {escape(', '.join(goals))}")

    children: dict[str, Any] = plan.get("children") or {}

    def add_step(parent: Tree, step_id: str, seen: frozenset[str]) -> None:
        step = steps.get(step_id) or {}
        kind = step.get("type", "?")
        outputs = _outputs_of(step)
        label = f"[bold]{escape(step_id)}[/bold] [dim]({escape(str(kind))})[/dim]"
        if outputs:
            label += f" → {escape(', '.join(outputs))}"
        node = parent.add(label)
        if step_id in seen:
            node.add("[dim]… (cycle)[/dim]")
            return
        child = children.get(step_id)
        if isinstance(child, dict):
            sub = plan_tree(child, _inner_inputs(step), given="from parent")
            sub.label = "[magenta]child flow[/magenta]"
            node.add(sub)
        for name in _inputs_of(step):
            shown = escape(name)
            providers = [p for p in (edges.get(name) or {}).get("providers") or [] if p in steps]
            spec = (step.get("attributes") or {}).get(name) or {}
            role = spec.get("role", "")
            if name in init:
                node.add(f"{shown} [green]{given}[/green]")
            elif providers:
                branch = node.add(f"{shown} [dim]from[/dim]")
                for provider in providers:
                    add_step(branch, provider, seen | {step_id})
            elif name in required:
                node.add(f"{shown} [red bold]missing[/red bold]")
            elif role == "optional":
                default = (spec.get("optional") or {}).get("default")
                note = f"default {escape(default)}" if default else "not provided"
                node.add(f"{shown} [dim]optional, {note}[/dim]")
            else:
                node.add(f"{shown} [yellow]unavailable[/yellow]")

    for goal in goals:
        add_step(root, goal, frozenset())
    if required:
        root.add(f"[red bold]missing inputs:[/red bold] {escape(', '.join(sorted(required)))}")
    excluded = plan.get("excluded") or {}
    for reason in ("satisfied", "blocked", "missing"):
        for step_id, names in (excluded.get(reason) or {}).items():
            root.add(
                f"[dim]excluded {escape(step_id)}: {reason} ({escape(', '.join(names))})[/dim]"
            )
    return root


@click.command()
@click.argument("goals", nargs=-1, required=True)
@click.option("--init", "init_pairs", multiple=True, metavar="K=JSON", help="An initial value.")
@json_option
def plan(goals: tuple[str, ...], init_pairs: tuple[str, ...]) -> None:
    """Preview the plan for GOALS: which steps run and what is missing."""
    opts = settings()
    init = parse_init(init_pairs)
    with engine_call():
        answer = opts.api().plan(list(goals), init)
    if opts.json:
        print_json(answer)
        return
    console().print(plan_tree(answer, init))
