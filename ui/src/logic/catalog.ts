// The catalog and cluster projections in the browser, kept live from events.

import type { CatalogState, ClusterState, HealthState, Step } from "../types";

export interface EngineView {
  steps: Record<string, Step>;
  cluster: ClusterState;
}

export const emptyView: EngineView = { steps: {}, cluster: { nodes: {} } };

type Data = Record<string, unknown>;

/** Applies one catalog or cluster event; unknown events return `view` unchanged. */
export function applyEngineEvent(view: EngineView, type: string, data: Data, ts?: string): EngineView {
  switch (type) {
    case "step_registered":
    case "step_updated": {
      const step = data.step as Step;
      return { ...view, steps: { ...view.steps, [step.id]: step } };
    }
    case "step_unregistered": {
      const id = data.step_id as string;
      if (!(id in view.steps)) return view;
      const steps = { ...view.steps };
      delete steps[id];
      return { ...view, steps };
    }
    case "step_health_changed": {
      const nodeId = data.node_id as string;
      const node = view.cluster.nodes[nodeId] ?? { health: {} };
      const health: HealthState = { status: data.status as string };
      if (data.error) health.error = data.error as string;
      return {
        ...view,
        cluster: {
          ...view.cluster,
          nodes: {
            ...view.cluster.nodes,
            [nodeId]: {
              ...node,
              last_seen: ts ?? node.last_seen,
              health: { ...node.health, [data.step_id as string]: health },
            },
          },
        },
      };
    }
    default:
      return view;
  }
}

export function viewFromSnapshots(catalog: CatalogState | null, cluster: ClusterState | null): EngineView {
  return { steps: catalog?.steps ?? {}, cluster: cluster ?? { nodes: {} } };
}

const RANK: Record<string, number> = { healthy: 0, unknown: 1, unhealthy: 2 };

/** A step's health over every node: the worst wins (unhealthy > unknown > healthy). */
export function stepHealth(cluster: ClusterState, stepId: string): HealthState {
  let worst: HealthState | null = null;
  for (const [nodeId, node] of Object.entries(cluster.nodes)) {
    const h = node.health?.[stepId];
    if (!h) continue;
    if (!worst || (RANK[h.status] ?? 1) > (RANK[worst.status] ?? 1)) {
      worst = h.error ? { status: h.status, error: `node ${nodeId}: ${h.error}` } : h;
    }
  }
  return worst ?? { status: "unknown" };
}

/** A short text for a step card: its endpoint, script or child goals. */
export function stepPreview(step: Step): string {
  if (step.http?.endpoint) return `${step.http.method || "POST"} ${step.http.endpoint}`;
  if (step.script) return `${step.script.language}: ${step.script.script}`;
  if (step.flow) return `flow → ${step.flow.goals.join(", ")}`;
  return "";
}

/** Steps whose ID or name contains `text` (case-insensitive); all when empty. */
export function matchSteps(steps: Record<string, Step>, text: string): Set<string> | null {
  const q = text.trim().toLowerCase();
  if (!q) return null;
  const out = new Set<string>();
  for (const s of Object.values(steps)) {
    if (s.id.toLowerCase().includes(q) || (s.name ?? "").toLowerCase().includes(q)) out.add(s.id);
  }
  return out;
}
