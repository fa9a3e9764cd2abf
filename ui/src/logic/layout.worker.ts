// Lays out large graphs off the main thread, so the page stays responsive.
import { layoutGraph, type SizedNode } from "./layout";

self.onmessage = (m: MessageEvent<{ seq: number; nodes: SizedNode[]; edges: { source: string; target: string }[] }>) => {
  const { seq, nodes, edges } = m.data;
  self.postMessage({ seq, positions: layoutGraph(nodes, edges) });
};
