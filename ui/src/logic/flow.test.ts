import { describe, expect, it } from "vitest";
import type { FlowEvent, FlowState } from "../types";
import { applyFlowEvents, initOf, mergeEvents, normalizeEvent, rerunId, workCounts } from "./flow";

const plan = {
  goals: ["b"],
  required: ["x"],
  steps: { a: { id: "a", name: "A", type: "script", attributes: {} }, b: { id: "b", name: "B", type: "script", attributes: {} } },
  attributes: {},
};

let seq = 0;
const ev = (type: string, data: Record<string, unknown>, ms = 1000 + seq): FlowEvent =>
  normalizeEvent({ type, sequence: seq++, timestamp: ms, data: { flow_id: "f", ...data } });

const started = (): FlowState => {
  seq = 0;
  return applyFlowEvents({} as FlowState, [ev("flow_started", { plan, init: { x: [1, 2] }, labels: { team: "t" } })]);
};

describe("flow reducer", () => {
  it("starts with every plan step pending and init values as attributes", () => {
    const s = started();
    expect(s.status).toBe("active");
    expect(Object.keys(s.executions)).toEqual(["a", "b"]);
    expect(s.executions.a.status).toBe("pending");
    expect(s.attributes.x.map((v) => v.value)).toEqual([1, 2]);
    expect(s.attributes.x[0].step).toBeUndefined();
    expect(s.labels).toEqual({ team: "t" });
  });

  it("follows a step through its work items to completion", () => {
    let s = started();
    s = applyFlowEvents(s, [
      ev("step_started", { step_id: "a", inputs: { x: 1 }, work_items: { t1: { x: 1 }, t2: { x: 2 } } }),
      ev("work_started", { step_id: "a", token: "t1", inputs: {} }),
      ev("work_succeeded", { step_id: "a", token: "t1", outputs: { y: 1 } }),
      ev("work_started", { step_id: "a", token: "t2", inputs: {} }),
      ev("work_retry_scheduled", { step_id: "a", token: "t2", retry_count: 1, next_retry_at: "2030-01-01T00:00:00Z", error: "boom" }),
    ]);
    const a = s.executions.a;
    expect(a.status).toBe("active");
    expect(a.work_items!.t1.status).toBe("succeeded");
    expect(a.work_items!.t2).toMatchObject({ status: "pending", retry_count: 1, error: "boom" });
    expect(workCounts(a)).toMatchObject({ total: 2, done: 1, failed: 0, nextRetryAt: "2030-01-01T00:00:00Z", lastError: "boom" });

    s = applyFlowEvents(s, [
      ev("work_started", { step_id: "a", token: "t2", inputs: {} }),
      ev("work_failed", { step_id: "a", token: "t2", error: "boom again" }),
      ev("step_failed", { step_id: "a", error: "work failed: boom again" }),
      ev("step_skipped", { step_id: "b", reason: "no input", unsatisfied: ["y"] }),
      ev("flow_failed", { error: "step a failed" }),
    ]);
    expect(workCounts(s.executions.a)).toMatchObject({ total: 2, done: 1, failed: 1 });
    expect(workCounts(s.executions.a).nextRetryAt).toBeUndefined();
    expect(s.executions.a).toMatchObject({ status: "failed", error: "work failed: boom again" });
    expect(s.executions.b).toMatchObject({ status: "skipped", error: "no input", unsatisfied: ["y"] });
    expect(s.status).toBe("failed");
    expect(s.error).toBe("step a failed");
  });

  it("records attribute provenance and completion", () => {
    let s = started();
    s = applyFlowEvents(s, [
      ev("attribute_set", { step_id: "a", key: "y", value: { deep: true } }),
      ev("step_completed", { step_id: "a", outputs: { y: 1 }, duration: 12 }),
      ev("flow_completed", { result: {} }),
    ]);
    expect(s.attributes.y).toEqual([{ value: { deep: true }, step: "a", set_at: s.attributes.y[0].set_at }]);
    expect(s.executions.a).toMatchObject({ status: "completed", duration: 12, outputs: { y: 1 } });
    expect(s.status).toBe("completed");
  });

  it("shows why dispatch waits until work starts", () => {
    let s = started();
    s = applyFlowEvents(s, [
      ev("step_started", { step_id: "a", work_items: { t: {} } }),
      ev("dispatch_deferred", { step_id: "a", reason: "health check failed: 503" }),
    ]);
    expect(s.executions.a.waiting).toBe("health check failed: 503");
    s = applyFlowEvents(s, [ev("work_started", { step_id: "a", token: "t" })]);
    expect(s.executions.a.waiting).toBe("");
    expect(applyFlowEvents(s, [ev("dispatch_deferred", { step_id: "zz" })])).toBe(s);
  });

  it("leaves state unchanged for unknown events and unknown work items", () => {
    const s = started();
    expect(applyFlowEvents(s, [ev("comp_unknown", { step_id: "a" })])).toBe(s);
    expect(applyFlowEvents(s, [ev("work_succeeded", { step_id: "a", token: "nope" })])).toBe(s);
  });

  it("does not modify the state it is given", () => {
    const s = started();
    const copy = JSON.parse(JSON.stringify(s));
    applyFlowEvents(s, [ev("step_started", { step_id: "a", work_items: { t: {} } }), ev("attribute_set", { step_id: "a", key: "x", value: 3 })]);
    expect(s).toEqual(copy);
  });
});

describe("flow helpers", () => {
  it("merges timeline events by sequence without duplicates", () => {
    const e = (sequence: number) => ({ sequence, type: "t", timestamp: "", data: {} });
    expect(mergeEvents([e(0), e(2)], [e(1), e(2), e(3)]).map((x) => x.sequence)).toEqual([0, 1, 2, 3]);
  });

  it("takes Run again's init from flow_started, else from init attributes", () => {
    const s = started();
    expect(initOf(s, [ev("flow_started", { plan, init: { x: [7] } })])).toEqual({ x: [7] });
    expect(initOf(s, [])).toEqual({ x: [1, 2] });
  });

  it("names reruns after the original flow", () => {
    expect(rerunId("order-1", "abc123")).toBe("order-1-rabc123");
    expect(rerunId("order-1-rabc123", "zzz999")).toBe("order-1-rzzz999");
  });

  it("converts WebSocket timestamps (Unix ms) to ISO times", () => {
    expect(normalizeEvent({ type: "x", sequence: 3, timestamp: 0, data: {} }).timestamp).toBe("1970-01-01T00:00:00.000Z");
  });
});
