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

describe("calendars and digits", () => {
  it("Solar Hijri with Persian digits, on the 24-hour clock, in Kabul", async () => {
    const { applyPrefs } = await import("../src/i18n");
    setTimeZone("Asia/Kabul");
    applyPrefs({ lang: "fa-AF", calendar: "persian", digits: "arabext" });
    // 2026-11-23 06:30:05Z is 11:00:05 in Kabul (+04:30), 2 Azar 1405
    expect(fmtFull(T)).toBe("۱۴۰۵/۰۹/۰۲ ۱۱:۰۰:۰۵");
    expect(fmtHM(T)).toBe("۱۱:۰۰");
    expect(fmtSince(T, T + 86_400_000)).toBe("۱۴۰۵/۰۹/۰۲ ۱۱:۰۰");
    expect(utcTitle(T)).toBe("2026-11-23 06:30:05 UTC"); // machine format stays
    applyPrefs({ lang: "fa-AF", calendar: "persian", digits: "latn" });
    expect(fmtFull(T)).toBe("1405/09/02 11:00:05");
    applyPrefs({ lang: "en", calendar: "gregory", digits: "latn" });
  });
  it("Nepali: Gregorian with Devanagari digits; an afternoon stays 24-hour", async () => {
    const { applyPrefs } = await import("../src/i18n");
    const { fmtInput } = await import("../src/time");
    setTimeZone("Asia/Kathmandu");
    applyPrefs({ lang: "ne", calendar: "gregory", digits: "deva" });
    expect(fmtFull(T + 6 * 3600_000)).toBe("२०२६-११-२३ १८:१५:०५");
    expect(fmtInput(T)).toBe("2026-11-23T12:15");
    applyPrefs({ lang: "en", calendar: "gregory", digits: "latn" });
    expect(fmtFull(T)).toBe("2026-11-23 12:15:05");
  });
});
