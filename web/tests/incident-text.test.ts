import { describe, expect, it } from "vitest";
import type { Incident } from "../src/api";
import { backSince, darkFeeders, groupBackSince, describeIncident, incidentOfEvent, sortIncidents } from "../src/incident-text";

const hm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const T = Date.UTC(2026, 10, 23, 14, 2);
const BASE: Incident = {
  id: 1, kind: "power", subject: "F-1", opened_ms: T, resolved_ms: null, confidence: 0.9, n_members: 1, reason: null,
  flaps: 0, evidence: "", merged_into_id: null, acknowledged_ms: null, acknowledged_by: null, cameras: [],
  unexplained: [], suggestions: [], actions: [],
};
const inc = (over: Partial<Incident>): Incident => ({ ...BASE, ...over });

describe("incidents", () => {
  it("reads an events message as the REST row it repeats", () => {
    const row = inc({ id: 7, subject: "F-12", n_members: 184, cameras: ["a"] });
    expect(incidentOfEvent({ type: "incident", ...row })).toEqual(row);
  });
  it.each([
    [{ kind: "power", subject: "F-12", n_members: 184 }, "feeder F-12 is down: 184 cameras dark since 14:02"],
    [{ kind: "uplink", subject: "U-01", n_members: 1 }, "uplink U-01 is down: 1 camera dark since 14:02"],
    [{ kind: "site", subject: "S-001", n_members: 3 }, "site S-001 is down: 3 cameras dark since 14:02"],
    [{ kind: "camera", subject: "cam-1", n_members: 1 }, "camera cam-1 is offline since 14:02"],
    [{ kind: "power", subject: "F-01", n_members: 5, resolved_ms: T + 3_600_000 }, "feeder F-01 was down: 5 cameras dark 14:02–15:02 (resolved)"],
  ] as [Partial<Incident>, string][])("%j", (raw, want) => {
    expect(describeIncident(inc(raw), hm)).toBe(want);
  });
  it("says a camera that is back is back, never offline", () => {
    const cam = inc({ kind: "camera", subject: "cam-1" });
    const back = { state: "recording", sinceMs: T + 3 * 60_000 };
    expect(describeIncident(cam, hm, back)).toBe("camera cam-1 is back since 14:05 (offline 14:02–14:05; closes when it stays up)");
    expect(describeIncident(cam, hm, back)).not.toContain("offline since");
    expect(describeIncident(cam, hm, { state: "offline", sinceMs: T })).toBe("camera cam-1 is offline since 14:02");
    expect(describeIncident(cam, hm, null)).toBe("camera cam-1 is offline since 14:02");
    expect(backSince(cam, { state: "recording", sinceMs: NaN })).toBeNull();
    expect(backSince(inc({ kind: "camera", resolved_ms: T + 1 }), back)).toBeNull();
    expect(backSince(cam, { state: "recording", sinceMs: T - 5 })).toBe(T); // a stale since: never before it opened
  });
  it("says what a camera's picture shows when the incident has a reason, never offline or back", () => {
    const covered = inc({ kind: "camera", subject: "cam-3", reason: "tamper: covered" });
    const recording = { state: "recording", sinceMs: T - 60_000 };
    expect(describeIncident(covered, hm, recording)).toBe("camera cam-3: Covered or blacked out, since 14:02");
    expect(describeIncident(covered, hm, null)).toBe("camera cam-3: Covered or blacked out, since 14:02");
    expect(backSince(covered, recording)).toBeNull();
    const mask = inc({ kind: "camera", subject: "cam-1", reason: "mask_unverified: the mask was not in the picture" });
    expect(describeIncident(mask, hm, recording)).toBe(
      "camera cam-1: its own privacy mask is not verified (the mask was not in the picture), since 14:02",
    );
    expect(describeIncident(inc({ kind: "camera", subject: "c", reason: "tamper: new-kind" }), hm)).toContain("tamper: new-kind");
  });
  it("says a group incident whose cameras are all back is back, and not before", () => {
    const cut = inc({ kind: "power", subject: "F-02", n_members: 2, cameras: ["a", "b"] });
    const up = (since: number) => ({ state: "recording", sinceMs: since });
    const both = (id: string) => up(id === "a" ? T + 60_000 : T + 180_000);
    expect(describeIncident(cut, hm, null, both)).toBe("feeder F-02: all 2 cameras back since 14:05 (dark since 14:02; closes when they stay up)");
    const oneDark = (id: string) => (id === "a" ? up(T + 60_000) : { state: "offline", sinceMs: T });
    expect(describeIncident(cut, hm, null, oneDark)).toBe("feeder F-02 is down: 2 cameras dark since 14:02");
    expect(groupBackSince(inc({ kind: "power", n_members: 3, cameras: ["a", "b"] }), both)).toBeNull(); // partial list
  });
  it("puts open incidents first, newest first, and shades only open power feeders", () => {
    const list = [
      inc({ id: 1, kind: "power", subject: "F-1", opened_ms: 1, resolved_ms: 5 }),
      inc({ id: 2, kind: "power", subject: "F-2", opened_ms: 2 }),
      inc({ id: 3, kind: "uplink", subject: "U-1", opened_ms: 3 }),
    ];
    expect(sortIncidents(list).map((i) => i.id)).toEqual([3, 2, 1]);
    expect([...darkFeeders(list)]).toEqual(["F-2"]);
  });
});
