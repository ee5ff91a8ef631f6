import { describe, expect, it } from "vitest";
import { mayProbe, probeRows, TEXT, trackText, type ProbeResult } from "../src/diagnostics";

const R: ProbeResult = {
  camera: "C-1",
  url: "rtsp://10.0.0.9/s",
  ok: true,
  error: null,
  seconds: 5,
  started_ms: 1,
  transport: "udp",
  tls: true,
  server: "Hikvision-Webs",
  public: ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"],
  keepalive: "OPTIONS",
  sdp: "v=0",
  tracks: [
    { kind: "video", codec: "H264", payload_type: 96, clock_rate: 90000, channels: null, fmtp: "" },
    { kind: "audio", codec: "MPEG4-GENERIC", payload_type: 97, clock_rate: 48000, channels: 2, fmtp: "" },
    { kind: "audio", codec: "PCMA", payload_type: 8, clock_rate: 8000, channels: 1, fmtp: "" },
  ],
  codec: "h264",
  codec_string: "avc1.4d401f",
  width: 1920,
  height: 1080,
  declared_fps: 25,
  measured_s: 4.96,
  pictures: 105,
  keyframes: 3,
  fps: 21.0123,
  fps_arrival: 20.98,
  bitrate_kbps: 3987.6,
  gop_pictures: 50,
  gop_seconds: 2,
  drift_ppm: -35,
  params_in_band: false,
  rtp_packets: 990,
  rtp_lost: 10,
  rtp_reordered: 4,
  rtp_dropped: 0,
  quirks: ["no_get_parameter"],
};

const rows = (r: ProbeResult) => Object.fromEntries(probeRows(r));

describe("camera diagnostics", () => {
  it("may be run by the roles of the server's cameras.probe permission", () => {
    expect(["viewer", "operator", "supervisor", "auditor", "admin"].filter((r) => mayProbe(r as never))).toEqual([
      "operator",
      "supervisor",
      "admin",
    ]);
    expect(mayProbe(undefined)).toBe(false);
  });
  it("shows what the camera sends", () => {
    const r = rows(R);
    expect(r.result).toBe("ok");
    expect(r.video).toBe("h264 avc1.4d401f");
    expect(r.audio).toBe("MPEG4-GENERIC/48000/2, PCMA/8000/1");
    expect(r.resolution).toBe("1920×1080");
    expect(r.fps).toBe("21.01 (as received: 20.98), declared 25");
    expect(r.bitrate).toBe("3988 kbit/s");
    expect(r.keyframes).toBe("every 50 pictures (2.00 s)");
    expect(r.drift).toBe("-35 ppm over 5.0 s");
    expect(r.loss).toBe("10 of 1000 packets (4 reordered, 0 of another source or type dropped)");
    expect(r.transport).toBe("RTP over UDP, RTSP over TLS");
    expect(r.quirks).toBe("no_get_parameter");
    expect(r.methods).toBe("OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN");
    expect(probeRows(R).every(([k]) => k in TEXT.rows)).toBe(true);
  });
  it("says what it could not measure, and why a probe failed", () => {
    const failed: ProbeResult = {
      ...R,
      ok: false,
      error: { reason: "auth_refused", detail: "the camera refused the registered credentials" },
      tracks: [],
      width: null,
      height: null,
      declared_fps: null,
      fps: null,
      fps_arrival: null,
      bitrate_kbps: null,
      gop_pictures: null,
      gop_seconds: null,
      drift_ppm: null,
      keyframes: 0,
      rtp_packets: 0,
      rtp_lost: 0,
      rtp_reordered: 0,
      transport: "tcp",
      tls: false,
      quirks: [],
    };
    const r = rows(failed);
    expect(r.result).toBe("failed: auth_refused (the camera refused the registered credentials)");
    expect(r.resolution).toBe("—");
    expect(r.fps).toBe("— (as received: —)");
    expect(r.audio).toBe("none");
    expect(r.keyframes).toMatch(/0 keyframe\(s\) seen/);
    expect(r.quirks).toBe("none");
    expect(r.transport).toBe(TEXT.transport.tcp);
  });
  it("names a track by codec, clock and channels", () => {
    expect(trackText({ kind: "audio", codec: "opus", payload_type: 111, clock_rate: 48000, channels: 2, fmtp: "" })).toBe("opus/48000/2");
    expect(trackText({ kind: "video", codec: "", payload_type: 26, clock_rate: null, channels: null, fmtp: "" })).toBe("?");
  });
});
