import { describe, expect, it } from "vitest";
import type { Plan } from "../types";
import { buildInit, parseInitJson, parseInputValue, parseLabels, planSummary, proposeFlowId, startInputs, toggleGoal } from "./plan";

const plan: Plan = {
  goals: ["notify", "audit"],
  required: ["order_id"],
  steps: {
    fetch: { id: "fetch", name: "", type: "script", attributes: { order_id: { role: "required", type: "string" }, order: { role: "output" } } },
    notify: {
      id: "notify",
      name: "",
      type: "script",
      attributes: {
        order: { role: "required", type: "object" },
        channel: { role: "optional", type: "string", optional: { default: '"email"' } },
        retries: { role: "optional", type: "number" },
      },
    },
    audit: { id: "audit", name: "", type: "script", attributes: { order: { role: "optional" }, sent: { role: "output" } } },
  },
  attributes: { order: { providers: ["fetch"], consumers: ["notify", "audit"] }, order_id: { consumers: ["fetch"] } },
};

describe("plan preview", () => {
  it("summarizes goals and steps", () => {
    expect(planSummary(plan)).toBe("2 goals, 3 steps");
    expect(planSummary({ ...plan, goals: ["a"], steps: { a: plan.steps.fetch } })).toBe("1 goal, 1 step");
  });

  it("asks for required inputs first, then optional ones nothing in the plan produces", () => {
    expect(startInputs(plan).map((i) => [i.name, i.type, i.required, i.defaultText])).toEqual([
      ["order_id", "string", true, ""],
      ["channel", "string", false, '"email"'],
      ["retries", "number", false, ""],
    ]);
  });

  it("toggles goals: click selects one, Ctrl-click adds or removes", () => {
    expect(toggleGoal([], "a", false)).toEqual(["a"]);
    expect(toggleGoal(["a"], "a", false)).toEqual([]);
    expect(toggleGoal(["a", "b"], "c", false)).toEqual(["c"]);
    expect(toggleGoal(["a"], "b", true)).toEqual(["a", "b"]);
    expect(toggleGoal(["a", "b"], "a", true)).toEqual(["b"]);
  });
});

describe("start form", () => {
  it("parses values by type", () => {
    expect(parseInputValue("42", "number")).toEqual({ ok: true, value: 42 });
    expect(parseInputValue("x", "number").ok).toBe(false);
    expect(parseInputValue("true", "boolean")).toEqual({ ok: true, value: true });
    expect(parseInputValue(" 007 ", "string")).toEqual({ ok: true, value: " 007 " });
    expect(parseInputValue('{"a":1}', "object")).toEqual({ ok: true, value: { a: 1 } });
    expect(parseInputValue("[1]", "object").ok).toBe(false);
    expect(parseInputValue("[1]", "array")).toEqual({ ok: true, value: [1] });
    expect(parseInputValue("hello", "")).toEqual({ ok: true, value: "hello" });
    expect(parseInputValue("3", "any")).toEqual({ ok: true, value: 3 });
  });

  it("builds init as lists, leaving out empty optional fields", () => {
    const inputs = startInputs(plan);
    expect(buildInit(inputs, { order_id: "o-1", retries: "" })).toEqual({ init: { order_id: ["o-1"] }, errors: {} });
    expect(buildInit(inputs, { retries: "many" }).errors).toEqual({ order_id: "required", retries: "expected a number" });
  });

  it("validates the JSON init and labels", () => {
    expect(parseInitJson('{"a": [1]}')).toEqual({ init: { a: [1] } });
    expect(parseInitJson('{"a": 1}').error).toMatch(/list/);
    expect(parseInitJson("[").error).toMatch(/invalid JSON/);
    expect(parseLabels("team=crm, env = prod")).toEqual({ labels: { team: "crm", env: "prod" } });
    expect(parseLabels("oops").error).toMatch(/key=value/);
  });

  it("proposes flow IDs the engine keeps as they are", () => {
    expect(proposeFlowId(["Send Mail!"], "abc123")).toBe("send-mail-abc123");
  });
});
