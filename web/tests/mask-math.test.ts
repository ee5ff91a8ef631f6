import { describe, expect, it } from "vitest";
import { closePolygon, dedupe, hitPolygon, maskBody, normalise, pointInPolygon, signedArea, type Pt } from "../src/mask-math";

const square: Pt[] = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]];

describe("normalise", () => {
  it.each([
    [0, 0, 640, 360, [0, 0]],
    [320, 180, 640, 360, [0.5, 0.5]],
    [640, 360, 640, 360, [1, 1]],
    [-5, 400, 640, 360, [0, 1]],
    [100, 30, 300, 90, [0.3333, 0.3333]],
  ])("(%d,%d) in %dx%d -> %j", (x, y, w, h, want) => {
    expect(normalise(x, y, w, h)).toEqual(want);
  });
  it("refuses a picture without size", () => {
    expect(() => normalise(1, 1, 0, 10)).toThrow(RangeError);
  });
});

describe("pointInPolygon / hitPolygon", () => {
  it.each([
    [[0.3, 0.3], true],
    [[0.05, 0.3], false],
    [[0.6, 0.6], false],
    [[0.49, 0.11], true],
  ] as [Pt, boolean][])("%j in square: %s", (p, want) => {
    expect(pointInPolygon(p, square)).toBe(want);
  });
  it("handles a concave polygon", () => {
    const u: Pt[] = [[0, 0], [1, 0], [1, 1], [0.6, 1], [0.6, 0.3], [0.4, 0.3], [0.4, 1], [0, 1]];
    expect(pointInPolygon([0.5, 0.8], u)).toBe(false);
    expect(pointInPolygon([0.2, 0.8], u)).toBe(true);
  });
  it("returns the topmost (last) polygon hit", () => {
    const big: Pt[] = [[0, 0], [1, 0], [1, 1], [0, 1]];
    expect(hitPolygon([0.3, 0.3], [big, square])).toBe(1);
    expect(hitPolygon([0.9, 0.9], [big, square])).toBe(0);
    expect(hitPolygon([0.9, 0.9], [square])).toBe(-1);
  });
});

describe("closePolygon", () => {
  it("drops a double-click's repeated point and a repeated first point", () => {
    const clicked: Pt[] = [...square, [0.1, 0.5], [0.1, 0.1]];
    expect(closePolygon(clicked)).toEqual(square);
  });
  it("needs three distinct points and some area", () => {
    expect(closePolygon([[0, 0], [0.5, 0.5]])).toBeNull();
    expect(closePolygon([[0, 0], [0.5, 0.5], [0.5, 0.5]])).toBeNull();
    expect(closePolygon([[0, 0], [0.5, 0.5], [1, 1]])).toBeNull(); // collinear
  });
  it("merges points within the tolerance", () => {
    expect(dedupe([[0, 0], [0.001, 0], [0.5, 0]], 0.01)).toEqual([[0, 0], [0.5, 0]]);
  });
  it("keeps the area of the square", () => {
    expect(Math.abs(signedArea(closePolygon(square)!))).toBeCloseTo(0.16, 9);
  });
});

describe("maskBody", () => {
  it("sends only polygons of 3+ points, clamped to 0..1", () => {
    const body = maskBody([square, [[0, 0], [1, 1]], [[-0.1, 0], [1.2, 0], [0.5, 0.5]]]);
    expect(body.polygons.length).toBe(2);
    expect(body.polygons[1]).toEqual([[0, 0], [1, 0], [0.5, 0.5]]);
  });
});
