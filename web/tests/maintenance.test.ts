import { describe, expect, it } from "vitest";
import type { Maintenance } from "../src/api";
import { MAINTENANCE, STATES, STATE_COLOURS, stateCode } from "../src/cameras";
import { NOTE_MAX, checkNote, maintenanceText, maySetMaintenance } from "../src/maintenance";

const W: Maintenance = { camera: "C-1", on: true, since_ms: 1, until_ms: null, by: "op", note: "lens cracked" };

describe("maintenance", () => {
  it("may be set by the roles of the server's cameras.maintenance permission", () => {
    expect(["viewer", "operator", "supervisor", "auditor", "admin"].filter((r) => maySetMaintenance(r as never))).toEqual([
      "operator",
      "supervisor",
      "admin",
    ]);
    expect(maySetMaintenance(null)).toBe(false);
  });
  it("says who took the camera out and why", () => {
    expect(maintenanceText(W)).toBe("in maintenance, by op: lens cracked");
    expect(maintenanceText({ ...W, note: "" })).toBe("in maintenance, by op");
    expect(maintenanceText({ ...W, on: false, until_ms: 2 })).toBe("in service");
    expect(maintenanceText(null)).toBe("in service");
  });
  it("refuses a note the server would refuse", () => {
    expect(checkNote("x".repeat(NOTE_MAX))).toBeNull();
    expect(checkNote("x".repeat(NOTE_MAX + 1))).toMatch(/longer than 500/);
  });
  it("is a map state of its own colour, never taken for a recorder state", () => {
    expect(STATES[MAINTENANCE]).toBe("maintenance");
    expect(stateCode("maintenance")).toBe(MAINTENANCE);
    expect(new Set(Object.values(STATE_COLOURS)).size).toBe(STATES.length);
  });
});
