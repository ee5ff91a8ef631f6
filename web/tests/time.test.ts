import { describe, expect, it } from "vitest";
import { fmtFull, fmtHM, fmtSince, setTimeZone, timeZone, utcTitle, zoneLabel } from "../src/time";

const T = Date.UTC(2026, 10, 23, 6, 30, 5); // 06:30:05Z = 12:15:05 in Kathmandu

describe("city time formatting", () => {
  it("shows city time and UTC on hover", () => {
    setTimeZone("Asia/Kathmandu");
    expect(timeZone()).toBe("Asia/Kathmandu");
    expect(fmtHM(T)).toBe("12:15");
    expect(fmtFull(T)).toBe("2026-11-23 12:15:05");
    expect(utcTitle(T)).toBe("2026-11-23 06:30:05 UTC");
    expect(zoneLabel()).toBe("Asia/Kathmandu (UTC+05:45)");
  });
  it("'since' is HH:MM today, with the date otherwise", () => {
    setTimeZone("Asia/Kathmandu");
    expect(fmtSince(T, T + 3600_000)).toBe("12:15");
    expect(fmtSince(T, T + 86_400_000)).toBe("2026-11-23 12:15");
  });
  it("ignores an unknown zone", () => {
    setTimeZone("UTC");
    setTimeZone("Mars/Olympus");
    expect(timeZone()).toBe("UTC");
    expect(fmtHM(T)).toBe("06:30");
  });
});
