import { describe, expect, it } from "vitest";
import type { Step } from "../types";
import { dependencyEdges, layoutSteps } from "./layout";

const step = (id: string, attrs: Record<string, "required" | "optional" | "output" | "const">): Step => ({
  id,
  name: id,
  type: "script",
  attributes: Object.fromEntries(Object.entries(attrs).map(([n, role]) => [n, { role }])),
});

const chain = {
  a: step("a", { x: "required", y: "output" }),
  b: step("b", { y: "required", z: "output", k: "const" }),
  c: step("c", { y: "optional", z: "required", done: "output" }),
};

describe("dependency edges", () => {
  it("joins an output to each input of the same name", () => {
    expect(dependencyEdges(chain).map((e) => [e.source, e.target, e.attributes])).toEqual([
      ["a", "b", ["y"]],
      ["a", "c", ["y"]],
      ["b", "c", ["z"]],
    ]);
  });

  it("ignores const and meta attributes and self loops", () => {
    const steps = { s: step("s", { k: "output", j: "required" }), t: step("t", { k: "const" }) };
    steps.s.attributes.j = { role: "required" };
    expect(dependencyEdges({ ...steps, u: step("u", { j: "output", k: "required" }) }).map((e) => e.id)).toEqual([
      "s->u",
      "u->s",
    ]);
  });
});

describe("layout", () => {
  it("places dependencies left to right", () => {
    const pos = layoutSteps(chain, dependencyEdges(chain));
    expect(pos.get("a")!.x).toBeLessThan(pos.get("b")!.x);
    expect(pos.get("b")!.x).toBeLessThan(pos.get("c")!.x);
  });

  it("lays out 500 steps quickly without overlaps in a rank", () => {
    const steps: Record<string, Step> = {};
    for (let i = 0; i < 500; i++) {
      steps[`s${i}`] = step(`s${i}`, { [`a${i}`]: "output", [`a${Math.floor(i / 4)}`]: i ? "required" : "optional" });
    }
    const edges = dependencyEdges(steps);
    const t0 = performance.now();
    const pos = layoutSteps(steps, edges);
    const ms = performance.now() - t0;
    expect(pos.size).toBe(500);
    expect(ms).toBeLessThan(5000);
    const byX = new Map<number, { y: number; h: number }[]>();
    for (const p of pos.values()) byX.set(Math.round(p.x), [...(byX.get(Math.round(p.x)) ?? []), { y: p.y, h: p.height }]);
    for (const col of byX.values()) {
      col.sort((m, n) => m.y - n.y);
      for (let i = 1; i < col.length; i++) expect(col[i].y).toBeGreaterThanOrEqual(col[i - 1].y + col[i - 1].h);
    }
  });
});
