import { describe, expect, it } from "vitest";
import { pictureRect, regionOf } from "../src/motion-math";

describe("motion search's region", () => {
  it("finds the picture inside a letterboxed box", () => {
    expect(pictureRect(400, 400, 1280, 720)).toEqual({ x0: 0, y0: 87.5, x1: 400, y1: 312.5 });
    expect(pictureRect(800, 300, 400, 300)).toEqual({ x0: 200, y0: 0, x1: 600, y1: 300 });
    expect(pictureRect(640, 360, 0, 0)).toEqual({ x0: 0, y0: 0, x1: 640, y1: 360 });
  });
  it("turns a drag into fractions of the picture, clamped, in any direction", () => {
    const pic = { x0: 0, y0: 87.5, x1: 400, y1: 312.5 };
    expect(regionOf({ x0: 200, y0: 312.5, x1: 0, y1: 0 }, pic)).toEqual([[0, 0], [0.5, 0], [0.5, 1], [0, 1]]);
    expect(regionOf({ x0: 100, y0: 200, x1: 300, y1: 256.25 }, pic)).toEqual([[0.25, 0.5], [0.75, 0.5], [0.75, 0.75], [0.25, 0.75]]);
  });
  it("ignores a click that drew nothing", () => {
    expect(regionOf({ x0: 10, y0: 10, x1: 11, y1: 200 }, { x0: 0, y0: 0, x1: 400, y1: 300 })).toBeNull();
  });
});
