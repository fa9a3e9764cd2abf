import type { Edge, Node } from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api";
import { Graph } from "../components/Graph";
import { StartPanel } from "../components/StartPanel";
import { StepEditor } from "../components/StepEditor";
import type { StepNodeData } from "../components/nodes";
import { applyEngineEvent, emptyView, matchSteps, stepHealth, viewFromSnapshots, type EngineView } from "../logic/catalog";
import { dependencyEdges, nodeHeight } from "../logic/layout";
import { planSummary, toggleGoal } from "../logic/plan";
import { isTyping } from "../router";
import { useLayout } from "../useLayout";
import type { CatalogState, ClusterState, Plan, Step } from "../types";
import { liveSocket } from "../ws";

function sameCard(a: StepNodeData, b: StepNodeData): boolean {
  return (
    a.step === b.step &&
    a.goal === b.goal &&
    a.dimmed === b.dimmed &&
    a.health.status === b.health.status &&
    a.health.error === b.health.error &&
    (a.missing ?? []).join() === (b.missing ?? []).join()
  );
}

/** The catalog as a live graph; goals preview the plan and open the start form. */
export function Overview({ theme }: { theme: "light" | "dark" }) {
  const [view, setView] = useState<EngineView>(emptyView);
  const [loaded, setLoaded] = useState(false);
  const [goals, setGoals] = useState<string[]>([]);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [planError, setPlanError] = useState("");
  const [editing, setEditing] = useState<{ step: Step | null } | null>(null);
  const [search, setSearch] = useState("");
  const planGen = useRef(0);

  useEffect(
    () =>
      liveSocket().subscribe([["catalog"], ["cluster"]], {
        onState: (items) => {
          const catalog = items.find((i) => i.id[0] === "catalog")?.data as CatalogState | undefined;
          const cluster = items.find((i) => i.id[0] === "cluster")?.data as ClusterState | undefined;
          setView(viewFromSnapshots(catalog ?? null, cluster ?? null));
          setLoaded(true);
        },
        onEvents: (events) =>
          setView((v) => events.reduce((acc, e) => applyEngineEvent(acc, e.type, e.data, new Date(e.timestamp).toISOString()), v)),
      }),
    [],
  );

  const steps = view.steps;

  // goals that left the catalog are dropped
  useEffect(() => {
    setGoals((g) => (g.every((id) => id in steps) ? g : g.filter((id) => id in steps)));
  }, [steps]);

  // the plan preview follows the goals and the catalog
  useEffect(() => {
    const gen = ++planGen.current;
    if (!goals.length) {
      setPlan(null);
      setPlanError("");
      return;
    }
    const t = setTimeout(() => {
      api
        .plan(goals)
        .then((p) => gen === planGen.current && (setPlan(p), setPlanError("")))
        .catch((e: Error) => gen === planGen.current && (setPlan(null), setPlanError(e.message)));
    }, 50);
    return () => clearTimeout(t);
  }, [goals, steps]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !isTyping(e)) {
        setGoals([]);
        setEditing(null);
      }
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "n") {
        e.preventDefault();
        setEditing({ step: null });
      } else if (e.key === "s") {
        e.preventDefault();
        document.getElementById("step-search")?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const edges = useMemo(() => dependencyEdges(steps), [steps]);
  const { positions, version: layoutVersion } = useLayout(steps, edges, nodeHeight);
  const found = useMemo(() => matchSteps(steps, search), [steps, search]);

  // Node objects are reused when nothing about them changed, so React Flow
  // re-renders only the cards that did (500-step catalogs stay responsive).
  const nodeCache = useRef(new Map<string, Node<StepNodeData>>());
  const nodes = useMemo((): Node<StepNodeData>[] => {
    const inPlan = plan ? new Set(Object.keys(plan.steps)) : null;
    const missing = plan?.excluded?.missing ?? {};
    const cache = new Map<string, Node<StepNodeData>>();
    const out: Node<StepNodeData>[] = [];
    for (const step of Object.values(steps)) {
      const p = positions.get(step.id);
      if (!p) continue; // a large catalog's first layout is still being computed
      const data: StepNodeData = {
        step,
        health: stepHealth(view.cluster, step.id),
        goal: goals.includes(step.id),
        dimmed: (inPlan !== null && !inPlan.has(step.id) && !(step.id in missing)) || (found !== null && !found.has(step.id)),
        missing: missing[step.id],
      };
      const prev = nodeCache.current.get(step.id);
      const node =
        prev && prev.position.x === p.x && prev.position.y === p.y && prev.height === p.height && sameCard(prev.data, data)
          ? prev
          : { id: step.id, type: "step" as const, position: { x: p.x, y: p.y }, width: p.width, height: p.height, data };
      cache.set(step.id, node);
      out.push(node);
    }
    nodeCache.current = cache;
    return out;
  }, [steps, positions, view.cluster, goals, plan, found]);

  const flowEdges = useMemo((): Edge[] => {
    const inPlan = plan ? new Set(Object.keys(plan.steps)) : null;
    return edges.map((e) => {
      const active = inPlan !== null && inPlan.has(e.source) && inPlan.has(e.target);
      return {
        id: e.id,
        source: e.source,
        target: e.target,
        animated: active,
        className: inPlan !== null && !active ? "dimmed" : active ? "in-plan" : "",
        label: e.attributes.length <= 2 ? e.attributes.join(", ") : `${e.attributes.length} attributes`,
      };
    });
  }, [edges, plan]);

  const stepCount = Object.keys(steps).length;
  const fitKey = layoutVersion;
  const planIds = useMemo(() => (plan ? Object.keys(plan.steps) : undefined), [plan]);
  const missing = plan?.excluded?.missing ?? {};

  return (
    <div className="page overview">
      <div className="graph-wrap">
        <div className="graph-toolbar">
          <input
            id="step-search"
            data-testid="step-search"
            placeholder="find steps  ( s )"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && (setSearch(""), (e.target as HTMLInputElement).blur())}
          />
          <span className="muted" data-testid="step-count">
            {loaded ? `${stepCount} step${stepCount === 1 ? "" : "s"}` : "loading…"}
          </span>
          <span className="spacer" />
          <button onClick={() => setEditing({ step: null })} data-testid="new-step" title="new step (n)">
            + New step
          </button>
        </div>
        {loaded && stepCount === 0 ? (
          <div className="empty-state">
            <h2>No steps registered</h2>
            <p>
              Register a step with <b>+ New step</b>, the Python SDK or <code>POST /engine/step</code>; it appears here at
              once.
            </p>
          </div>
        ) : (
          <Graph
            nodes={nodes}
            edges={flowEdges}
            theme={theme}
            fitKey={fitKey}
            testId="overview-graph"
            focusIds={found ? [...found].sort() : undefined}
            fitIds={planIds}
            onNodeClick={(id, additive) => setGoals((g) => toggleGoal(g, id, additive))}
          />
        )}
      </div>
      <aside className="side">
        {editing ? (
          <StepEditor step={editing.step} onClose={() => setEditing(null)} />
        ) : goals.length === 0 ? (
          <div className="hint">
            <h3>Plan a flow</h3>
            <p>Click a step to make it the goal and preview its plan; Ctrl/Cmd-click adds more goals.</p>
            <p className="muted">Keyboard: Tab to a step, Enter selects it. Press ? for all shortcuts.</p>
          </div>
        ) : (
          <div className="plan-panel">
            <div className="panel-head">
              <h3>Plan</h3>
              <button className="ghost" onClick={() => setGoals([])} title="clear (Esc)">
                ✕
              </button>
            </div>
            <div className="chips">
              {goals.map((g) => (
                <span key={g} className="chip">
                  {g}
                  <button className="ghost" onClick={() => setGoals(goals.filter((x) => x !== g))} aria-label={`remove ${g}`}>
                    ×
                  </button>
                </span>
              ))}
            </div>
            {plan && (
              <>
                <div className="plan-summary" data-testid="plan-summary">
                  {planSummary(plan)}
                </div>
                {plan.required.length > 0 && (
                  <div className="muted small" data-testid="plan-required">
                    needs: {plan.required.join(", ")}
                  </div>
                )}
                {Object.entries(missing).map(([id, names]) => (
                  <div key={id} className="warn small" data-testid={`plan-missing-${id}`}>
                    {id} cannot run: missing {names.join(", ")}
                  </div>
                ))}
                {Object.entries(plan.excluded?.blocked ?? {}).map(([id, names]) => (
                  <div key={id} className="warn small">
                    {id} is blocked by {names.join(", ")}
                  </div>
                ))}
                <StartPanel plan={plan} />
                <div className="buttons">
                  {goals.map((g) =>
                    steps[g] ? (
                      <button key={g} className="ghost small" data-testid={`edit-step-${g}`} onClick={() => setEditing({ step: steps[g] })}>
                        Edit {g}
                      </button>
                    ) : null,
                  )}
                </div>
              </>
            )}
            {planError && (
              <div className="error" data-testid="plan-error">
                {planError}
              </div>
            )}
          </div>
        )}
      </aside>
    </div>
  );
}
