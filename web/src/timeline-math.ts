// Pure timeline maths: time <-> pixel mapping, zoom around a point, span/gap layout, clamping and tick steps
// aligned to the city's local time. No DOM here so Vitest can test it in node (see tests/timeline-math.test.ts).
import type { GapReason } from "./api";

export interface View {
  /** UTC ms at the left edge. */
  startMs: number;
  /** UTC ms at the right edge (> startMs). */
  endMs: number;
  /** Width of the drawing area in CSS pixels. */
  widthPx: number;
}

export interface Limits {
  minSpanMs: number;
  maxSpanMs: number;
  /** Optional hard bounds for the view (e.g. not past "now" + margin). */
  minMs?: number;
  maxMs?: number;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const DEFAULT_LIMITS: Limits = { minSpanMs: 10 * SECOND, maxSpanMs: 31 * DAY };

export function spanMs(view: View): number {
  return view.endMs - view.startMs;
}

export function msPerPx(view: View): number {
  return spanMs(view) / Math.max(1, view.widthPx);
}

export function timeToX(view: View, t: number): number {
  return ((t - view.startMs) / spanMs(view)) * view.widthPx;
}

export function xToTime(view: View, x: number): number {
  return view.startMs + (x / Math.max(1, view.widthPx)) * spanMs(view);
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Keep the span within limits and the window inside the optional bounds (shifting, not shrinking, when possible). */
export function clampView(view: View, limits: Limits = DEFAULT_LIMITS): View {
  let span = clamp(spanMs(view), limits.minSpanMs, limits.maxSpanMs);
  const centre = (view.startMs + view.endMs) / 2;
  let start = centre - span / 2;
  const lo = limits.minMs ?? -Infinity;
  const hi = limits.maxMs ?? Infinity;
  if (hi - lo < span) {
    span = hi - lo;
    start = lo;
  } else if (start < lo) {
    start = lo;
  } else if (start + span > hi) {
    start = hi - span;
  }
  return { startMs: start, endMs: start + span, widthPx: view.widthPx };
}

/** Zoom by `factor` (>1 zooms in) keeping the time under pixel `anchorX` at the same pixel. */
export function zoomAround(view: View, anchorX: number, factor: number, limits: Limits = DEFAULT_LIMITS): View {
  const anchorMs = xToTime(view, anchorX);
  const span = clamp(spanMs(view) / factor, limits.minSpanMs, limits.maxSpanMs);
  const frac = anchorX / Math.max(1, view.widthPx);
  const start = anchorMs - frac * span;
  const out = clampView({ startMs: start, endMs: start + span, widthPx: view.widthPx }, limits);
  return out;
}

export function panBy(view: View, deltaPx: number, limits: Limits = DEFAULT_LIMITS): View {
  const d = deltaPx * msPerPx(view);
  return clampView({ startMs: view.startMs + d, endMs: view.endMs + d, widthPx: view.widthPx }, limits);
}

/** Centre the view on t (same span). */
export function centreOn(view: View, t: number, limits: Limits = DEFAULT_LIMITS): View {
  const half = spanMs(view) / 2;
  return clampView({ startMs: t - half, endMs: t + half, widthPx: view.widthPx }, limits);
}

export interface Span {
  startMs: number;
  /** null = still open (ends at `nowMs` in layout). */
  endMs: number | null;
}

export interface Laid<T> {
  item: T;
  x: number;
  w: number;
  /** True when the span was cut by the view edges. */
  clipped: boolean;
}

/**
 * Pixel boxes for spans intersecting the view, clipped to [0, width]; every visible span gets at least
 * `minWidthPx` so that a one-second gap on a day view is still visible and clickable.
 */
export function layoutSpans<T extends Span>(view: View, spans: readonly T[], nowMs: number, minWidthPx = 2): Laid<T>[] {
  const out: Laid<T>[] = [];
  for (const s of spans) {
    const end = s.endMs ?? nowMs;
    if (end < view.startMs || s.startMs > view.endMs || end < s.startMs) continue;
    const x0 = timeToX(view, Math.max(s.startMs, view.startMs));
    const x1 = timeToX(view, Math.min(end, view.endMs));
    let x = x0;
    let w = x1 - x0;
    if (w < minWidthPx) {
      const c = (x0 + x1) / 2;
      w = minWidthPx;
      x = clamp(c - w / 2, 0, Math.max(0, view.widthPx - w));
    }
    out.push({ item: s, x, w, clipped: s.startMs < view.startMs || end > view.endMs });
  }
  return out;
}

/**
 * Merge recorded spans whose pixel boxes touch (gap smaller than `mergePx`) so drawing a day of 1-minute
 * segments costs one rectangle per visible run instead of 1440.
 */
export function mergeRuns(view: View, spans: readonly Span[], nowMs: number, mergePx = 1): { x: number; w: number }[] {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  const runs: { x: number; w: number }[] = [];
  for (const l of layoutSpans(view, sorted, nowMs, 1)) {
    const last = runs[runs.length - 1];
    if (last && l.x <= last.x + last.w + mergePx) {
      last.w = Math.max(last.w, l.x + l.w - last.x);
    } else {
      runs.push({ x: l.x, w: l.w });
    }
  }
  return runs;
}

/** Candidate tick steps (ms), from 1 s to 7 days. */
export const TICK_STEPS = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
];

/** Smallest "nice" step that keeps ticks at least `minPx` apart. */
export function niceTickStep(view: View, minPx = 80): number {
  const need = msPerPx(view) * minPx;
  for (const s of TICK_STEPS) if (s >= need) return s;
  return TICK_STEPS[TICK_STEPS.length - 1];
}

const offsetFmtCache = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at instant t, in ms (e.g. +05:45 for Asia/Kathmandu = 20_700_000). */
export function tzOffsetMs(timeZone: string, t: number): number {
  let f = offsetFmtCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    offsetFmtCache.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== "literal") p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  const whole = Math.floor(t / 1000) * 1000;
  return asUtc - whole;
}

/** UTC ms of a wall-clock time in `timeZone` (as typed in a datetime-local input); handles DST by re-checking. */
export function zonedToUtc(timeZone: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  let t = wall - tzOffsetMs(timeZone, wall);
  t = wall - tzOffsetMs(timeZone, t);
  return t;
}

/** Parse "YYYY-MM-DDTHH:MM[:SS]" in the city's zone. Returns NaN when malformed. */
export function parseZoned(timeZone: string, s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
  if (!m) return NaN;
  return zonedToUtc(timeZone, +m[1], +m[2], +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
}

/** Inverse of parseZoned: "YYYY-MM-DDTHH:MM:SS" in the zone. */
export function formatZonedInput(timeZone: string, t: number): string {
  const l = new Date(t + tzOffsetMs(timeZone, t));
  const p = (n: number) => String(n).padStart(2, "0");
  return `${l.getUTCFullYear()}-${p(l.getUTCMonth() + 1)}-${p(l.getUTCDate())}T${p(l.getUTCHours())}:${p(
    l.getUTCMinutes(),
  )}:${p(l.getUTCSeconds())}`;
}

/**
 * Tick instants in [startMs, endMs] for `step`, aligned to local wall time in `timeZone` (so hour ticks fall on
 * local hours even in UTC+05:45, and day ticks on local midnight).
 */
export function ticks(view: View, step: number, timeZone: string): number[] {
  const out: number[] = [];
  const off0 = tzOffsetMs(timeZone, view.startMs);
  let local = Math.floor((view.startMs + off0) / step) * step;
  // Safety: never more than 1000 ticks.
  for (let i = 0; i < 1000; i++) {
    const guess = local - off0;
    const t = local - tzOffsetMs(timeZone, guess);
    if (t > view.endMs) break;
    if (t >= view.startMs && (out.length === 0 || t > out[out.length - 1])) out.push(t);
    local += step;
  }
  return out;
}

/** Label for a tick: date for day steps, HH:MM for minute steps, HH:MM:SS below a minute. */
export function tickLabel(t: number, step: number, timeZone: string): string {
  const l = new Date(t + tzOffsetMs(timeZone, t));
  const p = (n: number) => String(n).padStart(2, "0");
  if (step >= DAY) return `${l.getUTCFullYear()}-${p(l.getUTCMonth() + 1)}-${p(l.getUTCDate())}`;
  const hm = `${p(l.getUTCHours())}:${p(l.getUTCMinutes())}`;
  if (step >= MINUTE) {
    if (l.getUTCHours() === 0 && l.getUTCMinutes() === 0) return `${p(l.getUTCMonth() + 1)}-${p(l.getUTCDate())}`;
    return hm;
  }
  return `${hm}:${p(l.getUTCSeconds())}`;
}

export interface Segment {
  id: string | number;
  start_ms: number;
  end_ms: number;
}

/** Segment covering t, else null. Segments sorted by start. Binary search (a day of segments is ~1,500). */
export function segmentAt<T extends Segment>(segments: readonly T[], t: number): T | null {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segments[mid];
    if (t < s.start_ms) hi = mid - 1;
    else if (t >= s.end_ms) lo = mid + 1;
    else return s;
  }
  return null;
}

/** First segment starting at or after t (for skipping a gap), else null. */
export function nextSegment<T extends Segment>(segments: readonly T[], t: number): T | null {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].start_ms < t) lo = mid + 1;
    else hi = mid;
  }
  return lo < segments.length ? segments[lo] : null;
}

export interface Gap {
  start_ms: number;
  end_ms: number | null;
  reason: string;
  detail?: string | null;
}

/** The gap covering t (open gaps run to nowMs), else null. */
export function gapAt<T extends Gap>(gaps: readonly T[], t: number, nowMs: number): T | null {
  for (const g of gaps) if (t >= g.start_ms && t < (g.end_ms ?? nowMs)) return g;
  return null;
}

/** Colour of each gap reason, stable so operators learn it. Keyed by the server's GapReason (generated types):
 * a reason added or renamed on the server fails the type check here until it has its colour. */
const REASON_COLOURS = {
  unreachable: "#e74c3c",
  stalled: "#e67e22",
  auth_refused: "#9b59b6",
  bad_stream: "#8e44ad",
  refused: "#c39bd3",
  unsupported: "#6c3483",
  packet_loss: "#f39c12",
  disk_full: "#f1c40f",
  disk_slow: "#d4ac0d",
  recorder_not_running: "#7f8c8d",
  starting: "#95a5a6",
  internal_error: "#2c3e50",
} as const satisfies Record<GapReason, string>;

/** Colour of a gap reason (a reason this build does not know yet gets a stable hashed hue). */
export function reasonColour(reason: string): string {
  const table: Record<string, string> = REASON_COLOURS;
  if (table[reason]) return table[reason];
  let h = 0;
  for (let i = 0; i < reason.length; i++) h = (h * 31 + reason.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 65% 50%)`;
}

/** Segments by where their pictures came from (the API's `source`; absent = live, as before edge backfill). */
export function bySource<T extends { source?: string }>(segments: readonly T[]): { live: T[]; edge: T[] } {
  const live: T[] = [];
  const edge: T[] = [];
  for (const s of segments) (s.source === "edge" ? edge : live).push(s);
  return { live, edge };
}

/** Pixel runs of live and edge spans; an edge run never hides live video under it (live is drawn over it). */
export function sourceRuns<T extends Segment & { source?: string }>(
  view: View,
  segments: readonly T[],
  nowMs: number,
): { live: { x: number; w: number }[]; edge: { x: number; w: number }[] } {
  const { live, edge } = bySource(segments);
  const spans = (xs: T[]) => xs.map((s) => ({ startMs: s.start_ms, endMs: s.end_ms }));
  return { live: mergeRuns(view, spans(live), nowMs, 0.5), edge: mergeRuns(view, spans(edge), nowMs, 0.5) };
}
