import type { Edge, Node } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { api } from "../api";
import { Graph } from "../components/Graph";
import { Timeline } from "../components/Timeline";
import type { LiveNodeData } from "../components/nodes";
import {
  applyFlowEvents,
  elapsed,
  formatDuration,
  initOf,
  isZeroTime,
  mergeEvents,
  normalizeEvent,
  rerunId,
  workCounts,
} from "../logic/flow";
import { dependencyEdges, nodeHeight } from "../logic/layout";
import { randomSuffix } from "../logic/plan";
import { flowPath, navigate } from "../router";
import { useLayout } from "../useLayout";
import type { ExecutionState, FlowEvent, FlowState, Step } from "../types";
import { liveSocket } from "../ws";

const MAX_ITEMS_LISTED = 200;
const NO_STEPS: Record<string, Step> = {};
const liveHeight = (s: Step): number => nodeHeight(s) * 0.5 + 70;

function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function StepDetails({ flowId, step, exec, now }: { flowId: string; step: Step | undefined; exec: ExecutionState | undefined; now: number }) {
  const id = step?.id ?? "";
  const items = Object.entries(exec?.work_items ?? {});
  const childOf = (token: string) => `${flowId}:${id}:${token}`;
  return (
    <div className="step-details" data-testid="step-details">
      <h3>{id}</h3>
      <div>
        status <b className={`status-${exec?.status ?? "pending"}`}>{exec?.status ?? "pending"}</b>
        {exec?.duration ? ` · ${formatDuration(exec.duration)}` : ""}
      </div>
      {exec?.error && <div className="error">{exec.error}</div>}
      {exec?.waiting && <div className="warn">waiting: {exec.waiting}</div>}
      {exec?.unsatisfied?.length ? <div className="warn small">unsatisfied: {exec.unsatisfied.join(", ")}</div> : null}
      {exec?.inputs != null && (
        <>
          <h4>Inputs</h4>
          <Json value={exec.inputs} />
        </>
      )}
      {exec?.outputs != null && (
        <>
          <h4>Outputs</h4>
          <Json value={exec.outputs} />
        </>
      )}
      {items.length > 0 && (
        <>
          <h4>
            Work items ({items.length}
            {items.length > MAX_ITEMS_LISTED ? `, first ${MAX_ITEMS_LISTED} listed` : ""})
          </h4>
          <table className="work-items">
            <tbody>
              {items.slice(0, MAX_ITEMS_LISTED).map(([token, w]) => (
                <tr key={token} className={`status-${w.status}`}>
                  <td title={token}>
                    {step?.type === "flow" ? (
                      <a
                        href={flowPath(childOf(token))}
                        data-testid={`child-flow-${token}`}
                        onClick={(e) => {
                          e.preventDefault();
                          navigate(flowPath(childOf(token)));
                        }}
                        title="open the child flow"
                      >
                        {token.slice(0, 8)} ↗
                      </a>
                    ) : (
                      token.slice(0, 8)
                    )}
                  </td>
                  <td>{w.status}</td>
                  <td>{w.retry_count ? `retries ${w.retry_count}` : ""}</td>
                  <td>
                    {!isZeroTime(w.next_retry_at) && (w.status === "pending" || w.status === "compensating")
                      ? `retry in ${Math.max(0, Math.ceil((Date.parse(w.next_retry_at!) - now) / 1000))}s`
                      : ""}
                  </td>
                  <td className="small" title={w.error}>
                    {w.error ?? JSON.stringify(w.outputs ?? w.inputs ?? "")?.slice(0, 60)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function Attributes({ flow }: { flow: FlowState }) {
  const names = Object.keys(flow.attributes).sort();
  if (!names.length) return <p className="muted">No attribute values yet.</p>;
  return (
    <table className="attr-table" data-testid="flow-attributes">
      <tbody>
        {names.map((n) =>
          flow.attributes[n].slice(0, 20).map((v, i) => (
            <tr key={`${n}-${i}`} data-testid={i === 0 ? `attr-${n}` : undefined}>
              <td className="aname">{i === 0 ? n : ""}</td>
              <td className="aval" title={JSON.stringify(v.value)}>
                {JSON.stringify(v.value)?.slice(0, 200)}
              </td>
              <td className="muted small">{v.step ? `from ${v.step}` : "init"}</td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

/** `/ui/flow/<id>`: the flow's plan steps live, its attributes and its event timeline. */
export function FlowView({ id, theme }: { id: string; theme: "light" | "dark" }) {
  const [flow, setFlow] = useState<FlowState | null>(null);
  const [missing, setMissing] = useState(false);
  const [events, setEvents] = useState<FlowEvent[]>([]);
  const [tab, setTab] = useState<"step" | "attributes" | "timeline">("attributes");
  const [selected, setSelected] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const [rerunError, setRerunError] = useState("");

  useEffect(() => {
    let alive = true;
    const unsubscribe = liveSocket().subscribe([["flow", id]], {
      onState: (items) => {
        const item = items[0];
        if (!item) {
          setMissing(true);
          return;
        }
        setMissing(false);
        setFlow(item.data as FlowState);
        api
          .flowEvents(id)
          .then((evs) => alive && setEvents((prev) => mergeEvents(evs, prev)))
          .catch(() => undefined);
      },
      onEvents: (wire) => {
        const evs = wire.map(normalizeEvent);
        setFlow((f) => (f ? applyFlowEvents(f, evs) : f));
        setEvents((prev) => mergeEvents(prev, evs));
      },
    });
    return () => {
      alive = false;
      unsubscribe();
    };
  }, [id]);

  const ticking = flow?.status === "active";
  useEffect(() => {
    if (!ticking) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [ticking]);

  const plan = flow?.plan;
  const edges = useMemo(() => dependencyEdges(plan?.steps ?? {}), [plan]);
  const { positions } = useLayout(plan?.steps ?? NO_STEPS, edges, liveHeight);

  const nodes = useMemo((): Node<LiveNodeData>[] => {
    if (!plan) return [];
    return Object.values(plan.steps).flatMap((step) => {
      const p = positions.get(step.id);
      if (!p) return [];
      const exec = flow?.executions[step.id];
      return {
        id: step.id,
        type: "live",
        position: { x: p.x, y: p.y },
        width: p.width,
        height: p.height,
        data: {
          step,
          exec,
          counts: workCounts(exec),
          now,
          selected: selected === step.id,
          durationMs: exec?.duration ?? elapsed(exec?.started_at, exec?.completed_at, now),
        },
      };
    });
  }, [plan, positions, flow?.executions, now, selected]);

  const flowEdges = useMemo(
    (): Edge[] =>
      edges.map((e) => {
        const done = flow?.executions[e.source]?.status === "completed";
        return { id: e.id, source: e.source, target: e.target, animated: !done && flow?.status === "active", className: done ? "done" : "" };
      }),
    [edges, flow?.executions, flow?.status],
  );

  const runAgain = async () => {
    if (!flow) return;
    setRerunError("");
    try {
      const res = await api.startFlow({
        id: rerunId(flow.id, randomSuffix()),
        goals: flow.plan.goals,
        init: initOf(flow, events),
        labels: flow.labels ?? {},
      });
      navigate(flowPath(res.flow_id));
    } catch (e) {
      setRerunError((e as Error).message);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return;
      if (e.key === "Escape") setSelected(null);
      if (e.key === "1") setTab("attributes");
      if (e.key === "2") setTab("timeline");
      if (e.key === "3") setTab("step");
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (missing) {
    return (
      <div className="page empty-state" data-testid="flow-not-found">
        <h2>Flow not found</h2>
        <p>
          No flow with ID <code>{id}</code>.
        </p>
      </div>
    );
  }
  if (!flow) return <div className="page empty-state muted">loading {id}…</div>;

  const total = elapsed(flow.created_at, flow.completed_at, now);
  const stepCount = Object.keys(flow.plan.steps).length;
  const doneCount = Object.values(flow.executions).filter((e) => e.status === "completed" || e.status === "skipped").length;

  return (
    <div className="page flow-view">
      <div className="graph-wrap">
        <div className="flow-header">
          <span className={`status-pill big status-${flow.status}`} data-testid="flow-status">
            {flow.status}
          </span>
          <h2 className="flow-title" data-testid="flow-title">
            {flow.id}
          </h2>
          <span className="muted">
            goals: {flow.plan.goals.join(", ")} · {doneCount}/{stepCount} steps · started{" "}
            {new Date(flow.created_at).toLocaleTimeString()} · <span data-testid="flow-duration">{formatDuration(total)}</span>
          </span>
          {typeof flow.metadata?.parent_flow_id === "string" && (
            <a
              href={flowPath(flow.metadata.parent_flow_id)}
              data-testid="parent-flow"
              onClick={(e) => {
                e.preventDefault();
                navigate(flowPath(String(flow.metadata!.parent_flow_id)));
              }}
            >
              ↑ parent {flow.metadata.parent_flow_id}
            </a>
          )}
          {Object.entries(flow.labels ?? {}).map(([k, v]) => (
            <span key={k} className="chip small">
              {k}={v}
            </span>
          ))}
          <span className="spacer" />
          <button className="primary" data-testid="run-again" onClick={() => void runAgain()} title="start a new flow with the same goals and inputs">
            ↻ Run again
          </button>
        </div>
        {flow.error && (
          <div className="error flow-error" data-testid="flow-error">
            {flow.error}
          </div>
        )}
        {rerunError && <div className="error">{rerunError}</div>}
        <Graph
          nodes={nodes}
          edges={flowEdges}
          theme={theme}
          fitKey={`${flow.id}:${stepCount}`}
          testId="flow-graph"
          onNodeClick={(sid) => {
            setSelected(sid);
            setTab("step");
          }}
          onPaneClick={() => setSelected(null)}
        />
      </div>
      <aside className="side">
        <div className="tabs">
          <button className={tab === "attributes" ? "on" : ""} onClick={() => setTab("attributes")} data-testid="tab-attributes">
            Attributes
          </button>
          <button className={tab === "timeline" ? "on" : ""} onClick={() => setTab("timeline")} data-testid="tab-timeline">
            Timeline ({events.length})
          </button>
          <button className={tab === "step" ? "on" : ""} onClick={() => setTab("step")} data-testid="tab-step">
            Step
          </button>
        </div>
        {tab === "attributes" && <Attributes flow={flow} />}
        {tab === "timeline" && <Timeline events={events} />}
        {tab === "step" &&
          (selected ? (
            <StepDetails flowId={flow.id} step={flow.plan.steps[selected]} exec={flow.executions[selected]} now={now} />
          ) : (
            <p className="muted">Click a step to see its inputs, outputs and work items.</p>
          ))}
      </aside>
    </div>
  );
}
