"""A flow's state kept current from its events, and how it is drawn.

``FlowView`` starts from the state of the WebSocket ``subscribed`` item (the
same JSON as ``GET /engine/flow/{id}``) and applies each event the way the
engine's projection does (the subset a terminal view needs). Rendering is
separate, so the same view draws the live table and ``argyll flow get``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from argyll.cli.common import short_json

__all__ = ["STATUS_STYLES", "FlowView", "parse_time", "render_flow"]

STATUS_STYLES = {
    "pending": "dim",
    "active": "cyan",
    "completed": "green",
    "succeeded": "green",
    "failed": "red",
    "skipped": "yellow",
    "not_completed": "yellow",
    "compensating": "magenta",
    "compensated": "magenta",
    "compensation_failed": "red",
}

_ZERO = "0001-01-01"
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time as an aware datetime; ``None`` for the zero time or junk."""
    if not isinstance(text, str) or not text or text.startswith(_ZERO):
        return None
    cleaned = _FRACTION.sub(r"\1", text.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _stamp(when: Any) -> str:
    """An event time (unix ms on the WebSocket, RFC 3339 over REST) as RFC 3339."""
    if isinstance(when, str) and when:
        return when
    moment = when / 1000 if isinstance(when, int | float) else datetime.now(UTC).timestamp()
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


class FlowView:
    """The state of one flow, advanced event by event."""

    def __init__(self, flow_id: str, state: dict[str, Any] | None = None) -> None:
        self.flow_id = flow_id
        self.state: dict[str, Any] = state or {"id": flow_id, "status": "pending"}
        self.state.setdefault("executions", {})
        self.state.setdefault("attributes", {})
        self.result: dict[str, Any] | None = None

    # -- reading ------------------------------------------------------------

    @property
    def status(self) -> str:
        return str(self.state.get("status", "pending"))

    @property
    def terminal(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def deactivated(self) -> bool:
        return parse_time(self.state.get("deactivated_at")) is not None

    @property
    def finished(self) -> bool:
        """Terminal and deactivated: nothing runs or compensates any more (TERM-7)."""
        return self.terminal and self.deactivated

    def step_ids(self) -> list[str]:
        """Plan steps in dependency order (providers before consumers, then by ID)."""
        plan = self.state.get("plan") or {}
        steps = sorted((plan.get("steps") or {}).keys())
        needs: dict[str, set[str]] = {step: set() for step in steps}
        for edges in (plan.get("attributes") or {}).values():
            providers = [p for p in (edges or {}).get("providers") or [] if p in needs]
            for consumer in (edges or {}).get("consumers") or []:
                if consumer in needs:
                    needs[consumer].update(p for p in providers if p != consumer)
        ordered: list[str] = []
        while needs:
            ready = [step for step in sorted(needs) if not needs[step] - set(ordered)]
            batch = ready or sorted(needs)[:1]  # a cycle: break it by ID
            for step in batch:
                ordered.append(step)
                del needs[step]
        extra = sorted(s for s in self.state["executions"] if s not in ordered)
        return ordered + extra

    def outputs(self) -> dict[str, Any]:
        """The flow's result: ``flow_completed``'s result, else the goals' outputs."""
        if self.result:
            return self.result
        plan = self.state.get("plan") or {}
        steps = plan.get("steps") or {}
        names: list[str] = []
        for goal in plan.get("goals") or []:
            for name, spec in ((steps.get(goal) or {}).get("attributes") or {}).items():
                if (spec or {}).get("role") == "output":
                    names.append(name)
        values: dict[str, Any] = {}
        for name in names:
            records = self.state["attributes"].get(name) or []
            if records:
                values[name] = records[0].get("value")
        return values

    # -- applying events ----------------------------------------------------

    def apply(self, event_type: str, data: dict[str, Any], timestamp: Any = None) -> None:
        """Apply one flow event (type, payload, time) to the state (now when no time)."""
        at = _stamp(timestamp)
        state = self.state
        if event_type == "flow_started":
            state.update(status="active", plan=data.get("plan") or {}, created_at=at)
            return
        if event_type == "flow_completed":
            state.update(status="completed", completed_at=at)
            result = data.get("result")
            self.result = result if isinstance(result, dict) else None
            return
        if event_type == "flow_failed":
            state.update(status="failed", completed_at=at, error=data.get("error", ""))
            return
        if event_type == "flow_deactivated":
            state["deactivated_at"] = at
            return
        if event_type == "attribute_set":
            record = {"value": data.get("value"), "step": data.get("step_id"), "set_at": at}
            state["attributes"].setdefault(str(data.get("key")), []).append(record)
            return
        step_id = str(data.get("step_id", ""))
        if event_type.startswith("step_"):
            self._apply_step(event_type, step_id, data, at)
        elif event_type.startswith(("work_", "comp_")):
            self._apply_work(event_type, step_id, data, at)

    def _apply_step(self, event_type: str, step_id: str, data: dict[str, Any], at: str) -> None:
        execution = self.state["executions"].setdefault(step_id, {"status": "pending"})
        if event_type == "step_started":
            items = data.get("work_items") or {}
            execution.update(
                status="active",
                started_at=at,
                work_items={t: {"status": "pending", "inputs": v} for t, v in items.items()},
            )
        elif event_type == "step_completed":
            execution.update(
                status="completed",
                completed_at=at,
                outputs=data.get("outputs"),
                duration=data.get("duration", 0),
            )
        elif event_type in ("step_failed", "step_skipped"):
            status = "failed" if event_type == "step_failed" else "skipped"
            error = data.get("error") if status == "failed" else data.get("reason")
            execution.update(status=status, completed_at=at, error=error or "")

    def _apply_work(self, event_type: str, step_id: str, data: dict[str, Any], at: str) -> None:
        execution = self.state["executions"].get(step_id)
        items = (execution or {}).get("work_items") or {}
        item = items.get(str(data.get("token", "")))
        if item is None:
            return
        transitions: dict[str, dict[str, Any]] = {
            "work_started": {"status": "active", "started_at": at, "next_retry_at": None},
            "work_succeeded": {"status": "succeeded", "completed_at": at},
            "work_failed": {"status": "failed", "completed_at": at},
            "work_not_completed": {"status": "not_completed", "completed_at": at},
            "work_skipped": {"status": "skipped", "completed_at": at},
            "work_retry_scheduled": {"status": "pending"},
            "comp_started": {"status": "compensating", "next_retry_at": None},
            "comp_retry_scheduled": {"status": "compensating"},
            "comp_succeeded": {"status": "compensated", "completed_at": at},
            "comp_failed": {"status": "compensation_failed", "completed_at": at},
        }
        item.update(transitions.get(event_type, {}))
        for key in ("error", "retry_count", "next_retry_at", "outputs"):
            if key in data:
                item[key] = data[key]


def _work_counts(execution: dict[str, Any]) -> tuple[int, int]:
    items = (execution.get("work_items") or {}).values()
    done = sum(1 for i in items if i.get("status") not in ("pending", "active", "not_completed"))
    return done, len(execution.get("work_items") or {})


def _retry_note(execution: dict[str, Any], now: datetime) -> str:
    """The next retry of the step's items: ``retry 2 in 1.4s (+1 more): <error>``."""
    waiting = []
    for item in (execution.get("work_items") or {}).values():
        when = parse_time(item.get("next_retry_at"))
        if when is not None and item.get("status") in ("pending", "compensating"):
            waiting.append((when, item))
    if not waiting:
        return ""
    when, item = min(waiting, key=lambda pair: pair[0])
    seconds = max(0.0, (when - now).total_seconds())
    note = f"retry {item.get('retry_count', 0)} in {seconds:.1f}s"
    if len(waiting) > 1:
        note += f" (+{len(waiting) - 1} more)"
    if item.get("error"):
        note += f": {item['error']}"
    return note


def _styled(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def render_flow(view: FlowView, now: datetime | None = None) -> RenderableType:
    """A header line and one row per plan step: status, work progress, notes."""
    now = now or datetime.now(UTC)
    state = view.state
    header = Text.assemble(("flow ", "bold"), (view.flow_id, "bold"), " ", _styled(view.status))
    if state.get("error"):
        header.append(f"  {state['error']}", style="red")
    table = Table("STEP", "STATUS", "WORK", "", "NOTE", box=None, pad_edge=False)
    for step_id in view.step_ids():
        execution = state["executions"].get(step_id) or {"status": "pending"}
        done, total = _work_counts(execution)
        bar: RenderableType = Text("")
        count = ""
        if total:
            bar = ProgressBar(total=total, completed=done, width=20)
            count = f"{done}/{total}"
        note = _retry_note(execution, now) or str(execution.get("error") or "")
        if not note and execution.get("duration"):
            note = f"{execution['duration']} ms"
        table.add_row(
            Text(step_id), _styled(str(execution.get("status"))), bar, Text(count), Text(note)
        )
    parts: list[RenderableType] = [header, table]
    if view.terminal and view.status == "completed":
        outputs = view.outputs()
        if outputs:
            out = Table("OUTPUT", "VALUE", box=None, pad_edge=False)
            for name, value in outputs.items():
                out.add_row(Text(name), Text(short_json(value, 100)))
            parts.append(out)
    return Group(*parts)
