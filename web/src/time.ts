// Times are shown in the city's time zone (from /api/city or the login answer), with UTC in a title on hover.
// Every date and time the control room shows goes through here, in the user's calendar (Gregorian or Solar Hijri,
// through Intl's "persian" calendar) and digits (latin, Persian ۰-۹, Devanagari ०-९), always on the 24-hour clock and
// always year-month-day with numbers (the ISO-like order the control room has always used; "/" between the parts of
// a Solar Hijri date, as Afghan forms write it). Machine formats (inputs, UTC titles) stay ISO with latin digits.
import { calendarPref, digitsOf } from "./i18n";
import { tzOffsetMs } from "./timeline-math";

let zone = "UTC";
const fmts = new Map<string, Intl.DateTimeFormat>();

export function setTimeZone(tz: string | null | undefined): void {
  if (!tz) return;
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    zone = tz;
  } catch {
    console.warn("unknown time zone", tz);
  }
}

export function timeZone(): string {
  return zone;
}

function fmt(kind: "hm" | "hms" | "full" | "date"): Intl.DateTimeFormat {
  const key = `${zone}|${kind}|${calendarPref()}`;
  let f = fmts.get(key);
  if (!f) {
    const base: Intl.DateTimeFormatOptions = { timeZone: zone, hourCycle: "h23" };
    const opts: Intl.DateTimeFormatOptions =
      kind === "hm"
        ? { ...base, hour: "2-digit", minute: "2-digit" }
        : kind === "hms"
          ? { ...base, hour: "2-digit", minute: "2-digit", second: "2-digit" }
          : kind === "date"
            ? { ...base, year: "numeric", month: "2-digit", day: "2-digit" }
            : { ...base, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };
    // Latin digits here and the user's digits after: the parts are then joined in one fixed order.
    f = new Intl.DateTimeFormat(`en-u-ca-${calendarPref()}-nu-latn`, opts);
    fmts.set(key, f);
  }
  return f;
}

/** ms as "YYYY-MM-DD HH:MM:SS" (or a part of it) in the city zone and the user's calendar, latin digits. */
function parts(kind: "hm" | "hms" | "full" | "date", ms: number): string {
  const p: Record<string, string> = {};
  for (const x of fmt(kind).formatToParts(new Date(ms))) p[x.type] = x.value;
  const sep = calendarPref() === "persian" ? "/" : "-";
  const date = `${p.year}${sep}${p.month}${sep}${p.day}`;
  const hm = `${p.hour}:${p.minute}`;
  return kind === "hm" ? hm : kind === "hms" ? `${hm}:${p.second}` : kind === "date" ? date : `${date} ${hm}:${p.second}`;
}

export function fmtHM(ms: number): string {
  return digitsOf(parts("hm", ms));
}

export function fmtHMS(ms: number): string {
  return digitsOf(parts("hms", ms));
}

export function fmtFull(ms: number): string {
  return digitsOf(parts("full", ms));
}

export function fmtDate(ms: number): string {
  return digitsOf(parts("date", ms));
}

/** "YYYY-MM-DDTHH:MM" in the city zone, Gregorian, latin digits: the value of an <input type="datetime-local">. */
export function fmtInput(ms: number): string {
  const f = new Intl.DateTimeFormat("sv-SE", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  return f.format(new Date(ms)).replace(" ", "T");
}

/** "HH:MM" today, else "YYYY-MM-DD HH:MM", in the city zone. */
export function fmtSince(ms: number, nowMs = Date.now()): string {
  const d1 = parts("date", ms);
  const d2 = parts("date", nowMs);
  return d1 === d2 ? fmtHM(ms) : `${digitsOf(d1)} ${fmtHM(ms)}`;
}

export function utcTitle(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A <time> element showing city time with UTC on hover. */
export function timeEl(ms: number | null | undefined, kind: "hm" | "hms" | "full" | "since" = "full"): HTMLElement {
  const el = document.createElement("time");
  if (ms == null || !Number.isFinite(ms)) {
    el.textContent = "—";
    return el;
  }
  el.dateTime = new Date(ms).toISOString();
  el.title = utcTitle(ms);
  el.dataset.ms = String(ms);
  el.textContent = kind === "hm" ? fmtHM(ms) : kind === "hms" ? fmtHMS(ms) : kind === "since" ? fmtSince(ms) : fmtFull(ms);
  return el;
}

export function zoneLabel(): string {
  const off = tzOffsetMs(zone, Date.now()) / 60000;
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return `${zone} (UTC${sign}${digitsOf(`${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`)})`;
}
