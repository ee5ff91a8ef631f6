import { describe, expect, it } from "vitest";
import { HIDDEN_STATE, MIN_ARC, STACK_ZOOM, buildLevel, cellFor, conePolygon, rangesIn, restate, ringBytes, spiderOffsets } from "../src/mapcluster";

/** n cameras on a jittered grid over `span` (mercator), four per point; states cycle 0..4. */
function city(n: number, span: number): { rel: Float32Array; states: Uint8Array } {
  const rel = new Float32Array(2 * n);
  const states = new Uint8Array(n);
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i += 4) {
    const x = (rnd() - 0.5) * span, y = (rnd() - 0.5) * span;
    for (let k = i; k < Math.min(n, i + 4); k++) {
      rel[2 * k] = x;
      rel[2 * k + 1] = y;
      states[k] = k % 5;
    }
  }
  return { rel, states };
}

describe("grid clustering", () => {
  it("counts every shown camera once at every zoom, per state too", () => {
    const { rel, states } = city(62_000, 4.5e-4);
    states[3] = HIDDEN_STATE;
    for (const z of [8, 12, 14, 16, 19]) {
      const lv = buildLevel(rel, states, z, 5);
      let sum = 0;
      for (let k = 0; k < lv.n; k++) sum += lv.count[k];
      expect(sum).toBe(61_999);
      const perState = [0, 0, 0, 0, 0];
      for (let k = 0; k < lv.n; k++) for (let s = 0; s < 5; s++) perState[s] += lv.byState[k * 5 + s];
      expect(perState.reduce((a, b) => a + b)).toBe(61_999);
      expect(lv.of[3]).toBe(-1);
      // members agree with `of`
      for (let k = 0; k < Math.min(lv.n, 50); k++)
        for (const i of lv.members.subarray(lv.start[k], lv.start[k + 1])) expect(lv.of[i]).toBe(k);
    }
  });

  it("keeps the cameras of one point together from the stacking zoom on, and splits distinct points", () => {
    const { rel, states } = city(400, 4.5e-4);
    const lv = buildLevel(rel, states, STACK_ZOOM + 3, 5);
    expect(lv.n).toBe(100);
    expect(Array.from(lv.count).every((c) => c === 4)).toBe(true);
    expect(cellFor(STACK_ZOOM - 1)).toBeGreaterThan(cellFor(STACK_ZOOM) * 10);
  });

  it("recounts states in place and finds the clusters in view", () => {
    const { rel, states } = city(4000, 4.5e-4);
    const lv = buildLevel(rel, states, 13, 5);
    states.fill(1);
    restate(lv, states);
    let off = 0;
    for (let k = 0; k < lv.n; k++) off += lv.byState[k * 5 + 1];
    expect(off).toBe(4000);
    const all = rangesIn(lv, -1, -1, 1, 1);
    expect(all.reduce((a, [s, e]) => a + e - s, 0)).toBe(lv.n);
    const some = rangesIn(lv, 0, 0, 1e-4, 1e-4).reduce((a, [s, e]) => a + e - s, 0);
    expect(some).toBeGreaterThan(0);
    expect(some).toBeLessThan(lv.n);
  });

  it("gives one offline camera among thousands a visible arc", () => {
    const ring = ringBytes([5000, 1, 0, 0, 0], [1, 2, 3, 4]);
    expect(ring[0]).toBe(MIN_ARC);
    expect(ring[3]).toBe(MIN_ARC);
    expect(ringBytes([0, 2, 2, 0, 0], [1, 2, 3, 4])).toEqual([128, 255, 255, 255]);
  });

  it("fans cameras out at distinct points and draws a cone along the heading", () => {
    const offs = spiderOffsets(4);
    expect(new Set(offs.map((o) => o.join())).size).toBe(4);
    expect(offs[0][1]).toBeLessThan(0); // the first one above the point
    expect(new Set(spiderOffsets(20).map((o) => o.join())).size).toBe(20);
    const ring = conePolygon(85.3, 27.7, 90, 60, 50);
    expect(ring[0]).toEqual([85.3, 27.7]);
    const mid = ring[Math.floor(ring.length / 2)];
    expect(mid[0]).toBeGreaterThan(85.3); // east
    expect(Math.abs(mid[1] - 27.7)).toBeLessThan(1e-4);
  });
});
