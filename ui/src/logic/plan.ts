// Plan preview and the start form: summary, inputs, value parsing.

import type { Plan } from "../types";

export function planSummary(plan: Plan): string {
  const g = plan.goals.length;
  const s = Object.keys(plan.steps).length;
  return `${g} goal${g === 1 ? "" : "s"}, ${s} step${s === 1 ? "" : "s"}`;
}

export interface StartInput {
  name: string;
  type: string;
  required: boolean;
  /** The default as JSON text (optional inputs), "" when none. */
  defaultText: string;
  /** The plan steps that read it. */
  consumers: string[];
}

/**
 * What the start form asks for: the plan's required inputs, then the
 * optional inputs that no step of the plan produces (with their defaults).
 */
export function startInputs(plan: Plan): StartInput[] {
  const byName = new Map<string, StartInput>();
  const required = new Set(plan.required ?? []);
  const produced = new Set(
    Object.entries(plan.attributes ?? {})
      .filter(([, a]) => (a.providers ?? []).length > 0)
      .map(([n]) => n),
  );
  for (const id of Object.keys(plan.steps).sort()) {
    const step = plan.steps[id];
    for (const [name, a] of Object.entries(step.attributes ?? {})) {
      const isReq = a.role === "required" && required.has(name);
      const isOpt = a.role === "optional" && !produced.has(name) && !required.has(name);
      if (!isReq && !isOpt) continue;
      const cur = byName.get(name);
      if (cur) {
        cur.consumers.push(id);
        if (!cur.type && a.type) cur.type = a.type;
        continue;
      }
      byName.set(name, {
        name,
        type: a.type ?? "",
        required: isReq,
        defaultText: isOpt ? (a.optional?.default ?? "") : "",
        consumers: [id],
      });
    }
  }
  for (const name of required) {
    if (!byName.has(name)) byName.set(name, { name, type: "", required: true, defaultText: "", consumers: [] });
  }
  return [...byName.values()].sort((a, b) =>
    a.required !== b.required ? (a.required ? -1 : 1) : a.name < b.name ? -1 : 1,
  );
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/** A form field's text as a value of the attribute's type. */
export function parseInputValue(text: string, type: string): Parsed {
  const t = text.trim();
  switch (type) {
    case "string":
      return { ok: true, value: text };
    case "number": {
      const n = Number(t);
      return t !== "" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: "expected a number" };
    }
    case "boolean":
      if (t === "true" || t === "false") return { ok: true, value: t === "true" };
      return { ok: false, error: "expected true or false" };
    case "null":
      return t === "null" ? { ok: true, value: null } : { ok: false, error: "expected null" };
    case "object":
    case "array":
      try {
        const v = JSON.parse(t);
        const isArr = Array.isArray(v);
        if (type === "array" ? isArr : v !== null && typeof v === "object" && !isArr) return { ok: true, value: v };
        return { ok: false, error: `expected a JSON ${type}` };
      } catch {
        return { ok: false, error: `expected a JSON ${type}` };
      }
    default:
      // untyped or "any": JSON when it parses, otherwise the text itself
      try {
        return { ok: true, value: JSON.parse(t) };
      } catch {
        return { ok: true, value: text };
      }
  }
}

/**
 * The `init` of a start request from the form's fields: one value per
 * filled field; empty optional fields are left out (their defaults apply).
 */
export function buildInit(
  inputs: StartInput[],
  fields: Record<string, string>,
): { init: Record<string, unknown[]>; errors: Record<string, string> } {
  const init: Record<string, unknown[]> = {};
  const errors: Record<string, string> = {};
  for (const inp of inputs) {
    const text = fields[inp.name] ?? "";
    if (text.trim() === "" && inp.type !== "string") {
      if (inp.required) errors[inp.name] = "required";
      continue;
    }
    if (text === "" && inp.type === "string") {
      if (inp.required) errors[inp.name] = "required";
      continue;
    }
    const p = parseInputValue(text, inp.type);
    if (p.ok) init[inp.name] = [p.value];
    else errors[inp.name] = p.error;
  }
  return { init, errors };
}

/** A JSON `init` object as the form's fields (first value of each list). */
export function fieldsFromInit(init: Record<string, unknown[]>, inputs: StartInput[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const inp of inputs) {
    const v = init[inp.name]?.[0];
    if (v === undefined) continue;
    out[inp.name] = inp.type === "string" && typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** Parses the JSON editor's text: an object of name -> list of values. */
export function parseInitJson(text: string): { init?: Record<string, unknown[]>; error?: string } {
  let v: unknown;
  try {
    v = JSON.parse(text.trim() || "{}");
  } catch (e) {
    return { error: `invalid JSON: ${(e as Error).message}` };
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return { error: "init must be a JSON object" };
  for (const [k, values] of Object.entries(v)) {
    if (!Array.isArray(values)) return { error: `init value of ${k} must be a list of values` };
  }
  return { init: v as Record<string, unknown[]> };
}

/** "key=value, key2=value2" as labels; throws nothing, ignores blank parts. */
export function parseLabels(text: string): { labels: Record<string, string>; error?: string } {
  const labels: Record<string, string> = {};
  for (const part of text.split(",")) {
    const p = part.trim();
    if (!p) continue;
    const i = p.indexOf("=");
    if (i <= 0 || i === p.length - 1) return { labels, error: `label "${p}" is not key=value` };
    labels[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  return { labels };
}

/** A proposed flow ID: the first goal and a random suffix, in the allowed characters. */
export function proposeFlowId(goals: string[], suffix: string): string {
  const base =
    (goals[0] ?? "flow")
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, "-")
      .slice(0, 40)
      .replace(/^-+|-+$/g, "") || "flow";
  return `${base}-${suffix}`;
}

export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 8).padEnd(6, "0");
}

/** Goal selection: a plain click selects only `id` (or clears it), Ctrl/Cmd-click toggles it. */
export function toggleGoal(goals: string[], id: string, additive: boolean): string[] {
  if (additive) return goals.includes(id) ? goals.filter((g) => g !== id) : [...goals, id];
  return goals.length === 1 && goals[0] === id ? [] : [id];
}
