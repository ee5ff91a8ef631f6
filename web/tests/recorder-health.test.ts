import { describe, expect, it } from "vitest";
import type { RecorderHealth } from "../src/api";
import { recorderWarning } from "../src/recorder-health";

const threads = (down: string[] = []): RecorderHealth["threads"] =>
  ["ingest", "disk-writer", "index-writer", "housekeeping"].map((name) => ({ name, running: !down.includes(name), restarts: 0 }));

describe("recorderWarning", () => {
  it("is silent while the recorder records", () => {
    expect(recorderWarning({ present: true, node_id: "local", recording: true, paused: null, threads: threads() })).toBe("");
  });
  it("names the threads that are down", () => {
    const h = { present: true, node_id: "local", recording: false, paused: null, threads: threads(["disk-writer"]) };
    expect(recorderWarning(h)).toBe("recorder impaired: disk-writer not running (restarting)");
  });
  it("says a full disk", () => {
    const h = { present: true, node_id: "local", recording: false, paused: "disk_full" as const, threads: threads() };
    expect(recorderWarning(h)).toBe("recording paused: disk full");
  });
  it("treats no answer as unknown, never as healthy", () => {
    expect(recorderWarning(null)).toContain("unknown");
  });
  it("is silent on a central node that records nothing while its threads run", () => {
    expect(recorderWarning({ present: false, node_id: "central", recording: false, paused: null, threads: threads() })).toBe("");
  });
});
