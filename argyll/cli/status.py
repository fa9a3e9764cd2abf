"""``argyll health`` and ``argyll cluster``: the engine and its steps' health."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from argyll.cli.common import console, engine_call, json_option, print_json, settings
from argyll.cli.flow_view import STATUS_STYLES

__all__ = ["cluster", "health"]

_HEALTH_STYLES = {"healthy": "green", "unhealthy": "red", "unknown": "yellow"}


def _health_table(nodes: dict[str, Any]) -> Table:
    table = Table("NODE", "STEP", "HEALTH", "ERROR", box=None, pad_edge=False)
    for node_id, node in sorted(nodes.items()):
        for step_id, record in sorted(((node or {}).get("health") or {}).items()):
            status = str((record or {}).get("status", ""))
            table.add_row(
                Text(node_id),
                Text(step_id),
                Text(status, style=_HEALTH_STYLES.get(status, "")),
                Text(str((record or {}).get("error", ""))),
            )
    return table


@click.command()
@click.argument("step_id", required=False)
@json_option
def health(step_id: str | None) -> None:
    """The engine's health and every step's (or one STEP_ID's) health."""
    opts = settings()
    api = opts.api()
    with engine_call():
        if step_id is not None:
            answer: dict[str, Any] = api.step_health(step_id)
        else:
            answer = {"service": api.service_health(), "steps": api.step_health()}
    if opts.json:
        print_json(answer)
        return
    out = console()
    if step_id is not None:
        status = str(answer.get("status", ""))
        line = Text.assemble(f"{step_id} ", (status, _HEALTH_STYLES.get(status, "")))
        if answer.get("error"):
            line.append(f"  {answer['error']}")
        out.print(line)
        return
    service = answer["service"]
    status = str(service.get("status", ""))
    out.print(
        Text.assemble(
            (f"{service.get('service', 'engine')} ", "bold"),
            (status, _HEALTH_STYLES.get(status, STATUS_STYLES.get(status, ""))),
            f"  at {api.base_url}",
        )
    )
    nodes = answer["steps"].get("nodes") or {}
    if any((node or {}).get("health") for node in nodes.values()):
        out.print(_health_table(nodes))
    else:
        out.print("no steps registered")


@click.command()
@json_option
def cluster() -> None:
    """The engine nodes and the step health each reports."""
    opts = settings()
    with engine_call():
        answer = opts.api().cluster()
    if opts.json:
        print_json(answer)
        return
    out = console()
    nodes: dict[str, Any] = answer.get("nodes") or {}
    table = Table("NODE", "LAST SEEN", "STEPS REPORTED", box=None, pad_edge=False)
    for node_id, node in sorted(nodes.items()):
        table.add_row(
            Text(node_id),
            Text(str((node or {}).get("last_seen", ""))),
            str(len((node or {}).get("health") or {})),
        )
    out.print(table)
    if any((node or {}).get("health") for node in nodes.values()):
        out.print(_health_table(nodes))
