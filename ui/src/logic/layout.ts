// Dependency edges between steps and a left-to-right layered layout (dagre).

import dagre from "@dagrejs/dagre";
import type { Step } from "../types";

export interface DepEdge {
  id: string;
  source: string;
  target: string;
  /** The attribute names carried from source to target, sorted. */
  attributes: string[];
}

export const NODE_WIDTH = 250;
const INPUT_ROLES = new Set(["required", "optional"]);
const MAX_LISTED_ATTRS = 8;

/**
 * One edge per (provider, consumer) pair: an output of the source with the
 * same attribute name as a required or optional input of the target.
 */
export function dependencyEdges(steps: Record<string, Step>): DepEdge[] {
  const providers = new Map<string, string[]>();
  for (const s of Object.values(steps)) {
    for (const [name, a] of Object.entries(s.attributes ?? {})) {
      if (a.role === "output") {
        const list = providers.get(name) ?? [];
        list.push(s.id);
        providers.set(name, list);
      }
    }
  }
  const edges = new Map<string, DepEdge>();
  for (const s of Object.values(steps)) {
    for (const [name, a] of Object.entries(s.attributes ?? {})) {
      if (!INPUT_ROLES.has(a.role)) continue;
      for (const p of providers.get(name) ?? []) {
        if (p === s.id) continue;
        const id = `${p}->${s.id}`;
        const e = edges.get(id) ?? { id, source: p, target: s.id, attributes: [] };
        e.attributes.push(name);
        edges.set(id, e);
      }
    }
  }
  const out = [...edges.values()];
  for (const e of out) e.attributes.sort();
  return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** The height a step card needs (it lists at most MAX_LISTED_ATTRS attributes). */
export function nodeHeight(step: Step): number {
  const attrs = Math.min(Object.keys(step.attributes ?? {}).length, MAX_LISTED_ATTRS + 1);
  return 74 + attrs * 18 + (step.predicate ? 18 : 0);
}

export interface Positioned {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SizedNode {
  id: string;
  height: number;
}

/** Top-left positions of `nodes` (sorted by ID first), dependencies flowing left to right. */
export function layoutGraph(nodes: SizedNode[], edges: { source: string; target: string }[]): Positioned[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 70, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  const sorted = [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const known = new Set(sorted.map((n) => n.id));
  for (const n of sorted) g.setNode(n.id, { width: NODE_WIDTH, height: n.height });
  for (const e of edges) if (known.has(e.source) && known.has(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return sorted.map(({ id }) => {
    const n = g.node(id);
    return { id, x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height };
  });
}

/** What a layout depends on: the nodes' IDs and heights and the edges (not the steps' other fields). */
export function layoutKey(nodes: SizedNode[], edges: DepEdge[]): string {
  return nodes.map((n) => `${n.id}:${n.height}`).sort().join(",") + "|" + edges.map((e) => e.id).join(",");
}

/** Top-left positions, dependencies flowing left to right. */
export function layoutSteps(steps: Record<string, Step>, edges: DepEdge[], heightOf = nodeHeight): Map<string, Positioned> {
  const nodes = Object.values(steps).map((s) => ({ id: s.id, height: heightOf(s) }));
  return new Map(layoutGraph(nodes, edges).map((p) => [p.id, p]));
}

export { MAX_LISTED_ATTRS };
