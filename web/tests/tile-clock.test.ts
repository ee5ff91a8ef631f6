import { describe, expect, it } from "vitest";
import { freshness, type Freshness } from "../src/tile-clock";

const f = (behindMs: number | null, sincePresentedMs: number | null, socketOpen = true, prev: Freshness = "live") =>
  freshness({ behindMs, sincePresentedMs, socketOpen, prev });

describe("live tile freshness", () => {
  it("waits for the first picture while the socket is open, and is stopped without one when it is closed", () => {
    expect(f(null, null)).toBe("waiting");
    expect(f(null, null, false)).toBe("stopped");
  });

  it("is live up to a second behind, delayed beyond, and back to live only below 0.8 s", () => {
    expect(f(300, 40)).toBe("live");
    expect(f(1000, 40)).toBe("live");
    expect(f(1001, 40)).toBe("delayed");
    expect(f(3400, 40)).toBe("delayed");
    expect(f(900, 40, true, "delayed")).toBe("delayed");
    expect(f(790, 40, true, "delayed")).toBe("live");
    expect(f(900, 40, true, "live")).toBe("live");
  });

  it("is stopped when no picture came for two seconds, or at once when the socket closed", () => {
    expect(f(1500, 1900)).toBe("delayed");
    expect(f(2100, 2001)).toBe("stopped");
    expect(f(12_000, 12_000)).toBe("stopped");
    expect(f(200, 40, false)).toBe("stopped");
  });
});
