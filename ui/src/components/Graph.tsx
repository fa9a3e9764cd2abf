import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type Node,
} from "@xyflow/react";
import { useEffect, type KeyboardEvent, type MouseEvent } from "react";
import { isTyping } from "../router";
import { nodeTypes } from "./nodes";

interface Props {
  nodes: Node[];
  edges: Edge[];
  theme: "light" | "dark";
  onNodeClick?: (id: string, additive: boolean) => void;
  onPaneClick?: () => void;
  /** Changes when the graph should be fitted again (e.g. the set of nodes). */
  fitKey: string;
  testId?: string;
  /** When set and non-empty, the view zooms to these nodes (e.g. search matches). */
  focusIds?: string[];
  /** What "f" fits: these nodes when given (e.g. the plan), else all. */
  fitIds?: string[];
}

function Inner({ nodes, edges, theme, onNodeClick, onPaneClick, fitKey, testId, focusIds, fitIds }: Props) {
  const flow = useReactFlow();
  const focusKey = focusIds?.slice(0, 50).join("|") ?? "";
  useEffect(() => {
    if (!focusKey) return;
    const t = setTimeout(
      () => void flow.fitView({ nodes: focusKey.split("|").map((id) => ({ id })), padding: 0.3, maxZoom: 1.2, duration: 200 }),
      150,
    );
    return () => clearTimeout(t);
  }, [focusKey, flow]);
  useEffect(() => {
    const t = setTimeout(() => void flow.fitView({ padding: 0.1, maxZoom: 1.2, duration: 0 }), 30);
    return () => clearTimeout(t);
  }, [fitKey, flow]);
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key !== "f") return;
      const only = fitIds?.length ? fitIds.map((id) => ({ id })) : undefined;
      void flow.fitView({ nodes: only, padding: 0.1, maxZoom: 1.2, duration: 200 });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [flow, fitIds]);
  const onKeyDown = (e: KeyboardEvent) => {
    const el = (e.target as HTMLElement).closest?.(".react-flow__node") as HTMLElement | null;
    if (!el || (e.key !== "Enter" && e.key !== " ")) return;
    const id = el.dataset.id;
    if (!id) return;
    e.preventDefault();
    onNodeClick?.(id, e.ctrlKey || e.metaKey);
  };
  return (
    <div className="graph" data-testid={testId} onKeyDown={onKeyDown}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        colorMode={theme}
        onNodeClick={(e: MouseEvent, n: Node) => onNodeClick?.(n.id, e.ctrlKey || e.metaKey)}
        onPaneClick={onPaneClick}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        nodesFocusable
        onlyRenderVisibleElements={nodes.length > 60}
        minZoom={0.05}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
        {nodes.length > 8 && <MiniMap pannable zoomable nodeStrokeWidth={3} />}
      </ReactFlow>
    </div>
  );
}

export function Graph(props: Props) {
  return (
    <ReactFlowProvider>
      <Inner {...props} />
    </ReactFlowProvider>
  );
}
