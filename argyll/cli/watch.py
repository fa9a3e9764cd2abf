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

    A dropped connection (an engine restart, a slow-consumer close) is opened
    again and the flow subscribed again with its state, so nothing is lost;
    after ``_RECONNECTS`` failed attempts in a row the watch gives up.

    Raises:
        ClientError: The flow does not exist, the engine cannot be reached,
            or ``timeout`` seconds passed first.
    """
    api.get_flow(flow_id)  # a clear "flow not found" before opening the stream
    watch = _Watch(api, flow_id, as_json, out or Console(highlight=False), timeout)
    view = watch.run()
    if not as_json and not watch.out.is_terminal:
        watch.out.print(render_flow(view))
    return 0 if view.status == "completed" else 1


_RECONNECTS = 30
_RECONNECT_DELAY = 1.0


class _Watch:
    """One watch: the view, the live display, and the connection attempts."""

    def __init__(
        self, api: EngineApi, flow_id: str, as_json: bool, out: Console, timeout: float | None
    ) -> None:
        self.api = api
        self.flow_id = flow_id
        self.as_json = as_json
        self.out = out
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.view = FlowView(flow_id)
        self.live: Live | None = None
        self.subscribed = False
        self.url = websocket_url(api.base_url)

    def run(self) -> FlowView:
        if not self.as_json and self.out.is_terminal:
            self.live = Live(render_flow(self.view), console=self.out, refresh_per_second=8)
            self.live.start()
        try:
            failures = 0
            while True:
                self.subscribed = False
                try:
                    headers = auth_headers(self.api.token)
                    with connect(self.url, additional_headers=headers, open_timeout=10) as ws:
                        _subscribe(ws, self.flow_id)
                        self._follow(ws)
                    return self.view
                except (OSError, WebSocketException) as exc:
                    failures = 0 if self.subscribed else failures + 1
                    if failures >= _RECONNECTS:
                        raise ClientError(f"event stream from {self.url} failed: {exc}") from exc
                    self._check_deadline()
                    if self.live is None and not self.as_json:
                        self._emit(f"connection lost ({exc}); reconnecting")
                    time.sleep(_RECONNECT_DELAY)
        finally:
            if self.live is not None:
                self.live.stop()

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ClientError(
                f"flow {self.flow_id} still {self.view.status} when the watch timed out"
            )

    def _emit(self, line: str) -> None:
        if self.as_json:
            click.echo(line)
        else:
            self.out.print(line, markup=False, soft_wrap=True)

    def _redraw(self) -> None:
        if self.live is not None:
            self.live.update(render_flow(self.view))

    def _follow(self, ws: ClientConnection) -> None:
        """Apply messages until the flow is finished."""
        while not (self.subscribed and self.view.finished):
            self._check_deadline()
            try:
                raw = ws.recv(timeout=_TICK)
            except TimeoutError:
                self._redraw()
                continue
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "subscribed":
                self.subscribed = True
                for item in message.get("items") or []:
                    if item.get("data"):
                        self.view = FlowView(self.flow_id, item["data"])
                if self.as_json:
                    self._emit(json.dumps({"type": "state", "data": self.view.state}, default=str))
            elif kind == "error":
                raise ClientError(f"event stream error: {message.get('error', '')}")
            elif isinstance(kind, str) and isinstance(message.get("data"), dict):
                data = message["data"]
                self.view.apply(kind, data, message.get("timestamp"))
                if self.as_json:
                    self._emit(json.dumps(message, default=str))
                elif self.live is None:
                    line = _line_for(self.view, kind, data)
                    if line:
                        self._emit(line)
            self._redraw()
