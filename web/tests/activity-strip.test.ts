// The activity strip's maths (docs/design/motion-search.md, "Activity"): levels to bands, max-pooled to pixels so a
// short burst survives a day's zoom, runs to draw, and the bounded range to fetch.
import { describe, expect, it } from "vitest";
import { MAX_SPAN_MS, bandRuns, bandText, fetchRange, levelBand, poolLevels } from "../src/activity-strip";

const T0 = 1_800_000_000; // seconds

describe("levelBand", () => {
  it.each([
    [0, "none"], [1, "collapsed"], [20, "collapsed"], [21, "usual"], [65, "usual"], [99, "usual"],
    [100, "busy"], [159, "busy"], [160, "very-busy"], [255, "very-busy"],
  ] as const)("%i is %s", (level, band) => expect(levelBand(level)).toBe(band));
});

describe("poolLevels", () => {
  it("one second per pixel maps straight through", () => {
    const view = { startMs: T0 * 1000, endMs: (T0 + 5) * 1000, widthPx: 5 };
    expect([...poolLevels(T0, [65, 0, 200, 7, 65], view)]).toEqual([65, 0, 200, 7, 65]);
  });
  it("zoomed out, a pixel keeps the busiest second, and a collapse outranks the usual", () => {
    const levels = new Array(100).fill(65);
    levels[42] = 180; // two seconds of motion in 100
    levels[77] = 5;
    const view = { startMs: T0 * 1000, endMs: (T0 + 100) * 1000, widthPx: 10 }; // 10 s per pixel
    expect([...poolLevels(T0, levels, view)]).toEqual([65, 65, 65, 65, 180, 65, 65, 5, 65, 65]);
  });
  it("zoomed in, each pixel shows the second it lies in", () => {
    const view = { startMs: T0 * 1000, endMs: (T0 + 2) * 1000, widthPx: 8 }; // a quarter second per pixel
    expect([...poolLevels(T0, [30, 150], view)]).toEqual([30, 30, 30, 30, 150, 150, 150, 150]);
  });
  it("outside the series is nothing", () => {
    const view = { startMs: (T0 - 3) * 1000, endMs: (T0 + 3) * 1000, widthPx: 6 };
    expect([...poolLevels(T0, [65, 65], view)]).toEqual([0, 0, 0, 65, 65, 0]);
    expect([...poolLevels(T0, [], view)]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe("bandRuns", () => {
  it("joins neighbouring pixels of one band and skips nothing-known", () => {
    expect(bandRuns(Uint8Array.from([65, 70, 0, 0, 120, 200, 200, 3]))).toEqual([
      { x: 0, w: 2, band: "usual" },
      { x: 4, w: 1, band: "busy" },
      { x: 5, w: 2, band: "very-busy" },
      { x: 7, w: 1, band: "collapsed" },
    ]);
  });
});

describe("fetchRange", () => {
  it("asks for the view's span again on each side, at most a day, centred", () => {
    const hour = 3_600_000;
    expect(fetchRange({ startMs: 10 * hour, endMs: 11 * hour, widthPx: 800 })).toEqual({ fromMs: 9 * hour, toMs: 12 * hour });
    const r = fetchRange({ startMs: 10 * hour, endMs: 22 * hour, widthPx: 800 })!;
    expect(r.toMs - r.fromMs).toBe(MAX_SPAN_MS);
    expect((r.fromMs + r.toMs) / 2).toBe(16 * hour);
  });
  it("a view wider than a day asks for nothing", () => {
    expect(fetchRange({ startMs: 0, endMs: MAX_SPAN_MS + 1, widthPx: 800 })).toBeNull();
  });
});

describe("bandText", () => {
  it("says something for every band but nothing-known", () => {
    expect(bandText("none")).toBeNull();
    const texts = (["collapsed", "usual", "busy", "very-busy"] as const).map(bandText);
    expect(new Set(texts).size).toBe(4);
    expect(texts.every((x) => x && !x.startsWith("activity."))).toBe(true);
  });
});
