import { describe, expect, it } from "vitest";
import {
  DAY, HOUR, MINUTE, SECOND, clampView, centreOn, formatZonedInput, gapAt, layoutSpans, mergeRuns, nextSegment,
  bySource, niceTickStep, panBy, parseZoned, segmentAt, sourceRuns, tickLabel, ticks, timeToX, tzOffsetMs, xToTime, zoomAround,
  zonedToUtc, type View,
} from "../src/timeline-math";

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 2026-11-23T00:00Z
const view: View = { startMs: T0, endMs: T0 + HOUR, widthPx: 1000 };
const KTM = "Asia/Kathmandu";

describe("time <-> pixel", () => {
  it("maps edges and middle", () => {
    expect(timeToX(view, T0)).toBe(0);
    expect(timeToX(view, T0 + HOUR)).toBe(1000);
    expect(timeToX(view, T0 + HOUR / 2)).toBe(500);
    expect(xToTime(view, 250)).toBe(T0 + HOUR / 4);
  });
  it("round-trips", () => {
    for (const x of [0, 1, 123.5, 999, 1000]) expect(timeToX(view, xToTime(view, x))).toBeCloseTo(x, 6);
  });
});

describe("zoom and pan", () => {
  it("keeps the anchor time under the cursor", () => {
    for (const ax of [0, 137, 500, 999]) {
      const before = xToTime(view, ax);
      const z = zoomAround(view, ax, 4);
      expect(z.endMs - z.startMs).toBe(HOUR / 4);
      expect(xToTime(z, ax)).toBeCloseTo(before, 3);
    }
  });
  it("zooming out then in restores the view", () => {
    const z = zoomAround(zoomAround(view, 300, 0.5), 300, 2);
    expect(z.startMs).toBeCloseTo(view.startMs, 3);
    expect(z.endMs).toBeCloseTo(view.endMs, 3);
  });
  it("clamps the span to the limits", () => {
    const limits = { minSpanMs: 10 * SECOND, maxSpanMs: DAY };
    expect(zoomAround(view, 500, 1e9, limits).endMs - zoomAround(view, 500, 1e9, limits).startMs).toBe(10 * SECOND);
    const out = zoomAround(view, 500, 1e-9, limits);
    expect(out.endMs - out.startMs).toBe(DAY);
  });
  it("clamps into bounds by shifting", () => {
    const limits = { minSpanMs: SECOND, maxSpanMs: DAY, maxMs: T0 + HOUR };
    const p = panBy(view, 500, limits);
    expect(p.endMs).toBe(T0 + HOUR);
    expect(p.endMs - p.startMs).toBe(HOUR);
    const c = clampView({ startMs: T0 - 10 * HOUR, endMs: T0 + 10 * HOUR, widthPx: 10 }, {
      minSpanMs: 1, maxSpanMs: 100 * HOUR, minMs: T0 - HOUR, maxMs: T0 + HOUR,
    });
    expect(c.startMs).toBe(T0 - HOUR);
    expect(c.endMs).toBe(T0 + HOUR);
  });
  it("pans by pixels", () => {
    const p = panBy(view, 100);
    expect(p.startMs - view.startMs).toBe(HOUR / 10);
    expect(centreOn(view, T0 + 2 * HOUR).startMs).toBe(T0 + 1.5 * HOUR);
  });
});

describe("span layout", () => {
  it("clips to the view and flags clipping", () => {
    const laid = layoutSpans(view, [{ startMs: T0 - MINUTE, endMs: T0 + 6 * MINUTE }], T0 + DAY);
    expect(laid).toHaveLength(1);
    expect(laid[0].x).toBe(0);
    expect(laid[0].w).toBeCloseTo(100, 6);
    expect(laid[0].clipped).toBe(true);
  });
  it("drops spans outside and widens tiny spans to the minimum", () => {
    const laid = layoutSpans(
      view,
      [
        { startMs: T0 - 2 * HOUR, endMs: T0 - HOUR },
        { startMs: T0 + 30 * MINUTE, endMs: T0 + 30 * MINUTE + 100 },
      ],
      T0 + DAY,
      3,
    );
    expect(laid).toHaveLength(1);
    expect(laid[0].w).toBe(3);
    expect(laid[0].x).toBeCloseTo(500 - 1.5, 1);
  });
  it("open spans run to now", () => {
    const laid = layoutSpans(view, [{ startMs: T0 + 30 * MINUTE, endMs: null }], T0 + 45 * MINUTE);
    expect(laid[0].x).toBe(500);
    expect(laid[0].w).toBeCloseTo(250, 6);
  });
  it("merges contiguous segments into runs", () => {
    const segs = Array.from({ length: 60 }, (_, i) => ({ startMs: T0 + i * MINUTE, endMs: T0 + (i + 1) * MINUTE }));
    segs.splice(30, 2); // a 2-minute hole
    const runs = mergeRuns(view, segs, T0 + DAY);
    expect(runs).toHaveLength(2);
    expect(runs[0].x).toBe(0);
    expect(runs[0].w).toBeCloseTo(500, 6);
    expect(runs[1].x).toBeCloseTo(1000 * 32 / 60, 6);
  });
});

describe("ticks in the city time zone", () => {
  it("knows Kathmandu's +05:45 offset", () => {
    expect(tzOffsetMs(KTM, T0)).toBe(5 * HOUR + 45 * MINUTE);
    expect(tzOffsetMs("UTC", T0)).toBe(0);
  });
  it("picks nice steps", () => {
    expect(niceTickStep(view, 80)).toBe(5 * MINUTE); // 1 h on 1000 px: 80 px = 4.8 min
    expect(niceTickStep({ ...view, endMs: T0 + DAY }, 80)).toBe(2 * HOUR);
    expect(niceTickStep({ ...view, endMs: T0 + 20 * SECOND }, 80)).toBe(2 * SECOND);
  });
  it("aligns hour ticks to local hours", () => {
    const v: View = { startMs: T0, endMs: T0 + 6 * HOUR, widthPx: 600 };
    const ts = ticks(v, HOUR, KTM);
    expect(ts.length).toBe(6);
    for (const t of ts) expect((t + tzOffsetMs(KTM, t)) % HOUR).toBe(0);
    expect(ts[0]).toBe(T0 + 15 * MINUTE); // 05:45Z+? -> local 06:00 = 00:15Z
    expect(tickLabel(ts[0], HOUR, KTM)).toBe("06:00");
  });
  it("day ticks fall on local midnight", () => {
    const v: View = { startMs: T0, endMs: T0 + 3 * DAY, widthPx: 600 };
    const ts = ticks(v, DAY, KTM);
    for (const t of ts) expect(formatZonedInput(KTM, t).endsWith("T00:00:00")).toBe(true);
    expect(tickLabel(ts[0], DAY, KTM)).toBe("2026-11-24");
  });
  it("handles DST days (Europe/Berlin, 2026-03-29)", () => {
    const start = Date.UTC(2026, 2, 28, 22, 0, 0);
    const ts = ticks({ startMs: start, endMs: start + 6 * HOUR, widthPx: 600 }, HOUR, "Europe/Berlin");
    const labels = ts.map((t) => tickLabel(t, HOUR, "Europe/Berlin"));
    expect(labels.slice(0, 4)).toEqual(["23:00", "03-29", "01:00", "03:00"]); // 02:00 does not exist
  });
  it("seconds labels", () => {
    expect(tickLabel(T0 + 5 * SECOND, 5 * SECOND, "UTC")).toBe("00:00:05");
  });
});

describe("zoned input parsing", () => {
  it("round-trips through the city zone", () => {
    const t = zonedToUtc(KTM, 2026, 11, 23, 6, 0, 0);
    expect(t).toBe(T0 + 15 * MINUTE);
    expect(parseZoned(KTM, "2026-11-23T06:00")).toBe(t);
    expect(formatZonedInput(KTM, t)).toBe("2026-11-23T06:00:00");
    expect(Number.isNaN(parseZoned(KTM, "yesterday"))).toBe(true);
  });
});

describe("segment lookup", () => {
  const segs = [
    { id: 1, start_ms: 0, end_ms: 60_000 },
    { id: 2, start_ms: 60_000, end_ms: 120_000 },
    { id: 3, start_ms: 300_000, end_ms: 360_000 },
  ];
  it("finds the covering segment", () => {
    expect(segmentAt(segs, 0)?.id).toBe(1);
    expect(segmentAt(segs, 60_000)?.id).toBe(2);
    expect(segmentAt(segs, 200_000)).toBeNull();
    expect(segmentAt(segs, 360_000)).toBeNull();
  });
  it("finds the next segment after a gap", () => {
    expect(nextSegment(segs, 200_000)?.id).toBe(3);
    expect(nextSegment(segs, 400_000)).toBeNull();
  });
  it("finds the gap and its reason, open gaps included", () => {
    const gaps = [
      { start_ms: 120_000, end_ms: 300_000, reason: "unreachable" },
      { start_ms: 360_000, end_ms: null, reason: "stalled" },
    ];
    expect(gapAt(gaps, 200_000, 1e9)?.reason).toBe("unreachable");
    expect(gapAt(gaps, 500_000, 1e9)?.reason).toBe("stalled");
    expect(gapAt(gaps, 50_000, 1e9)).toBeNull();
  });
});

describe("segment sources (edge backfill)", () => {
  const v: View = { startMs: 0, endMs: 100_000, widthPx: 1000 };
  const segs = [
    { id: 1, start_ms: 0, end_ms: 20_000, source: "live" },
    { id: 2, start_ms: 20_000, end_ms: 50_000, source: "edge" },
    { id: 3, start_ms: 50_000, end_ms: 60_000 },
    { id: 4, start_ms: 60_000, end_ms: 70_000, source: "edge" },
  ];

  it("splits by source, absent meaning live", () => {
    const { live, edge } = bySource(segs);
    expect(live.map((s) => s.id)).toEqual([1, 3]);
    expect(edge.map((s) => s.id)).toEqual([2, 4]);
  });

  it("lays out live and edge runs apart, in pixels", () => {
    const runs = sourceRuns(v, segs, 100_000);
    expect(runs.live.map((r) => [Math.round(r.x), Math.round(r.w)])).toEqual([
      [0, 200],
      [500, 100],
    ]);
    expect(runs.edge.map((r) => [Math.round(r.x), Math.round(r.w)])).toEqual([
      [200, 300],
      [600, 100],
    ]);
  });
});
