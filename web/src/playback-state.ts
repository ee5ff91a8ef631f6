// Pure parts of playback (no DOM, tested by Vitest in node): the speed ladder, what to do at the edge of
// recorded video (cross a gap, keep playing, stop at the end) and the state kept in the URL.
import { type Segment, nextSegment, segmentAt } from "./timeline-math";

/** Forward speeds; reverse uses the same magnitudes, negative. */
export const SPEEDS = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16] as const;
/** Every speed from fastest reverse to fastest forward (no 0: pause is a separate state). */
export const LADDER: readonly number[] = [...[...SPEEDS].reverse().map((s) => -s), ...SPEEDS];

/** Nearest allowed speed (in octaves, same direction) to any number (a typed URL, an old bookmark); 1 for nonsense. */
export function normaliseSpeed(x: number): number {
  if (!Number.isFinite(x) || x === 0) return 1;
  const dist = (s: number) => Math.abs(Math.log2(Math.abs(s)) - Math.log2(Math.abs(x)));
  let best = Math.sign(x);
  for (const s of LADDER) if (Math.sign(s) === Math.sign(x) && dist(s) < dist(best)) best = s;
  return best;
}

/**
 * The speed after pressing "faster forward" (dir = 1, key L) or "faster reverse" (dir = -1, key J), as in
 * editing tools: pressing against the current direction first slows down, then turns round at 1x.
 */
export function stepSpeed(current: number, dir: 1 | -1): number {
  const cur = normaliseSpeed(current);
  if (Math.sign(cur) === dir) {
    const k = SPEEDS.indexOf(Math.abs(cur) as (typeof SPEEDS)[number]);
    return dir * SPEEDS[Math.min(SPEEDS.length - 1, Math.max(k + 1, SPEEDS.indexOf(1)))];
  }
  const k = SPEEDS.indexOf(Math.abs(cur) as (typeof SPEEDS)[number]);
  if (Math.abs(cur) > 1) return -dir * SPEEDS[k - 1];
  return dir;
}

export type Plan =
  | { kind: "play" }
  | { kind: "cross"; fromMs: number; toMs: number }
  | { kind: "end"; atMs: number };

/**
 * What playback does at instant `clock` going in direction `dir`: play where any camera has video there, else
 * cross the gap to the nearest recording any camera has in that direction (the far edge of the gap), else end.
 * Going backwards the target is just inside the end of the previous recording (`edgeMs` before its end).
 */
export function planAt(rows: readonly (readonly Segment[])[], clock: number, dir: 1 | -1, edgeMs = 1): Plan {
  if (rows.some((segs) => segmentAt(segs, clock))) return { kind: "play" };
  let best = dir > 0 ? Infinity : -Infinity;
  for (const segs of rows) {
    if (dir > 0) {
      const s = nextSegment(segs, clock);
      if (s) best = Math.min(best, s.start_ms);
    } else {
      const p = previousSegment(segs, clock);
      if (p) best = Math.max(best, Math.max(p.start_ms, p.end_ms - edgeMs));
    }
  }
  if (!Number.isFinite(best)) return { kind: "end", atMs: clock };
  return { kind: "cross", fromMs: clock, toMs: best };
}

/** Last segment ending at or before t (for crossing a gap backwards), else null. Segments sorted by start. */
export function previousSegment<T extends Segment>(segments: readonly T[], t: number): T | null {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].end_ms <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? segments[lo - 1] : null;
}

/**
 * Whether forward playback has run out of pictures before a break in the recording. The <video> stops short of
 * the end of what is buffered, and more so the faster it plays (Chromium at 16x stalls about 250 ms of media
 * before it), so the old "within 60 ms of end_ms" never came true and playback froze before every gap. It has
 * run out when it is past the end, or close to the segment's end and to the end of its buffered range (both
 * margins grow with the rate) and has not moved for `stallMs`.
 */
export function ranOut(o: {
  posMs: number;
  segEndMs: number;
  bufferedEndMs: number | null;
  stalledForMs: number;
  frameMs: number;
  rate: number;
}): boolean {
  if (o.posMs >= o.segEndMs - Math.max(60, o.frameMs * 0.75)) return true;
  const fast = Math.max(1, o.rate);
  const nearSegEnd = o.segEndMs - o.posMs <= Math.max(500, o.frameMs * 3) * Math.max(1, fast / 4);
  const atBufferEnd = o.bufferedEndMs == null || o.bufferedEndMs - o.posMs <= Math.max(100, o.frameMs * 2) * Math.max(1, fast / 2);
  return nearSegEnd && atBufferEnd && o.stalledForMs >= 300;
}

export interface UrlState {
  cams: string[];
  /** Clock (UTC ms), null when not set. */
  t: number | null;
  speed: number;
  /** Timeline span (ms), null when default. */
  span: number | null;
}

const CAM_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Read the playback state from the hash's query (bad values ignored, at most 16 cameras). */
export function readUrlState(p: URLSearchParams): UrlState {
  const cams = [...new Set((p.get("cams") ?? "").split(",").map((s) => s.trim()))].filter((s) => CAM_RE.test(s)).slice(0, 16);
  const t = Number(p.get("t"));
  const sp = p.get("speed");
  const span = Number(p.get("span"));
  return {
    cams,
    t: Number.isFinite(t) && t > 0 ? Math.round(t) : null,
    speed: sp == null ? 1 : normaliseSpeed(Number(sp)),
    span: Number.isFinite(span) && span > 0 ? span : null,
  };
}

/** The hash for a state, e.g. "#/playback?cams=a,b&t=1700000000000&speed=4". */
export function urlFor(s: UrlState): string {
  const parts = [`cams=${s.cams.map(encodeURIComponent).join(",")}`];
  if (s.t != null && Number.isFinite(s.t)) parts.push(`t=${Math.round(s.t)}`);
  if (s.speed !== 1) parts.push(`speed=${s.speed}`);
  if (s.span != null) parts.push(`span=${Math.round(s.span)}`);
  return `#/playback?${parts.join("&")}`;
}

/**
 * Throttle for URL writes: write when forced (pause, seek, speed, cameras) or when at least `everyMs` passed
 * since the last write and the URL would change.
 */
export class UrlWriter {
  private last = -Infinity;
  private lastUrl = "";
  constructor(
    private write: (url: string) => void,
    private everyMs = 1000,
  ) {}

  update(url: string, nowMs: number, force = false): boolean {
    if (url === this.lastUrl) return false;
    if (!force && nowMs - this.last < this.everyMs) return false;
    this.last = nowMs;
    this.lastUrl = url;
    this.write(url);
    return true;
  }
}
