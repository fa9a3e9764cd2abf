"""``argyll flow watch``: follow one flow live over the engine's WebSocket.

Subscribes to the flow with ``include_state`` (the state and the stream fit
exactly, WS-5), applies each event to a ``FlowView`` and redraws. On a
terminal a live table; otherwise one line per change; with ``--json`` one
JSON object per line. Returns 0 when the flow completed, 1 when it failed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from argyll.cli.api import EngineApi, auth_headers, websocket_url
from argyll.cli.common import short_json
from argyll.cli.flow_view import FlowView, render_flow
from argyll.errors import ClientError

__all__ = ["watch_flow"]

_TICK = 0.25


def _subscribe(ws: ClientConnection, flow_id: str) -> None:
    message = {
        "type": "subscribe",
        "data": {"sub_id": "watch", "aggregate_ids": [["flow", flow_id]], "include_state": True},
    }
    ws.send(json.dumps(message))


def _line_for(view: FlowView, event_type: str, data: dict[str, Any]) -> str | None:
    """The one line a non-terminal watcher prints for an event (or nothing)."""
    step = data.get("step_id", "")
    if event_type == "step_started":
        count = len(data.get("work_items") or {})
        return f"step {step} started ({count} work item{'s' if count != 1 else ''})"
    if event_type == "step_completed":
        return f"step {step} completed in {data.get('duration', 0)} ms"
    if event_type == "step_failed":
        return f"step {step} failed: {data.get('error', '')}"
    if event_type == "step_skipped":
        return f"step {step} skipped: {data.get('reason', '')}"
    if event_type in ("work_succeeded", "work_failed"):
        execution = view.state["executions"].get(step) or {}
        items = execution.get("work_items") or {}
        done = sum(1 for i in items.values() if i.get("status") in ("succeeded", "failed"))
        what = "succeeded" if event_type == "work_succeeded" else f"failed: {data.get('error')}"
        return f"  {step} work {done}/{len(items)} {what}"
    if event_type == "work_retry_scheduled":
        return (
            f"  {step} retry {data.get('retry_count')} at {data.get('next_retry_at')}: "
            f"{data.get('error', '')}"
        )
    if event_type == "flow_completed":
        return f"flow {view.flow_id} completed {short_json(data.get('result') or {}, 200)}"
    if event_type == "flow_failed":
        return f"flow {view.flow_id} failed: {data.get('error', '')}"
    return None


def watch_flow(
    api: EngineApi,
    flow_id: str,
    *,
    as_json: bool = False,
    timeout: float | None = None,
    out: Console | None = None,
) -> int:
    """Follow ``flow_id`` until it is finished; 0 if it completed, 1 if it failed.

    Raises:
        ClientError: The flow does not exist, the engine cannot be reached or
            closed the stream, or ``timeout`` seconds passed first.
    """
    api.get_flow(flow_id)  # a clear "flow not found" before opening the stream
    out = out or Console(highlight=False)
    deadline = None if timeout is None else time.monotonic() + timeout
    url = websocket_url(api.base_url)
    try:
        with connect(url, additional_headers=auth_headers(api.token), open_timeout=10) as ws:
            _subscribe(ws, flow_id)
            view = _follow(ws, flow_id, as_json, out, deadline)
    except (OSError, WebSocketException) as exc:
        raise ClientError(f"event stream from {url} failed: {exc}") from exc
    if not as_json and not out.is_terminal:
        out.print(render_flow(view))
    return 0 if view.status == "completed" else 1


def _follow(
    ws: ClientConnection,
    flow_id: str,
    as_json: bool,
    out: Console,
    deadline: float | None,
) -> FlowView:
    view = FlowView(flow_id)
    live: Live | None = None
    if not as_json and out.is_terminal:
        live = Live(render_flow(view), console=out, refresh_per_second=8, transient=False)
        live.start()

    def emit(line: str) -> None:
        if as_json:
            click.echo(line)
        else:
            out.print(line, markup=False, soft_wrap=True)

    try:
        subscribed = False
        while not (subscribed and view.finished):
            if deadline is not None and time.monotonic() > deadline:
                raise ClientError(f"flow {flow_id} still {view.status} when the watch timed out")
            try:
                raw = ws.recv(timeout=_TICK)
            except TimeoutError:
                if live is not None:
                    live.update(render_flow(view))
                continue
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "subscribed":
                subscribed = True
                for item in message.get("items") or []:
                    if item.get("data"):
                        view = FlowView(flow_id, item["data"])
                if as_json:
                    emit(json.dumps({"type": "state", "data": view.state}, default=str))
            elif kind == "error":
                raise ClientError(f"event stream error: {message.get('error', '')}")
            elif isinstance(kind, str) and isinstance(message.get("data"), dict):
                data = message["data"]
                view.apply(kind, data, message.get("timestamp"))
                if as_json:
                    emit(json.dumps(message, default=str))
                elif live is None:
                    line = _line_for(view, kind, data)
                    if line:
                        emit(line)
            if live is not None:
                live.update(render_flow(view))
    finally:
        if live is not None:
            live.stop()
    return view
