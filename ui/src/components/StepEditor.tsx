import { useEffect, useRef, useState } from "react";
import { api } from "../api";
import type { Step } from "../types";

export const NEW_STEP_TEMPLATE = {
  id: "my-step",
  name: "My Step",
  type: "script",
  attributes: {
    name: { role: "required", type: "string" },
    greeting: { role: "output", type: "string" },
  },
  script: { language: "lua", script: 'return {greeting = "Hello, " .. name}' },
};

/** The JSON step editor: registers a new step or updates an existing one. */
export function StepEditor({ step, onClose }: { step: Step | null; onClose: () => void }) {
  const [text, setText] = useState(() => JSON.stringify(step ?? NEW_STEP_TEMPLATE, null, 2));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    setText(JSON.stringify(step ?? NEW_STEP_TEMPLATE, null, 2));
    setMessage(null);
    area.current?.focus();
  }, [step]);

  const save = async (update: boolean) => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      setMessage({ ok: false, text: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    const id = body && typeof body === "object" && "id" in body ? String((body as { id: unknown }).id) : "";
    setBusy(true);
    try {
      const res = update ? await api.updateStep(step?.id ?? id, body) : await api.registerStep(body);
      setMessage({ ok: true, text: `${res.message}: ${id}` });
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="step-editor" data-testid="step-editor">
      <div className="panel-head">
        <h3>{step ? `Edit ${step.id}` : "New step"}</h3>
        <button className="ghost" onClick={onClose} title="close (Esc)">
          ✕
        </button>
      </div>
      <textarea
        ref={area}
        data-testid="step-editor-json"
        spellCheck={false}
        rows={20}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void save(step !== null);
          } else if (e.key === "Escape") onClose();
        }}
      />
      {message && (
        <div className={message.ok ? "ok" : "error"} data-testid="step-editor-message">
          {message.text}
        </div>
      )}
      <div className="buttons">
        {step ? (
          <button className="primary" data-testid="step-editor-update" disabled={busy} onClick={() => void save(true)}>
            Update step
          </button>
        ) : null}
        <button className={step ? "" : "primary"} data-testid="step-editor-register" disabled={busy} onClick={() => void save(false)}>
          Register as new
        </button>
        <span className="muted small">Ctrl+Enter saves</span>
      </div>
    </div>
  );
}
