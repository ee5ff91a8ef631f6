// The shell's pure parts: the 24-hour date-time parsing, the shortcut registry, new-incident detection, settings.
import { describe, expect, it } from "vitest";
import { formatDateTime, monthGrid, parseDateTime } from "../src/datetime-input";
import { newlyOpened } from "../src/notify";
import { GLOBAL, registerShortcuts, shortcutsOf } from "../src/shortcuts";
import type { Incident } from "../src/api";

describe("parseDateTime", () => {
  it("reads ISO 24-hour city time", () => {
    // Kathmandu is UTC+05:45: 08:04 there is 02:19 UTC.
    expect(parseDateTime("2026-12-02 08:04", "Asia/Kathmandu")).toBe(Date.UTC(2026, 11, 2, 2, 19));
    expect(parseDateTime("2026-12-02T08:04:10", "UTC")).toBe(Date.UTC(2026, 11, 2, 8, 4, 10));
    expect(parseDateTime("2026-12-02", "UTC")).toBe(Date.UTC(2026, 11, 2));
    expect(parseDateTime("  ", "UTC")).toBeNull();
  });
  it("refuses what is not a date-time", () => {
    for (const bad of ["12/02/2026 08:04 AM", "2026-13-01 00:00", "2026-04-31 10:00", "2026-12-02 24:00", "2026-12-02 8:04", "tomorrow"])
      expect(parseDateTime(bad, "UTC"), bad).toBeNaN();
  });
  it("formats back to what it reads", () => {
    const ms = Date.UTC(2026, 11, 2, 2, 19, 10);
    expect(formatDateTime(ms, "Asia/Kathmandu")).toBe("2026-12-02 08:04:10");
    expect(formatDateTime(ms, "Asia/Kathmandu", false)).toBe("2026-12-02 08:04");
    expect(parseDateTime(formatDateTime(ms, "Asia/Kathmandu"), "Asia/Kathmandu")).toBe(ms);
  });
  it("lays a month out Monday first", () => {
    const weeks = monthGrid(2026, 12); // 1 December 2026 is a Tuesday
    expect(weeks[0]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(weeks.flat().filter((d) => d > 0)).toHaveLength(31);
  });
});

describe("shortcuts", () => {
  it("lists a screen's own then the global ones", () => {
    registerShortcuts(GLOBAL, [{ keys: ["?"], action: "shell.keys.help" }]);
    registerShortcuts("live", [{ keys: ["1", "4"], action: "shell.keys.wall_layout" }]);
    expect(shortcutsOf("live").map((s) => s.action)).toEqual(["shell.keys.wall_layout", "shell.keys.help"]);
    expect(shortcutsOf("nowhere").map((s) => s.action)).toEqual(["shell.keys.help"]);
  });
});

describe("newlyOpened", () => {
  const inc = (id: number, resolved: number | null) => ({ id, resolved_ms: resolved }) as Incident;
  it("alerts only for open incidents not known before", () => {
    expect(newlyOpened(new Set([1]), [inc(1, null), inc(2, null), inc(3, 5)]).map((i) => i.id)).toEqual([2]);
  });
});

describe("settings", () => {
  it("are per user and off by default", async () => {
    const { getSetting, setSetting, setSettingsUser } = await import("../src/settings");
    setSettingsUser("ana");
    expect(getSetting("incidentNotify")).toBe(false);
    expect(getSetting("incidentSound")).toBe(false);
    setSetting("incidentNotify", true);
    setSettingsUser("bo");
    expect(getSetting("incidentNotify")).toBe(false);
    setSettingsUser("ana");
    expect(getSetting("incidentNotify")).toBe(true);
  });
});
