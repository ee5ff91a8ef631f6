import { describe, expect, it } from "vitest";
import { H265_PROBE, codecDecision, liveQuery, needsH264, segmentUrl } from "../src/h265";

const noH265 = (m: string) => /avc1/.test(m); // Debian's Chromium: H.264 only
const all = () => true;

describe("H.265 negotiation", () => {
  it("asks for H.264 only when this browser cannot play H.265", () => {
    expect(needsH264(noH265)).toBe(true);
    expect(needsH264(all)).toBe(false);
    expect(noH265(H265_PROBE)).toBe(false);
  });

  it("plays what the browser supports, asks once for H.264 for H.265, then gives up", () => {
    const hevc = 'video/mp4; codecs="hvc1.1.6.L120.90"';
    expect(codecDecision('video/mp4; codecs="avc1.42c01f"', "h264", false, noH265)).toBe("play");
    expect(codecDecision(hevc, "h265", false, noH265)).toBe("ask-h264");
    expect(codecDecision(hevc, "h265", true, noH265)).toBe("undecodable");
    expect(codecDecision(hevc, "h265", false, all)).toBe("play");
    expect(codecDecision('video/mp4; codecs="av01.0.05M.08"', "av1", false, noH265)).toBe("undecodable");
  });

  it("builds the live query and the segment URL", () => {
    expect(liveQuery("sub", true)).toBe("?stream=sub&codec=h264");
    expect(liveQuery("main", false)).toBe("?stream=main");
    expect(segmentUrl("/api/segments/7/media", "h265", noH265)).toEqual({ url: "/api/segments/7/media?codec=h264", path: "h264-transcode" });
    expect(segmentUrl("/api/segments/7/media", "h264", noH265)).toEqual({ url: "/api/segments/7/media", path: "native" });
    expect(segmentUrl("/api/segments/7/media", "h265", all)).toEqual({ url: "/api/segments/7/media", path: "native" });
  });
});
