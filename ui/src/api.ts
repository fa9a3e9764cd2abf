// The engine's REST API, same origin.

import { authRequired, getToken } from "./auth";
import type { CatalogState, ClusterState, FlowEvent, FlowState, FlowSummary, Plan, Step } from "./types";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const msg = data && typeof data === "object" && "error" in data ? String((data as { error: unknown }).error) : `${res.status} ${res.statusText}`;
    if (res.status === 401) authRequired(msg);
    throw new ApiError(msg, res.status);
  }
  return { data: data as T, headers: res.headers };
}

export const api = {
  engine: async () =>
    (await call<CatalogState & { health: ClusterState["nodes"] }>("GET", "/engine")).data,
  plan: async (goals: string[], init: Record<string, unknown[]> = {}) =>
    (await call<Plan>("POST", "/engine/plan", { goals, init })).data,
  startFlow: async (req: { id: string; goals: string[]; init: Record<string, unknown[]>; labels?: Record<string, string> }) =>
    (await call<{ flow_id: string }>("POST", "/engine/flow", req)).data,
  queryFlows: async (query: Record<string, unknown>) =>
    (await call<{ flows: FlowSummary[]; count: number; total?: number; has_more?: boolean; next_cursor?: string }>(
      "POST",
      "/engine/flow/query",
      query,
    )).data,
  flow: async (id: string) => (await call<FlowState>("GET", `/engine/flow/${encodeURIComponent(id)}`)).data,
  flowEvents: async (id: string) =>
    (
      await call<{ events: { sequence: number; type: string; timestamp: string; data: Record<string, unknown> }[] }>(
        "GET",
        `/engine/flow/${encodeURIComponent(id)}/events`,
      )
    ).data.events.map((e): FlowEvent => ({ sequence: e.sequence, type: e.type, timestamp: e.timestamp, data: e.data ?? {} })),
  registerStep: async (step: unknown) => (await call<{ message: string }>("POST", "/engine/step", step)).data,
  updateStep: async (id: string, step: unknown) =>
    (await call<{ message: string }>("PUT", `/engine/step/${encodeURIComponent(id)}`, step)).data,
  step: async (id: string) => (await call<Step>("GET", `/engine/step/${encodeURIComponent(id)}`)).data,
};
