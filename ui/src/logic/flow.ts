// The flow projection in the browser: the engine's fold of flow events
// (docs/reference: events), applied to a snapshot from the WebSocket.

import type { ExecutionState, FlowEvent, FlowState, WorkState } from "../types";

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export function isZeroTime(ts: string | undefined | null): boolean {
  return !ts || ts.startsWith("0001-");
}

type Data = Record<string, unknown>;

const str = (d: Data, k: string): string => (typeof d[k] === "string" ? (d[k] as string) : "");

/** An event as the WebSocket sends it (`timestamp` in Unix milliseconds). */
export interface WireEvent {
  type: string;
  sequence: number;
  timestamp: number | string;
  data: Data;
}

export function normalizeEvent(e: WireEvent): FlowEvent {
  const ts = typeof e.timestamp === "number" ? new Date(e.timestamp).toISOString() : e.timestamp;
  return { sequence: e.sequence, type: e.type, timestamp: ts, data: e.data ?? {} };
}

function work(state: FlowState, d: Data): WorkState | undefined {
  return state.executions[str(d, "step_id")]?.work_items?.[str(d, "token")];
}

/**
 * A new state with `event` applied (the input is not modified). Unknown events
 * and events naming an unknown work item return the same object.
 */
export function applyFlowEvent(state: FlowState, event: FlowEvent): FlowState {
  const d = event.data;
  const ts = event.timestamp;
  const stepId = str(d, "step_id");
  const withExec = (ex: ExecutionState): FlowState => ({
    ...state,
    last_updated: ts,
    executions: { ...state.executions, [stepId]: ex },
  });
  const prev = (): ExecutionState => state.executions[stepId] ?? { status: "pending" };
  switch (event.type) {
    case "flow_started": {
      const plan = d.plan as FlowState["plan"];
      const init = (d.init ?? {}) as Record<string, unknown[]>;
      const attributes: FlowState["attributes"] = {};
      for (const [k, values] of Object.entries(init)) {
        if (values?.length) attributes[k] = values.map((value) => ({ value, set_at: ts }));
      }
      const executions: FlowState["executions"] = {};
      for (const id of Object.keys(plan?.steps ?? {})) executions[id] = { status: "pending" };
      return {
        id: str(d, "flow_id"),
        status: "active",
        created_at: ts,
        completed_at: ZERO_TIME,
        deactivated_at: ZERO_TIME,
        last_updated: ts,
        plan,
        labels: (d.labels as Record<string, string>) ?? {},
        metadata: (d.metadata as Record<string, unknown>) ?? {},
        attributes,
        executions,
      };
    }
    case "flow_completed":
      return { ...state, status: "completed", completed_at: ts, last_updated: ts };
    case "flow_failed":
      return { ...state, status: "failed", error: str(d, "error"), completed_at: ts, last_updated: ts };
    case "flow_deactivated":
      return { ...state, deactivated_at: ts, last_updated: ts };
    case "step_started": {
      const items: Record<string, WorkState> = {};
      for (const [token, overlay] of Object.entries((d.work_items ?? {}) as Data)) {
        items[token] = { status: "pending", inputs: overlay };
      }
      return withExec({ status: "active", started_at: ts, inputs: d.inputs, work_items: items });
    }
    case "step_completed":
      return withExec({
        ...prev(),
        waiting: "",
        status: "completed",
        completed_at: ts,
        duration: d.duration as number,
        outputs: d.outputs,
      });
    case "step_failed":
    case "step_skipped":
      return withExec({
        ...prev(),
        waiting: "",
        status: event.type === "step_failed" ? "failed" : "skipped",
        error: str(d, event.type === "step_failed" ? "error" : "reason"),
        unsatisfied: (d.unsatisfied as string[]) ?? [],
        inputs: d.inputs,
        completed_at: ts,
      });
    case "attribute_set": {
      const key = str(d, "key");
      const values = [...(state.attributes[key] ?? []), { value: d.value, step: stepId, set_at: ts }];
      return { ...state, last_updated: ts, attributes: { ...state.attributes, [key]: values } };
    }
    case "dispatch_deferred": {
      const ex = state.executions[stepId];
      if (!ex) return state;
      return { ...state, executions: { ...state.executions, [stepId]: { ...ex, waiting: str(d, "reason") || "step unhealthy" } } };
    }
    default:
      return applyWorkEvent(state, event);
  }
}

const WORK_UPDATES: Record<string, (d: Data, ts: string, w: WorkState) => Partial<WorkState>> = {
  work_started: (_d, ts) => ({
    status: "active",
    started_at: ts,
    completed_at: ZERO_TIME,
    next_retry_at: ZERO_TIME,
  }),
  work_succeeded: (d, ts) => ({ status: "succeeded", completed_at: ts, outputs: d.outputs }),
  work_failed: (d, ts) => ({ status: "failed", completed_at: ts, error: str(d, "error") }),
  work_not_completed: (d, ts) => ({ status: "not_completed", completed_at: ts, error: str(d, "error") }),
  work_skipped: (d, ts) => ({ status: "skipped", completed_at: ts, error: str(d, "reason") }),
  work_retry_scheduled: (d) => ({
    status: "pending",
    retry_count: d.retry_count as number,
    next_retry_at: str(d, "next_retry_at"),
    error: str(d, "error"),
  }),
  comp_retry_scheduled: (d) => ({
    status: "compensating",
    retry_count: d.retry_count as number,
    next_retry_at: str(d, "next_retry_at"),
    error: str(d, "error"),
  }),
  comp_started: () => ({ status: "compensating", next_retry_at: ZERO_TIME }),
  comp_succeeded: (_d, ts) => ({ status: "compensated", completed_at: ts }),
  comp_failed: (d, ts) => ({ status: "compensation_failed", completed_at: ts, error: str(d, "error") }),
};

function applyWorkEvent(state: FlowState, event: FlowEvent): FlowState {
  const update = WORK_UPDATES[event.type];
  const w = work(state, event.data);
  if (!update || !w) return state;
  const stepId = str(event.data, "step_id");
  const token = str(event.data, "token");
  const ex = state.executions[stepId];
  return {
    ...state,
    last_updated: event.timestamp,
    executions: {
      ...state.executions,
      [stepId]: {
        ...ex,
        ...(event.type === "work_started" ? { waiting: "" } : {}),
        work_items: { ...ex.work_items, [token]: { ...w, ...update(event.data, event.timestamp, w) } },
      },
    },
  };
}

/** Applies events in order, skipping those older than the state (by sequence). */
export function applyFlowEvents(state: FlowState, events: FlowEvent[]): FlowState {
  return events.reduce(applyFlowEvent, state);
}

export interface WorkCounts {
  total: number;
  done: number;
  failed: number;
  active: number;
  /** Earliest pending retry time among the step's items, if any. */
  nextRetryAt?: string;
  /** The error of a failed or retrying item, if any. */
  lastError?: string;
}

const FAILED = new Set(["failed", "not_completed", "compensation_failed"]);
const DONE = new Set(["succeeded", "skipped", "compensated"]);

export function workCounts(ex: ExecutionState | undefined): WorkCounts {
  const counts: WorkCounts = { total: 0, done: 0, failed: 0, active: 0 };
  for (const w of Object.values(ex?.work_items ?? {})) {
    counts.total++;
    if (DONE.has(w.status)) counts.done++;
    else if (FAILED.has(w.status)) counts.failed++;
    else if (w.status === "active") counts.active++;
    if (w.error && !DONE.has(w.status)) counts.lastError = w.error;
    if (!isZeroTime(w.next_retry_at) && (w.status === "pending" || w.status === "compensating")) {
      if (!counts.nextRetryAt || w.next_retry_at! < counts.nextRetryAt) counts.nextRetryAt = w.next_retry_at;
    }
  }
  return counts;
}

/** The init values a flow was started with, for "Run again". */
export function initOf(state: FlowState, events: FlowEvent[]): Record<string, unknown[]> {
  const started = events.find((e) => e.type === "flow_started");
  if (started) return (started.data.init ?? {}) as Record<string, unknown[]>;
  const init: Record<string, unknown[]> = {};
  for (const [k, values] of Object.entries(state.attributes)) {
    const fromInit = values.filter((v) => !v.step).map((v) => v.value);
    if (fromInit.length) init[k] = fromInit;
  }
  return init;
}

/** "1.2 s", "350 ms", "2 m 5 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} m ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Milliseconds between two ISO times, or from `start` to `now` when `end` is zero. */
export function elapsed(start: string | undefined, end: string | undefined, now: number): number {
  if (isZeroTime(start)) return NaN;
  const endMs = isZeroTime(end) ? now : Date.parse(end!);
  return endMs - Date.parse(start!);
}

/** A new flow ID for "Run again": `<id>-2`, `<id>-3`, ... */
export function rerunId(id: string, suffix: string): string {
  const base = id.replace(/-r[0-9a-z]{4,}$/, "");
  return `${base}-r${suffix}`;
}

/** Events sorted by sequence, without duplicates. */
export function mergeEvents(a: FlowEvent[], b: FlowEvent[]): FlowEvent[] {
  const bySeq = new Map<number, FlowEvent>();
  for (const e of a) bySeq.set(e.sequence, e);
  for (const e of b) bySeq.set(e.sequence, e);
  return [...bySeq.values()].sort((x, y) => x.sequence - y.sequence);
}
