import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api } from "../api";
import {
  buildInit,
  fieldsFromInit,
  parseInitJson,
  parseLabels,
  proposeFlowId,
  randomSuffix,
  startInputs,
} from "../logic/plan";
import { flowPath, navigate } from "../router";
import type { Plan } from "../types";

function placeholder(type: string): string {
  switch (type) {
    case "number":
      return "e.g. 42";
    case "boolean":
      return "true / false";
    case "object":
      return '{"key": "value"}';
    case "array":
      return "[1, 2, 3]";
    case "string":
      return "text";
    default:
      return "JSON or text";
  }
}

/** The start form: the plan's inputs, a flow ID and labels; starts the flow and opens it. */
export function StartPanel({ plan }: { plan: Plan }) {
  const inputs = useMemo(() => startInputs(plan), [plan]);
  const goalsKey = plan.goals.join(",");
  const [flowId, setFlowId] = useState(() => proposeFlowId(plan.goals, randomSuffix()));
  const [fields, setFields] = useState<Record<string, string>>({});
  const [mode, setMode] = useState<"form" | "json">("form");
  const [json, setJson] = useState("{}");
  const [labels, setLabels] = useState("");
  const [error, setError] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => setFlowId(proposeFlowId(goalsKey.split(","), randomSuffix())), [goalsKey]);

  const switchMode = (m: "form" | "json") => {
    if (m === mode) return;
    if (m === "json") {
      setJson(JSON.stringify(buildInit(inputs, fields).init, null, 2));
    } else {
      const parsed = parseInitJson(json);
      if (parsed.init) setFields(fieldsFromInit(parsed.init, inputs));
    }
    setMode(m);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    let init: Record<string, unknown[]>;
    if (mode === "json") {
      const parsed = parseInitJson(json);
      if (!parsed.init) return setError(parsed.error ?? "invalid JSON");
      init = parsed.init;
    } else {
      const built = buildInit(inputs, fields);
      setFieldErrors(built.errors);
      if (Object.keys(built.errors).length) return setError("fix the highlighted inputs");
      init = built.init;
    }
    const lab = parseLabels(labels);
    if (lab.error) return setError(lab.error);
    setBusy(true);
    try {
      const res = await api.startFlow({ id: flowId, goals: plan.goals, init, labels: lab.labels });
      navigate(flowPath(res.flow_id));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="start-panel" onSubmit={submit} data-testid="start-panel">
      <h3>Start a flow</h3>
      <label className="field">
        <span>Flow ID</span>
        <span className="inline">
          <input data-testid="flow-id-input" value={flowId} onChange={(e) => setFlowId(e.target.value)} required />
          <button type="button" className="ghost" title="propose another ID" onClick={() => setFlowId(proposeFlowId(plan.goals, randomSuffix()))}>
            ↻
          </button>
        </span>
      </label>
      <div className="tabs small">
        <button type="button" className={mode === "form" ? "on" : ""} onClick={() => switchMode("form")} data-testid="init-mode-form">
          Form
        </button>
        <button type="button" className={mode === "json" ? "on" : ""} onClick={() => switchMode("json")} data-testid="init-mode-json">
          JSON
        </button>
      </div>
      {mode === "form" ? (
        inputs.length ? (
          inputs.map((inp) => (
            <label key={inp.name} className={`field ${fieldErrors[inp.name] ? "invalid" : ""}`}>
              <span>
                {inp.name} <span className="atype">{inp.type || "any"}</span>
                {inp.required ? <span className="req"> required</span> : <span className="muted"> optional</span>}
              </span>
              <input
                data-testid={`init-input-${inp.name}`}
                value={fields[inp.name] ?? ""}
                placeholder={inp.defaultText ? `default: ${inp.defaultText}` : placeholder(inp.type)}
                onChange={(e) => setFields({ ...fields, [inp.name]: e.target.value })}
              />
              {fieldErrors[inp.name] && <span className="error small">{fieldErrors[inp.name]}</span>}
            </label>
          ))
        ) : (
          <p className="muted">This plan needs no inputs.</p>
        )
      ) : (
        <label className="field">
          <span>init (each attribute maps to a list of values)</span>
          <textarea
            data-testid="init-json"
            rows={6}
            value={json}
            onChange={(e) => setJson(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void submit(e);
            }}
            spellCheck={false}
          />
        </label>
      )}
      <label className="field">
        <span>Labels</span>
        <input data-testid="flow-labels-input" value={labels} placeholder="key=value, key2=value2" onChange={(e) => setLabels(e.target.value)} />
      </label>
      {error && (
        <div className="error" data-testid="start-error">
          {error}
        </div>
      )}
      <button type="submit" className="primary" data-testid="start-flow" disabled={busy}>
        {busy ? "Starting…" : "Start flow"}
      </button>
    </form>
  );
}
