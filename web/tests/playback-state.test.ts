import { describe, expect, it } from "vitest";
import {
  LADDER, UrlWriter, normaliseSpeed, planAt, previousSegment, ranOut, readUrlState, stepSpeed, urlFor,
} from "../src/playback-state";

const seg = (id: number, a: number, b: number) => ({ id, start_ms: a, end_ms: b });

describe("speeds", () => {
  it("ladder runs from 16x reverse to 16x forward with slow motion", () => {
    expect(LADDER[0]).toBe(-16);
    expect(LADDER[LADDER.length - 1]).toBe(16);
    expect(LADDER).toContain(0.125);
    expect(LADDER).toContain(-0.5);
    expect(LADDER).not.toContain(0);
  });
  it("normalises any number to the nearest allowed speed in the same direction", () => {
    expect(normaliseSpeed(4)).toBe(4);
    expect(normaliseSpeed(3.1)).toBe(4);
    expect(normaliseSpeed(100)).toBe(16);
    expect(normaliseSpeed(0.1)).toBe(0.125);
    expect(normaliseSpeed(-2)).toBe(-2);
    expect(normaliseSpeed(0)).toBe(1);
    expect(normaliseSpeed(NaN)).toBe(1);
  });
  it("steps faster in the same direction, slows then turns round against it", () => {
    expect(stepSpeed(1, 1)).toBe(2);
    expect(stepSpeed(8, 1)).toBe(16);
    expect(stepSpeed(16, 1)).toBe(16);
    expect(stepSpeed(0.25, 1)).toBe(1);
    expect(stepSpeed(4, -1)).toBe(2);
    expect(stepSpeed(2, -1)).toBe(1);
    expect(stepSpeed(1, -1)).toBe(-1);
    expect(stepSpeed(-1, -1)).toBe(-2);
    expect(stepSpeed(-4, 1)).toBe(-2);
    expect(stepSpeed(-0.5, 1)).toBe(1);
  });
});

describe("gap crossing plan", () => {
  const a = [seg(1, 0, 10_000), seg(2, 10_000, 20_000), seg(3, 60_000, 70_000)];
  const b = [seg(4, 0, 20_000), seg(5, 40_000, 50_000)];
  it("plays where any camera has video", () => {
    expect(planAt([a], 5_000, 1)).toEqual({ kind: "play" });
    expect(planAt([a, b], 45_000, 1)).toEqual({ kind: "play" });
  });
  it("crosses forward to the nearest recording of any camera", () => {
    expect(planAt([a], 20_000, 1)).toEqual({ kind: "cross", fromMs: 20_000, toMs: 60_000 });
    expect(planAt([a, b], 20_000, 1)).toEqual({ kind: "cross", fromMs: 20_000, toMs: 40_000 });
  });
  it("crosses backwards to just inside the end of the previous recording", () => {
    expect(planAt([a], 59_999, -1, 40)).toEqual({ kind: "cross", fromMs: 59_999, toMs: 19_960 });
    expect(planAt([a, b], 55_000, -1, 40)).toEqual({ kind: "cross", fromMs: 55_000, toMs: 49_960 });
  });
  it("ends when nothing lies ahead (or behind)", () => {
    expect(planAt([a], 80_000, 1)).toEqual({ kind: "end", atMs: 80_000 });
    expect(planAt([a], -5, -1)).toEqual({ kind: "end", atMs: -5 });
  });
  it("finds the previous segment", () => {
    expect(previousSegment(a, 30_000)?.id).toBe(2);
    expect(previousSegment(a, 20_000)?.id).toBe(2);
    expect(previousSegment(a, 19_999)?.id).toBe(1);
    expect(previousSegment(a, 0)).toBeNull();
  });
  it("sees a video stuck short of a segment end as run out (the 4x freeze)", () => {
    const base = { segEndMs: 20_000, bufferedEndMs: 19_900, frameMs: 100, rate: 4 };
    // stuck on the last frame, 100 ms before the indexed end, not moving: run out
    expect(ranOut({ ...base, posMs: 19_850, stalledForMs: 400 })).toBe(true);
    // still moving: not yet
    expect(ranOut({ ...base, posMs: 19_850, stalledForMs: 50 })).toBe(false);
    // far from the end, waiting for data: not run out
    expect(ranOut({ ...base, posMs: 12_000, bufferedEndMs: 12_100, stalledForMs: 5_000, rate: 1 })).toBe(false);
    // 16x: Chromium stalls about 250 ms of media short of the buffered end (seen in the browser test)
    const fast = { segEndMs: 771_087, bufferedEndMs: 771_087, frameMs: 40, rate: 16 };
    expect(ranOut({ ...fast, posMs: 770_832, stalledForMs: 400 })).toBe(true);
    expect(ranOut({ ...fast, posMs: 770_832, stalledForMs: 400, rate: 1 })).toBe(false);
    // at the end
    expect(ranOut({ ...base, posMs: 19_990, stalledForMs: 0 })).toBe(true);
  });
});

describe("URL state", () => {
  it("round-trips cameras, time, speed and span", () => {
    const s = { cams: ["cam-1", "cam-2"], t: 1_700_000_000_123, speed: -4, span: 600_000 };
    const url = urlFor(s);
    expect(url).toBe("#/playback?cams=cam-1,cam-2&t=1700000000123&speed=-4&span=600000");
    expect(readUrlState(new URLSearchParams(url.split("?")[1]))).toEqual(s);
  });
  it("leaves out defaults and ignores bad values", () => {
    expect(urlFor({ cams: ["a"], t: null, speed: 1, span: null })).toBe("#/playback?cams=a");
    const r = readUrlState(new URLSearchParams("cams=a,,a,<x>,b&t=abc&speed=7&span=-3"));
    expect(r).toEqual({ cams: ["a", "b"], t: null, speed: 8, span: null });
  });
  it("writes at most every second unless forced", () => {
    const out: string[] = [];
    const w = new UrlWriter((u) => out.push(u), 1000);
    expect(w.update("#1", 0)).toBe(true);
    expect(w.update("#2", 500)).toBe(false);
    expect(w.update("#2", 1000)).toBe(true);
    expect(w.update("#3", 1100, true)).toBe(true);
    expect(w.update("#3", 5000, true)).toBe(false);
    expect(out).toEqual(["#1", "#2", "#3"]);
  });
});
