// The flow list: its query, and live updates from flow events.

import type { FlowSummary } from "../types";

export interface FlowFilters {
  idPrefix: string;
  /** "" = every status. */
  status: string;
  /** "key=value, ..." */
  labels: Record<string, string>;
}

export const noFilters: FlowFilters = { idPrefix: "", status: "", labels: {} };

/** The body of `POST /engine/flow/query` for one page. */
export function flowQuery(f: FlowFilters, limit: number, cursor?: string): Record<string, unknown> {
  const q: Record<string, unknown> = { limit, sort: "recent_desc" };
  if (f.idPrefix) q.id_prefix = f.idPrefix;
  if (f.status) q.statuses = [f.status];
  if (Object.keys(f.labels).length) q.labels = f.labels;
  if (cursor) q.cursor = cursor;
  return q;
}

const group = (s: string): number => (s === "active" ? 0 : 1);

/** The engine's order with `recent_desc`: active first, then most recent, then ID. */
export function sortFlows(rows: FlowSummary[]): FlowSummary[] {
  return [...rows].sort(
    (a, b) =>
      group(a.status) - group(b.status) ||
      (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function matches(f: FlowFilters, id: string, status: string, labels: Record<string, string> | undefined): boolean {
  if (id.includes(":")) return false; // child flows are not listed
  if (f.idPrefix && !id.startsWith(f.idPrefix)) return false;
  if (f.status && f.status !== status) return false;
  if (labels !== undefined) {
    for (const [k, v] of Object.entries(f.labels)) if (labels[k] !== v) return false;
  }
  return true;
}

/**
 * The list after one live flow event: a started flow that matches the
 * filters is added; a finished flow gets its new status (and leaves the list
 * when a status filter no longer matches).
 */
export function applyFlowListEvent(
  rows: FlowSummary[],
  f: FlowFilters,
  type: string,
  data: Record<string, unknown>,
  timestamp: string,
): FlowSummary[] {
  const id = String(data.flow_id ?? "");
  if (!id || id.includes(":")) return rows;
  const idx = rows.findIndex((r) => r.id === id);
  if (type === "flow_started") {
    if (idx >= 0) return rows;
    const labels = (data.labels as Record<string, string>) ?? {};
    if (!matches(f, id, "active", labels)) return rows;
    return sortFlows([{ id, status: "active", timestamp }, ...rows]);
  }
  let status = "";
  if (type === "flow_completed") status = "completed";
  else if (type === "flow_failed") status = "failed";
  else if (type === "flow_deactivated") status = String(data.status ?? "");
  if (!status || idx < 0) return rows;
  if (!matches(f, id, status, undefined)) return rows.filter((r) => r.id !== id);
  const next = [...rows];
  next[idx] = { ...next[idx], status, timestamp: type === "flow_deactivated" ? timestamp : next[idx].timestamp };
  return sortFlows(next);
}

export const FLOW_LIST_EVENTS = ["flow_started", "flow_completed", "flow_failed", "flow_deactivated"];

export const STATUS_ICON: Record<string, string> = {
  active: "●",
  completed: "✓",
  failed: "✗",
  pending: "○",
  skipped: "⤼",
};
