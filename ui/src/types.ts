// The engine's JSON shapes the UI reads (docs/reference/api.md).

export type Role = "required" | "optional" | "const" | "meta" | "output";

export interface ScriptConfig {
  language: string;
  script: string;
}

export interface AttributeSpec {
  role: Role;
  type?: string;
  required?: { collect?: string; for_each?: boolean; match?: ScriptConfig };
  optional?: { collect?: string; for_each?: boolean; default?: string; deadline?: number };
  const?: { value: string };
  meta?: { key: string };
}

export interface Step {
  id: string;
  name: string;
  type: string;
  attributes: Record<string, AttributeSpec>;
  labels?: Record<string, string>;
  predicate?: ScriptConfig;
  memoizable?: boolean;
  http?: { method?: string; endpoint: string; health_check?: string; timeout?: number };
  script?: ScriptConfig;
  flow?: { goals: string[] };
  work_config?: Record<string, unknown>;
}

export interface HealthState {
  status: "healthy" | "unhealthy" | "unknown" | string;
  error?: string;
}

export interface CatalogState {
  last_updated?: string;
  steps: Record<string, Step>;
  attributes?: unknown;
}

export interface ClusterState {
  last_updated?: string;
  nodes: Record<string, { last_seen?: string; health: Record<string, HealthState> }>;
}

export interface Plan {
  goals: string[];
  required: string[];
  steps: Record<string, Step>;
  attributes: Record<string, { providers?: string[]; consumers?: string[] }>;
  excluded?: {
    satisfied?: Record<string, string[]>;
    blocked?: Record<string, string[]>;
    missing?: Record<string, string[]>;
  };
  children?: Record<string, Plan>;
}

export interface WorkState {
  status: string;
  started_at?: string;
  completed_at?: string;
  next_retry_at?: string;
  inputs?: unknown;
  outputs?: unknown;
  error?: string;
  retry_count?: number;
}

export interface ExecutionState {
  status: string;
  started_at?: string;
  completed_at?: string;
  inputs?: unknown;
  outputs?: unknown;
  work_items?: Record<string, WorkState>;
  error?: string;
  unsatisfied?: string[];
  duration?: number;
  /** Why dispatch is held back (e.g. the step is unhealthy); cleared when work starts. */
  waiting?: string;
}

export interface AttributeValue {
  value: unknown;
  step?: string;
  set_at?: string;
}

export interface FlowState {
  id: string;
  status: string;
  created_at: string;
  completed_at?: string;
  deactivated_at?: string;
  last_updated?: string;
  plan: Plan;
  metadata?: Record<string, unknown>;
  labels?: Record<string, string>;
  attributes: Record<string, AttributeValue[]>;
  executions: Record<string, ExecutionState>;
  error?: string;
}

export interface FlowSummary {
  id: string;
  status: string;
  timestamp: string;
}

/** One event, normalized from the REST (`GET .../events`) or WebSocket form. */
export interface FlowEvent {
  sequence: number;
  type: string;
  /** ISO 8601 time the event was raised. */
  timestamp: string;
  data: Record<string, unknown>;
}
