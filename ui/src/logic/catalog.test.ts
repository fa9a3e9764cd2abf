import { describe, expect, it } from "vitest";
import type { Step } from "../types";
import { applyEngineEvent, emptyView, matchSteps, stepHealth, stepPreview } from "./catalog";
import { applyFlowListEvent, flowQuery, sortFlows } from "./flows";

const s = (id: string): Step => ({ id, name: id.toUpperCase(), type: "sync", attributes: {}, http: { endpoint: `http://x/${id}` } });

describe("catalog reducer", () => {
  it("registers, updates and removes steps", () => {
    let v = applyEngineEvent(emptyView, "step_registered", { step: s("a") });
    v = applyEngineEvent(v, "step_registered", { step: s("b") });
    v = applyEngineEvent(v, "step_updated", { step: { ...s("a"), name: "renamed" } });
    expect(v.steps.a.name).toBe("renamed");
    v = applyEngineEvent(v, "step_unregistered", { step_id: "b" });
    expect(Object.keys(v.steps)).toEqual(["a"]);
    expect(applyEngineEvent(v, "step_unregistered", { step_id: "zz" })).toBe(v);
  });

  it("merges health over nodes, the worst wins", () => {
    let v = applyEngineEvent(emptyView, "step_health_changed", { node_id: "n1", step_id: "a", status: "healthy" });
    expect(stepHealth(v.cluster, "a")).toEqual({ status: "healthy" });
    v = applyEngineEvent(v, "step_health_changed", { node_id: "n2", step_id: "a", status: "unhealthy", error: "503" });
    expect(stepHealth(v.cluster, "a")).toEqual({ status: "unhealthy", error: "node n2: 503" });
    expect(stepHealth(v.cluster, "other")).toEqual({ status: "unknown" });
  });

  it("previews endpoints and searches by ID or name", () => {
    expect(stepPreview(s("a"))).toBe("POST http://x/a");
    expect(matchSteps({ a: s("a"), bb: s("bb") }, "B")).toEqual(new Set(["bb"]));
    expect(matchSteps({ a: s("a") }, " ")).toBeNull();
  });
});

describe("flow list", () => {
  const rows = [
    { id: "old", status: "completed", timestamp: "2026-01-01T00:00:00Z" },
    { id: "run", status: "active", timestamp: "2026-01-01T00:00:01Z" },
  ];

  it("queries most recent first with the filters", () => {
    expect(flowQuery({ idPrefix: "o", status: "failed", labels: { t: "x" } }, 50, "c1")).toEqual({
      limit: 50,
      sort: "recent_desc",
      id_prefix: "o",
      statuses: ["failed"],
      labels: { t: "x" },
      cursor: "c1",
    });
    expect(sortFlows(rows).map((r) => r.id)).toEqual(["run", "old"]);
  });

  it("adds started flows that match, skips child flows and others", () => {
    const f = { idPrefix: "n", status: "", labels: { team: "a" } };
    const ts = "2026-01-02T00:00:00Z";
    expect(applyFlowListEvent(rows, f, "flow_started", { flow_id: "new", labels: { team: "a" } }, ts)[0].id).toBe("new");
    expect(applyFlowListEvent(rows, f, "flow_started", { flow_id: "new", labels: { team: "b" } }, ts)).toBe(rows);
    expect(applyFlowListEvent(rows, f, "flow_started", { flow_id: "x", labels: { team: "a" } }, ts)).toBe(rows);
    expect(applyFlowListEvent(rows, f, "flow_started", { flow_id: "n:s:t", labels: { team: "a" } }, ts)).toBe(rows);
  });

  it("updates a finished flow's status, or drops it when the status filter excludes it", () => {
    const all = { idPrefix: "", status: "", labels: {} };
    const done = applyFlowListEvent(rows, all, "flow_completed", { flow_id: "run" }, "t");
    expect(done.find((r) => r.id === "run")!.status).toBe("completed");
    const activeOnly = { ...all, status: "active" };
    expect(applyFlowListEvent(rows, activeOnly, "flow_failed", { flow_id: "run" }, "t").map((r) => r.id)).toEqual(["old"]);
  });
});
