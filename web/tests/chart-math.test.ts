import { describe, expect, it } from "vitest";
import { availabilityFloor, DAY, HOUR, niceTicks, pickStep, scale } from "../src/chart-math";
import { planCoverage } from "../src/plans";

describe("chart maths", () => {
  it("keeps the bucket count under the API's limit", () => {
    expect(pickStep(0, DAY)).toBe(15 * 60_000);
    expect(pickStep(0, 7 * DAY)).toBe(HOUR);
    for (const span of [HOUR, DAY, 30 * DAY, 400 * DAY]) expect(span / pickStep(0, span)).toBeLessThanOrEqual(500);
  });
  it("scales and ticks", () => {
    expect(scale(0, 10, 100, 200)(5)).toBe(150);
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 7, 4)).toEqual([0, 2, 4, 6]);
  });
  it("sets the availability floor under the worst value", () => {
    expect(availabilityFloor([0.99, 0.97])).toBe(0.9);
    expect(availabilityFloor([0.5, 1])).toBe(0.45);
    expect(availabilityFloor([])).toBe(0.9);
  });
  it("reads a plan's covered weight", () => {
    const fc = {
      type: "FeatureCollection" as const,
      features: [
        { type: "Feature" as const, geometry: { type: "Point" as const, coordinates: [0, 0] }, properties: { kind: "camera", phase: 2 } },
        { type: "Feature" as const, geometry: { type: "Point" as const, coordinates: [0, 0] }, properties: { kind: "point", weight: 4, covered: 1 } },
        { type: "Feature" as const, geometry: { type: "Point" as const, coordinates: [0, 0] }, properties: { kind: "point", weight: 6, covered: 0 } },
      ],
    };
    expect(planCoverage(fc)).toEqual({ covered: 4, total: 10, cameras: 1, phases: 2 });
    expect(planCoverage({ ...fc, planner: { coverage: { total: { weight: 20, covered_weight: 5 } } } }).covered).toBe(5);
  });
});

import { cameraHours, fmtAvailability, grouping } from "../src/chart-math";
import { describe as d2, expect as e2, it as i2 } from "vitest";

d2("report numbers", () => {
  i2("formats availability and camera-hours as the CSV rounds them", () => {
    e2(fmtAvailability(0.987654)).toBe("98.77%");
    e2(fmtAvailability(1)).toBe("100.00%");
    e2(fmtAvailability(null)).toBe("—");
    e2(cameraHours(34.83)).toBe("0.58");
    e2(cameraHours(2880)).toBe("48.00");
    e2(grouping("feeder")).toBe("feeder");
    e2(grouping("nonsense")).toBe("district");
  });
});
