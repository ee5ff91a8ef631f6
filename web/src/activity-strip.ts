// The activity strip under a playback track (docs/design/motion-search.md, "Activity"): one camera's activity levels
// (one byte per second: 0 nothing recorded, 65 as usual for this camera at this hour, more = its picture changed
// more, 1..20 = its stream collapsed: covered, frozen) as a coloured band. Levels are max-pooled to pixels, so a
// burst of a few seconds stays visible at a day's zoom. The maths is pure (poolLevels, levelBand) and tested.
import "./styles/activity.css";
import { api, type ActivityInfo } from "./api";
import { h } from "./dom";
import { t } from "./i18n";
import { type View, xToTime } from "./timeline-math";

/** The API answers at most a day per request. */
export const MAX_SPAN_MS = 86_400_000;
export const COLLAPSED_MAX = 20;
export const BUSY_MIN = 100;
export const VERY_BUSY_MIN = 160;
/** Levels are written in batches (motion.activity_flush_s): a range reaching this close to now is asked again... */
export const RECENT_MS = 300_000;
/** ...this often, so the strip fills in as the recorder writes. */
export const REFETCH_MS = 15_000;

export type Band = "none" | "collapsed" | "usual" | "busy" | "very-busy";

export function levelBand(level: number): Band {
  if (level <= 0) return "none";
  if (level <= COLLAPSED_MAX) return "collapsed";
  if (level < BUSY_MIN) return "usual";
  if (level < VERY_BUSY_MIN) return "busy";
  return "very-busy";
}

export const BAND_COLOUR: Record<Exclude<Band, "none">, string> = {
  collapsed: "#c0392b",
  usual: "#557a94",
  busy: "#d4a017",
  "very-busy": "#ff6b2d",
};

/** What a band means, for the track's hover title. */
export function bandText(band: Band): string | null {
  switch (band) {
    case "collapsed":
      return t("activity.bandCollapsed");
    case "usual":
      return t("activity.bandUsual");
    case "busy":
      return t("activity.bandBusy");
    case "very-busy":
      return t("activity.bandVeryBusy");
    default:
      return null;
  }
}

/** Per pixel of the view, the highest level of the seconds it covers (0 where none is known). A collapsed second
 *  outranks a usual one (it is the news), busy outranks both. */
export function poolLevels(startS: number, levels: ArrayLike<number>, view: View): Uint8Array {
  const w = Math.max(0, Math.floor(view.widthPx));
  const out = new Uint8Array(w);
  const n = levels.length;
  if (n === 0 || w === 0) return out;
  const rank = (v: number) => (v <= 0 ? 0 : v <= COLLAPSED_MAX ? 1 + v / 1000 : v < BUSY_MIN ? 0.5 : v);
  for (let x = 0; x < w; x++) {
    const s0 = Math.floor(xToTime(view, x) / 1000) - startS;
    const s1 = Math.max(s0 + 1, Math.ceil(xToTime(view, x + 1) / 1000) - startS);
    const a = Math.max(0, s0);
    const b = Math.min(n, s1);
    let best = 0;
    for (let k = a; k < b; k++) {
      const v = levels[k];
      if (rank(v) > rank(best)) best = v;
    }
    out[x] = best;
  }
  return out;
}

/** Runs of pixels of one band: what is drawn (fewer fillRect calls than pixels). */
export function bandRuns(pooled: Uint8Array): { x: number; w: number; band: Exclude<Band, "none"> }[] {
  const runs: { x: number; w: number; band: Exclude<Band, "none"> }[] = [];
  for (let x = 0; x < pooled.length; x++) {
    const band = levelBand(pooled[x]);
    if (band === "none") continue;
    const last = runs[runs.length - 1];
    if (last && last.band === band && last.x + last.w === x) last.w++;
    else runs.push({ x, w: 1, band });
  }
  return runs;
}

/** The range to ask for around a view: its span again on each side, at most a day, centred on the view. */
export function fetchRange(view: View): { fromMs: number; toMs: number } | null {
  const span = view.endMs - view.startMs;
  if (span <= 0 || span > MAX_SPAN_MS) return null;
  const want = Math.min(MAX_SPAN_MS, 3 * span);
  const mid = (view.startMs + view.endMs) / 2;
  return { fromMs: Math.max(0, Math.floor(mid - want / 2)), toMs: Math.floor(mid - want / 2) + want };
}

export class ActivityStrip {
  readonly el: HTMLCanvasElement;
  private data: ActivityInfo | null = null;
  private fetched: { fromMs: number; toMs: number } | null = null;
  private fetching = false;
  private fetchedAt = 0;

  constructor(readonly cameraId: string) {
    this.el = h("canvas", { class: "activity-strip", "data-testid": "activity-strip", "data-camera": cameraId, "data-drawn": 0 });
    this.el.title = t("activity.title");
  }

  /** Fetch the levels around the view unless they are there (a view wider than a day shows none). */
  want(view: View, refresh = false): void {
    const range = fetchRange(view);
    this.el.dataset.tooWide = String(range === null);
    if (!range || this.fetching) return;
    const f = this.fetched;
    if (!refresh && f && view.startMs >= f.fromMs && view.endMs <= f.toMs) return;
    this.fetching = true;
    api
      .activity(this.cameraId, range.fromMs, range.toMs)
      .then((a) => {
        this.data = a;
        this.fetched = range;
        this.el.dataset.seconds = String(a.levels.filter((v) => v > 0).length);
      })
      .catch(() => {
        this.el.dataset.error = "true"; // the track says what failed; the strip only stays empty
      })
      .finally(() => {
        this.fetching = false;
        this.fetchedAt = performance.now(); // a failed answer is not asked again at once either
      });
  }

  /** The level of the second holding instant ``tMs`` (0 when unknown). */
  levelAt(tMs: number): number {
    const d = this.data;
    if (!d) return 0;
    const k = Math.floor(tMs / 1000) - d.start_s;
    return k >= 0 && k < d.levels.length ? d.levels[k] : 0;
  }

  /** "Activity: more than usual" for the hover title, null when nothing is known there. */
  hoverText(tMs: number): string | null {
    const band = bandText(levelBand(this.levelAt(tMs)));
    return band ? t("activity.hover", { band }) : null;
  }

  render(view: View): void {
    const f = this.fetched;
    if (f && f.toMs > Date.now() - RECENT_MS && performance.now() - this.fetchedAt > REFETCH_MS) this.want(view, true);
    const w = this.el.clientWidth || view.widthPx;
    const hgt = this.el.clientHeight || 6;
    const dpr = window.devicePixelRatio || 1;
    if (this.el.width !== Math.round(w * dpr) || this.el.height !== Math.round(hgt * dpr)) {
      this.el.width = Math.round(w * dpr);
      this.el.height = Math.round(hgt * dpr);
    }
    const g = this.el.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const d = this.data;
    const wide = fetchRange(view) === null;
    if (!d || wide) {
      this.el.dataset.drawn = "0";
      return;
    }
    const runs = bandRuns(poolLevels(d.start_s, d.levels, { ...view, widthPx: w }));
    for (const r of runs) {
      g.fillStyle = BAND_COLOUR[r.band];
      g.fillRect(r.x, 0, r.w, hgt);
    }
    this.el.dataset.drawn = String(runs.reduce((n, r) => n + r.w, 0));
    this.el.dataset.busy = String(runs.filter((r) => r.band === "busy" || r.band === "very-busy").reduce((n, r) => n + r.w, 0));
  }
}
