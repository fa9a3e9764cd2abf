// Positions for a graph of steps: computed in place for small graphs, in a
// Web Worker for large ones (dagre takes a few hundred ms for 500 steps), and
// only when the IDs, heights or edges change.

import { useEffect, useMemo, useRef, useState } from "react";
import { NODE_WIDTH, layoutGraph, layoutKey, type DepEdge, type Positioned } from "./logic/layout";
import type { Step } from "./types";

/** Graphs with more steps than this are laid out in the worker. */
export const WORKER_THRESHOLD = 80;

let worker: Worker | null = null;
let seq = 0;
const waiting = new Map<number, (p: Positioned[]) => void>();

function layoutInWorker(nodes: { id: string; height: number }[], edges: DepEdge[]): Promise<Positioned[]> {
  if (!worker) {
    worker = new Worker(new URL("./logic/layout.worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (m: MessageEvent<{ seq: number; positions: Positioned[] }>) => {
      waiting.get(m.data.seq)?.(m.data.positions);
      waiting.delete(m.data.seq);
    };
  }
  const id = ++seq;
  const plain = edges.map((e) => ({ source: e.source, target: e.target }));
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker!.postMessage({ seq: id, nodes, edges: plain });
  });
}

export interface Layout {
  positions: Map<string, Positioned>;
  /** Changes each time a new layout is in place (to fit the view again). */
  version: string;
}

/**
 * Positions by step ID. A large graph shows nothing until its first layout
 * arrives; after that, known nodes keep their place and new ones wait in a
 * column on the right until the next layout.
 */
export function useLayout(steps: Record<string, Step>, edges: DepEdge[], heightOf: (s: Step) => number): Layout {
  const nodes = useMemo(() => Object.values(steps).map((s) => ({ id: s.id, height: heightOf(s) })), [steps, heightOf]);
  const key = useMemo(() => layoutKey(nodes, edges), [nodes, edges]);
  const small = nodes.length <= WORKER_THRESHOLD;
  const sync = useMemo(
    () => (small ? new Map(layoutGraph(nodes, edges).map((p) => [p.id, p])) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key, small],
  );
  const [async, setAsync] = useState<{ key: string; positions: Map<string, Positioned> } | null>(null);
  const latest = useRef("");

  useEffect(() => {
    if (small) return;
    latest.current = key;
    void layoutInWorker(nodes, edges).then((positions) => {
      if (latest.current === key) setAsync({ key, positions: new Map(positions.map((p) => [p.id, p])) });
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, small]);

  return useMemo((): Layout => {
    if (sync) return { positions: sync, version: `s${key.length}:${nodes.length}` };
    const out = new Map<string, Positioned>();
    if (!async) return { positions: out, version: "pending" };
    if (async.key === key) return { positions: async.positions, version: `a${async.key.length}:${nodes.length}` };
    let right = 0;
    for (const p of async.positions.values()) right = Math.max(right, p.x + p.width);
    let y = 0;
    for (const n of nodes) {
      const p = async.positions.get(n.id);
      if (p && p.height === n.height) out.set(n.id, p);
      else {
        out.set(n.id, { id: n.id, x: right + 120, y, width: NODE_WIDTH, height: n.height });
        y += n.height + 24;
      }
    }
    return { positions: out, version: `a${async.key.length}:${async.positions.size}` };
  }, [sync, async, nodes, key]);
}
