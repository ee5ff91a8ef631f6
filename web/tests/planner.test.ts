import { describe, expect, it } from "vitest";
import { active, budgetsOf, gapText, phaseText, type PlanRun } from "../src/planner";

describe("planner screen", () => {
  it("sends the years that have a budget (at least the first)", () => {
    expect(budgetsOf([10, 5, 0, 0])).toEqual([10, 5]);
    expect(budgetsOf([10, 0, 3, 0])).toEqual([10, 0, 3]);
    expect(budgetsOf([0, 0, 0, 0])).toEqual([0]);
    expect(budgetsOf([Number.NaN, -2, 4, 0])).toEqual([0, 0, 4]);
  });
  it("shows the gap in percent, and a dash before the first step", () => {
    expect(gapText(0.01234)).toBe("1.23 %");
    expect(gapText(0)).toBe("0.00 %");
    expect(gapText(null)).toBe("—");
  });
  it("names the step a run is in (the city planner's phases and the district planner's steps)", () => {
    expect(phaseText("kelley:2")).toBe("tightening the bound: Kelley round 2");
    expect(phaseText("consensus:1")).toBe("tightening the bound: consensus round 1");
    expect(phaseText("prepare")).toBe("preparing the tiles");
    expect(phaseText("greedy:3")).toBe("year 3: greedy");
    expect(phaseText("")).toBe("");
    expect(phaseText("later:1")).toBe("later:1");
  });
  it("watches queued and running runs only", () => {
    const run = (state: PlanRun["state"]) => ({ state }) as PlanRun;
    expect(["queued", "running", "done", "stopped", "failed", "interrupted"].map((s) => active(run(s as PlanRun["state"])))).toEqual([
      true, true, false, false, false, false,
    ]);
  });
});
