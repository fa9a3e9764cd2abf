"""``argyll flow``: start, get, list, events and watch flows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.table import Table
from rich.text import Text

from argyll.cli.common import (
    console,
    engine_call,
    json_option,
    parse_init,
    parse_labels,
    print_json,
    settings,
    short_json,
)
from argyll.cli.flow_view import FlowView, render_flow
from argyll.cli.watch import watch_flow

__all__ = ["flow"]

_F = TypeVar("_F", bound=Callable[..., Any])

_STATUSES = ("active", "completed", "failed")


@click.group()
def flow() -> None:
    """Start flows and follow what they do."""


def _timeout_option(default: float | None) -> Callable[[_F], _F]:
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=default,
        help="Give up after this many seconds (exit 1).",
    )


@flow.command("start")
@click.argument("flow_id")
@click.option("--goal", "goals", multiple=True, required=True, help="A goal step ID.")
@click.option("--init", "init_pairs", multiple=True, metavar="K=JSON", help="An initial value.")
@click.option("--label", "label_pairs", multiple=True, metavar="K=V", help="A flow label.")
@click.option("--wait", is_flag=True, help="Follow the flow until it ends; exit 1 if it fails.")
@_timeout_option(None)
@json_option
def start(
    flow_id: str,
    goals: tuple[str, ...],
    init_pairs: tuple[str, ...],
    label_pairs: tuple[str, ...],
    wait: bool,
    timeout: float | None,
) -> None:
    """Start the flow FLOW_ID for the given goals."""
    opts = settings()
    init = parse_init(init_pairs)
    labels = parse_labels(label_pairs)
    api = opts.api()
    with engine_call():
        started = api.start_flow(flow_id, list(goals), init, labels)
    if not wait:
        if opts.json:
            print_json({"flow_id": started})
        else:
            click.echo(f"started flow {started}")
        return
    if opts.json:
        with engine_call():
            state = (
                api.sdk.flow(started).wait(timeout=timeout or 3600.0, deactivated=True).to_dict()
            )
        print_json(state)
        code = 0 if state.get("status") == "completed" else 1
    else:
        click.echo(f"started flow {started}")
        with engine_call():
            code = watch_flow(api, started, timeout=timeout, out=console())
    click.get_current_context().exit(code)


@flow.command("get")
@click.argument("flow_id")
@json_option
def get(flow_id: str) -> None:
    """Show a flow: status, each step, and its attributes."""
    opts = settings()
    with engine_call():
        state = opts.api().get_flow(flow_id)
    if opts.json:
        print_json(state)
        return
    out = console()
    out.print(render_flow(FlowView(flow_id, state)))
    attributes: dict[str, Any] = state.get("attributes") or {}
    if attributes:
        table = Table("ATTRIBUTE", "VALUE", "FROM", box=None, pad_edge=False)
        for name, records in attributes.items():
            for record in records or []:
                table.add_row(
                    Text(name),
                    Text(short_json(record.get("value"), 80)),
                    Text(record.get("step") or "init"),
                )
        out.print(table)


@flow.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(_STATUSES),
    help="Only flows with this status (repeatable).",
)
@click.option(
    "--label", "label_pairs", multiple=True, metavar="K=V", help="Only flows labelled so."
)
@click.option("--prefix", default="", help="Only flows whose ID starts with this.")
@click.option(
    "--limit", type=click.IntRange(0, 1000), default=50, show_default=True, help="0: no limit."
)
@click.option("--cursor", default="", help="The next_cursor of a previous page.")
@json_option
def list_flows(
    statuses: tuple[str, ...], label_pairs: tuple[str, ...], prefix: str, limit: int, cursor: str
) -> None:
    """List flows: active first, then the most recent."""
    opts = settings()
    query: dict[str, Any] = {"limit": limit, "sort": "recent_desc"}
    if statuses:
        query["statuses"] = list(statuses)
    if label_pairs:
        query["labels"] = parse_labels(label_pairs)
    if prefix:
        query["id_prefix"] = prefix
    if cursor:
        query["cursor"] = cursor
    with engine_call():
        answer = opts.api().query_flows(query)
    if opts.json:
        print_json(answer)
        return
    flows = answer.get("flows") or []
    out = console()
    if not flows:
        out.print("no flows")
        return
    table = Table("ID", "STATUS", "SINCE", box=None, pad_edge=False)
    for item in flows:
        status = str(item.get("status", ""))
        style = {"completed": "green", "failed": "red", "active": "cyan"}.get(status, "")
        table.add_row(Text(str(item.get("id", ""))), Text(status, style=style), item["timestamp"])
    out.print(table)
    if answer.get("has_more"):
        out.print(
            f"[dim]{answer.get('total', '')} in all; next page: "
            f"--cursor {answer.get('next_cursor', '')}[/dim]",
            soft_wrap=True,
        )


def _event_note(data: dict[str, Any]) -> str:
    skip = {"flow_id", "step_id", "plan"}
    parts = [f"{k}={short_json(v, 40)}" for k, v in data.items() if k not in skip]
    return " ".join(parts)


@flow.command("events")
@click.argument("flow_id")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@json_option
def events(flow_id: str, types: tuple[str, ...]) -> None:
    """Show a flow's event history."""
    opts = settings()
    with engine_call():
        found = opts.api().flow_events(flow_id)
    if types:
        found = [e for e in found if e.get("type") in types]
    if opts.json:
        print_json(found)
        return
    table = Table("SEQ", "TIME", "TYPE", "STEP", "DATA", box=None, pad_edge=False)
    for event in found:
        data = event.get("data") or {}
        table.add_row(
            str(event.get("sequence", "")),
            Text(str(event.get("timestamp", ""))),
            Text(str(event.get("type", ""))),
            Text(str(data.get("step_id", ""))),
            Text(_event_note(data)),
        )
    console().print(table)


@flow.command("watch")
@click.argument("flow_id")
@_timeout_option(None)
@json_option
def watch(flow_id: str, timeout: float | None) -> None:
    """Follow a flow live until it ends: exit 0 if completed, 1 if failed."""
    opts = settings()
    with engine_call():
        code = watch_flow(opts.api(), flow_id, as_json=opts.json, timeout=timeout, out=console())
    click.get_current_context().exit(code)
