import { Handle, Position, useStore, type Node, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { stepPreview } from "../logic/catalog";
import { formatDuration, type WorkCounts } from "../logic/flow";
import { MAX_LISTED_ATTRS } from "../logic/layout";
import type { ExecutionState, HealthState, Step } from "../types";

const ROLE_ICON: Record<string, string> = {
  required: "●",
  optional: "○",
  const: "◆",
  meta: "◇",
  output: "▶",
};

function Attributes({ step }: { step: Step }) {
  const entries = Object.entries(step.attributes ?? {}).sort(([a, x], [b, y]) =>
    x.role === "output" && y.role !== "output" ? 1 : y.role === "output" && x.role !== "output" ? -1 : a < b ? -1 : 1,
  );
  const shown = entries.slice(0, MAX_LISTED_ATTRS);
  return (
    <ul className="attrs">
      {shown.map(([name, a]) => (
        <li key={name} className={`role-${a.role}`} title={a.role}>
          <span className="role">{ROLE_ICON[a.role] ?? "?"}</span>
          <span className="aname">{name}</span>
          {a.type && <span className="atype">{a.type}</span>}
        </li>
      ))}
      {entries.length > shown.length && <li className="muted">+{entries.length - shown.length} more</li>}
    </ul>
  );
}

export type StepNodeData = {
  step: Step;
  health: HealthState;
  goal: boolean;
  dimmed: boolean;
  missing?: string[];
};

export type StepNodeType = Node<StepNodeData, "step">;

/** Zoomed out this far, cards show only their head (large graphs draw faster). */
const COMPACT_ZOOM = 0.45;
const isCompact = (s: { transform: [number, number, number] }) => s.transform[2] < COMPACT_ZOOM;

export const StepNode = memo(function StepNode({ data }: NodeProps<StepNodeType>) {
  const { step, health, goal, dimmed, missing } = data;
  const compact = useStore(isCompact);
  if (compact) {
    return (
      <div
        className={`step-card compact ${goal ? "goal" : ""} ${dimmed ? "dimmed" : ""}`}
        data-testid={`step-node-${step.id}`}
        data-goal={goal ? "true" : "false"}
        data-dimmed={dimmed ? "true" : "false"}
        data-health={health.status}
        title={step.id}
      >
        <Handle type="target" position={Position.Left} isConnectable={false} />
        <div className="card-head">
          <span className={`dot health-${health.status}`} />
          <span className="card-name">{step.name || step.id}</span>
        </div>
        {missing && missing.length > 0 && <div className="card-missing">missing: {missing.join(", ")}</div>}
        <Handle type="source" position={Position.Right} isConnectable={false} />
      </div>
    );
  }
  const preview = stepPreview(step);
  return (
    <div
      className={`step-card ${goal ? "goal" : ""} ${dimmed ? "dimmed" : ""}`}
      data-testid={`step-node-${step.id}`}
      data-goal={goal ? "true" : "false"}
      data-dimmed={dimmed ? "true" : "false"}
      data-health={health.status}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="card-head">
        <span className={`dot health-${health.status}`} title={`health: ${health.status}${health.error ? ` (${health.error})` : ""}`} />
        <span className="card-name">{step.name || step.id}</span>
        <span className={`badge type-${step.type}`}>{step.type}</span>
      </div>
      <div className="card-id">{step.id}</div>
      <Attributes step={step} />
      {step.predicate && (
        <div className="card-pred" title={step.predicate.script}>
          if <code>{step.predicate.script}</code>
        </div>
      )}
      {preview && (
        <div className="card-preview" title={preview}>
          {preview}
        </div>
      )}
      {missing && missing.length > 0 && (
        <div className="card-missing" data-testid={`missing-${step.id}`}>
          missing: {missing.join(", ")}
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

export type LiveNodeData = {
  step: Step;
  exec: ExecutionState | undefined;
  counts: WorkCounts;
  now: number;
  selected: boolean;
  durationMs: number;
};

export type LiveNodeType = Node<LiveNodeData, "live">;

function retryText(at: string | undefined, now: number): string {
  if (!at) return "";
  const s = Math.max(0, Math.ceil((Date.parse(at) - now) / 1000));
  return `retry in ${s}s`;
}

export const LiveStepNode = memo(function LiveStepNode({ data }: NodeProps<LiveNodeType>) {
  const { step, exec, counts, now, selected, durationMs } = data;
  const status = exec?.status ?? "pending";
  return (
    <div
      className={`step-card live status-${status} ${selected ? "goal" : ""}`}
      data-testid={`live-step-${step.id}`}
      data-status={status}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="card-head">
        <span className={`status-pill status-${status}`}>{status}</span>
        <span className="card-name">{step.name || step.id}</span>
        <span className={`badge type-${step.type}`}>{step.type}</span>
      </div>
      <div className="card-id">{step.id}</div>
      {counts.total > 0 && (
        <div className="card-work" data-testid={`work-${step.id}`}>
          work {counts.done}/{counts.total}
          {counts.failed > 0 && <span className="failed"> · {counts.failed} failed</span>}
          {counts.active > 0 && <span> · {counts.active} active</span>}
          <div className="progress">
            <div className="ok" style={{ width: `${(100 * counts.done) / counts.total}%` }} />
            <div className="bad" style={{ width: `${(100 * counts.failed) / counts.total}%` }} />
          </div>
        </div>
      )}
      {exec?.waiting && (
        <div className="card-waiting" data-testid={`waiting-${step.id}`} title={exec.waiting}>
          ⏸ waiting: {exec.waiting}
        </div>
      )}
      {counts.nextRetryAt && (
        <div className="card-retry" data-testid={`retry-${step.id}`}>
          ⟳ {retryText(counts.nextRetryAt, now)}
        </div>
      )}
      {Number.isFinite(durationMs) && <div className="card-duration muted">{formatDuration(durationMs)}</div>}
      {exec?.error && (
        <div className={status === "skipped" ? "card-skip" : "card-error"} data-testid={`error-${step.id}`} title={exec.error}>
          {exec.error}
        </div>
      )}
      {!exec?.error && counts.lastError && (
        <div className="card-error" data-testid={`error-${step.id}`} title={counts.lastError}>
          {counts.lastError}
        </div>
      )}
      {exec?.outputs != null && status === "completed" && (
        <div className="card-outputs" title={JSON.stringify(exec.outputs)}>
          {JSON.stringify(exec.outputs).slice(0, 120)}
        </div>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

export const nodeTypes = { step: StepNode, live: LiveStepNode };
