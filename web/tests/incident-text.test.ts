import { describe, expect, it } from "vitest";
import { darkFeeders, describeIncident, normaliseIncident, sortIncidents } from "../src/incident-text";

const hm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const T = Date.UTC(2026, 10, 23, 14, 2);

describe("incidents", () => {
  it("normalises the REST shape (ns) and the WebSocket shape (ms) alike", () => {
    const rest = normaliseIncident({ id: 7, kind: "power", subject: "F-12", opened_ns: T * 1e6, resolved_ns: null, confidence: 0.9, n_members: 184, cameras: ["a"] });
    const ws = normaliseIncident({ type: "incident", id: 7, kind: "power", subject: "F-12", opened_ms: T, resolved_ms: null, confidence: 0.9, n_members: 184, cameras: ["a"] });
    expect(rest).toEqual(ws);
    expect(rest.opened_ms).toBe(T);
  });
  it.each([
    [{ kind: "power", subject: "F-12", n_members: 184 }, "feeder F-12 is down: 184 cameras dark since 14:02"],
    [{ kind: "uplink", subject: "U-01", n_members: 1 }, "uplink U-01 is down: 1 camera dark since 14:02"],
    [{ kind: "site", subject: "S-001", n_members: 3 }, "site S-001 is down: 3 cameras dark since 14:02"],
    [{ kind: "camera", subject: "cam-1", n_members: 1 }, "camera cam-1 is offline since 14:02"],
    [{ kind: "power", subject: "F-01", n_members: 5, resolved_ms: T + 3_600_000 }, "feeder F-01 was down: 5 cameras dark 14:02–15:02 (resolved)"],
  ])("%j", (raw, want) => {
    expect(describeIncident(normaliseIncident({ id: 1, opened_ms: T, ...raw }), hm)).toBe(want);
  });
  it("puts open incidents first, newest first, and shades only open power feeders", () => {
    const list = [
      normaliseIncident({ id: 1, kind: "power", subject: "F-1", opened_ms: 1, resolved_ms: 5 }),
      normaliseIncident({ id: 2, kind: "power", subject: "F-2", opened_ms: 2 }),
      normaliseIncident({ id: 3, kind: "uplink", subject: "U-1", opened_ms: 3 }),
    ];
    expect(sortIncidents(list).map((i) => i.id)).toEqual([3, 2, 1]);
    expect([...darkFeeders(list)]).toEqual(["F-2"]);
  });
});
