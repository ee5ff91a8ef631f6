// Times are shown in the city's time zone (from /api/city or the login answer), with UTC in a title on hover.
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
  const key = `${zone}|${kind}`;
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
    f = new Intl.DateTimeFormat("sv-SE", opts); // sv-SE gives ISO-like 2026-11-23 06:00:00
    fmts.set(key, f);
  }
  return f;
}

export function fmtHM(ms: number): string {
  return fmt("hm").format(new Date(ms));
}

export function fmtHMS(ms: number): string {
  return fmt("hms").format(new Date(ms));
}

export function fmtFull(ms: number): string {
  return fmt("full").format(new Date(ms));
}

/** "HH:MM" today, else "YYYY-MM-DD HH:MM", in the city zone. */
export function fmtSince(ms: number, nowMs = Date.now()): string {
  const d1 = fmt("date").format(new Date(ms));
  const d2 = fmt("date").format(new Date(nowMs));
  return d1 === d2 ? fmtHM(ms) : `${d1} ${fmtHM(ms)}`;
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
  return `${zone} (UTC${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")})`;
}
