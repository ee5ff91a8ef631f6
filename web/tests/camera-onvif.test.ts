import { describe, expect, it } from "vitest";
import type { CameraEventInfo } from "../src/api";
import { EVENT_GLYPHS, eventTitle, offsetText } from "../src/camera-onvif";

const E: CameraEventInfo = {
  id: 1,
  kind: "tamper",
  active: true,
  camera_ms: Date.UTC(2026, 11, 2, 10, 0, 0) - 90_000,
  received_ms: Date.UTC(2026, 11, 2, 10, 0, 0),
  topic: "tns1:VideoSource/GlobalSceneChange/ImagingService",
  detail: "Changed State=true",
};

describe("camera ONVIF events and clock", () => {
  it("writes clock offsets for people", () => {
    expect(offsetText(1500)).toBe("+1.5 s");
    expect(offsetText(-90_000)).toBe("−90 s");
    expect(offsetText(125_000)).toBe("+2 min 5 s");
  });
  it("names both times in the marker's tooltip", () => {
    const t = eventTitle(E);
    expect(t).toContain("tamper (scene covered or moved) began");
    expect(t).toContain("2026-12-02 09:58:30 UTC;");
    expect(t).toContain("2026-12-02 10:00:00 UTC)");
    expect(t).toContain("−90 s from ours");
    expect(eventTitle({ ...E, camera_ms: null, active: false })).toContain("camera time: not given");
  });
  it("has a glyph for every kind", () => {
    expect(new Set(Object.values(EVENT_GLYPHS)).size).toBe(5);
  });
});
