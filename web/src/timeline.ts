// One camera's timeline track: recorded spans drawn on a canvas, gaps as DOM elements coloured by reason (with
// a tooltip and data-* attributes for tests), the playhead and local-time ticks. All maths in timeline-math.ts.
import { ActivityStrip } from "./activity-strip";
import type { CameraEventInfo, GapInfo, SegmentInfo } from "./api";
import { eventMarker } from "./camera-onvif";
import { h } from "./dom";
import { digitsOf, t as tr } from "./i18n";
import { gapLabel, gapTooltip } from "./playback-text";
import { fmtFull, fmtHMS, timeZone, utcTitle } from "./time";
import {
  type View,
  bySource,
  niceTickStep,
  reasonColour,
  sourceRuns,
  tickLabel,
  ticks,
  timeToX,
  xToTime,
} from "./timeline-math";

const LIVE_COLOUR = "#2ecc71";

/** Diagonal stripes: edge spans (video recovered from the camera's card) stand apart from live ones. */
function hatch(g: CanvasRenderingContext2D): CanvasPattern | string {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 8;
  const t = tile.getContext("2d");
  if (!t) return LIVE_COLOUR;
  t.fillStyle = "#1d5e3a";
  t.fillRect(0, 0, 8, 8);
  t.strokeStyle = LIVE_COLOUR;
  t.lineWidth = 3;
  t.beginPath();
  for (const o of [-8, 0, 8]) {
    t.moveTo(o, 8);
    t.lineTo(o + 8, 0);
  }
  t.stroke();
  return g.createPattern(tile, "repeat") ?? LIVE_COLOUR;
}

export interface TrackCallbacks {
  /** commit=false while dragging (preview), true on release. */
  seek: (t: number, commit: boolean) => void;
  zoom: (anchorX: number, factor: number) => void;
  pan: (dxPx: number) => void;
}

export class TimelineTrack {
  readonly el: HTMLElement;
  private canvas: HTMLCanvasElement;
  private gapLayer: HTMLElement;
  private hover: HTMLElement;
  private legend: HTMLElement;
  private pattern: CanvasPattern | string | null = null;
  segments: SegmentInfo[] = [];
  gaps: GapInfo[] = [];
  private gapEls: HTMLElement[] = [];
  events: CameraEventInfo[] = [];
  private eventLayer: HTMLElement;
  private eventEls: HTMLElement[] = [];
  /** The camera's activity levels, a band at the foot of the track (activity-strip.ts). */
  readonly activity: ActivityStrip;
  /** Marks laid on the track by another part (motion search's hits): spans, DOM, positioned on render. */
  marks: { startMs: number; endMs: number }[] = [];
  private markEls: HTMLElement[] = [];
  private markLayer: HTMLElement;
  /** Removes the window listeners (drag) when the track goes away. */
  private abort = new AbortController();

  constructor(
    readonly cameraId: string,
    label: string,
    private cb: TrackCallbacks,
  ) {
    this.canvas = h("canvas", { class: "track-canvas" });
    this.gapLayer = h("div", { class: "gap-layer" });
    this.hover = h("div", { class: "track-hover", hidden: true });
    this.legend = h(
      "div",
      { class: "track-legend", "data-testid": "legend-edge", hidden: true },
      h("i", { class: "sw-edge" }),
      ` ${tr("playback.edgeLegend")}`,
    );
    this.eventLayer = h("div", { class: "event-layer" });
    this.activity = new ActivityStrip(cameraId);
    this.markLayer = h("div", { class: "mark-layer" });
    const area = h(
      "div",
      { class: "track-area" },
      this.canvas, this.activity.el, this.gapLayer, this.markLayer, this.eventLayer, this.hover, this.legend,
    );
    this.el = h(
      "div",
      {
        class: "track", "data-testid": "timeline", "data-camera": cameraId, "data-segments": 0, "data-gaps": 0,
        "data-edge-segments": 0,
      },
      h("div", { class: "track-label", title: cameraId }, label),
      area,
    );
    this.bind(area);
  }

  get widthPx(): number {
    return this.canvas.clientWidth || 800;
  }

  private bind(area: HTMLElement): void {
    let dragging = false;
    const xOf = (e: MouseEvent) => e.clientX - area.getBoundingClientRect().left;
    area.addEventListener("mousedown", (e) => {
      if (e.button !== 0) return;
      dragging = true;
      e.preventDefault();
      this.cb.seek(this.timeAt(xOf(e)), false);
    });
    const signal = this.abort.signal;
    window.addEventListener(
      "mousemove",
      (e) => {
        if (dragging) this.cb.seek(this.timeAt(xOf(e)), false);
      },
      { signal },
    );
    window.addEventListener(
      "mouseup",
      (e) => {
        if (!dragging) return;
        dragging = false;
        this.cb.seek(this.timeAt(xOf(e)), true);
      },
      { signal },
    );
    area.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) this.cb.pan(e.shiftKey ? e.deltaY : e.deltaX);
        else this.cb.zoom(xOf(e), Math.exp(-e.deltaY * 0.002));
      },
      { passive: false },
    );
    area.addEventListener("mousemove", (e) => {
      const t = this.timeAt(xOf(e));
      this.hover.hidden = false;
      this.hover.style.left = `${xOf(e)}px`;
      this.hover.textContent = fmtHMS(t);
      const title = tr("playback.hoverTitle", { time: fmtFull(t), utc: utcTitle(t) });
      const activity = this.activity.hoverText(t);
      area.title = activity ? `${title}\n${activity}` : title;
    });
    area.addEventListener("mouseleave", () => (this.hover.hidden = true));
  }

  private lastView: View | null = null;

  /** Page x of instant t (for tests), null when outside the view. */
  clientXOf(t: number): number | null {
    const v = this.lastView;
    if (!v || t < v.startMs || t > v.endMs) return null;
    return this.canvas.getBoundingClientRect().left + timeToX(v, t);
  }

  private timeAt(x: number): number {
    const v = this.lastView;
    return v ? xToTime(v, Math.max(0, Math.min(v.widthPx, x))) : Date.now();
  }

  destroy(): void {
    this.abort.abort();
    this.el.remove();
  }

  /** The camera's ONVIF events, one glyph each at our time of receipt (the tooltip gives the camera's too). */
  setEvents(events: CameraEventInfo[]): void {
    this.events = [...events].sort((a, b) => a.received_ms - b.received_ms);
    this.el.dataset.events = String(this.events.length);
    for (const e of this.eventEls) e.remove();
    this.eventEls = this.events.map((e) => {
      const el = eventMarker(e);
      this.eventLayer.append(el);
      return el;
    });
  }

  /** Spans to mark on the track (motion search's hits); an empty list clears them. */
  setMarks(marks: { startMs: number; endMs: number }[]): void {
    this.marks = [...marks];
    this.el.dataset.marks = String(marks.length);
    for (const m of this.markEls) m.remove();
    this.markEls = this.marks.map((m) => {
      const el = h("div", { class: "motion-mark", "data-testid": "motion-mark", "data-start-ms": m.startMs, "data-end-ms": m.endMs });
      this.markLayer.append(el);
      return el;
    });
  }

  setData(segments: SegmentInfo[], gaps: GapInfo[], nowMs: number): void {
    this.segments = [...segments].sort((a, b) => a.start_ms - b.start_ms);
    this.gaps = [...gaps].sort((a, b) => a.start_ms - b.start_ms);
    this.el.dataset.segments = String(this.segments.length);
    const edge = bySource(this.segments).edge.length;
    this.el.dataset.edgeSegments = String(edge);
    this.legend.hidden = edge === 0;
    this.el.dataset.gaps = String(this.gaps.length);
    for (const g of this.gapEls) g.remove();
    this.gapEls = this.gaps.map((g) => {
      const end = g.end_ms ?? nowMs;
      const el = h(
        "div",
        {
          class: "gap", "data-testid": "gap", "data-reason": g.reason, "data-start-ms": g.start_ms, "data-end-ms": end,
          "data-open": g.end_ms == null ? "true" : "false", title: gapTooltip(g), style: `background:${reasonColour(g.reason)}`,
          "data-cause-kind": g.cause?.kind ?? "", "data-cause-subject": g.cause?.subject ?? "",
        },
        h("span", { class: "gap-text" }, gapLabel(g)),
      );
      this.gapLayer.append(el);
      return el;
    });
  }

  /** Mark the gap starting at startMs as the one playback is crossing (a few seconds; CSS class "crossing"). */
  flashGap(startMs: number): void {
    const k = this.gaps.findIndex((g) => g.start_ms === startMs);
    const el = this.gapEls[k];
    if (!el) return;
    el.classList.add("crossing");
    window.setTimeout(() => el.classList.remove("crossing"), 3000);
  }

  render(view: View, clockMs: number | null, nowMs: number, loading: boolean): void {
    const w = this.widthPx;
    view = { ...view, widthPx: w };
    this.lastView = view;
    const dpr = window.devicePixelRatio || 1;
    const hgt = this.canvas.clientHeight || 36;
    if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(hgt * dpr)) {
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(hgt * dpr);
    }
    const g = this.canvas.getContext("2d");
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    g.fillStyle = loading ? "#2a2f36" : "#23282e";
    g.fillRect(0, 0, w, hgt);
    // Future (after now) shaded.
    const xNow = timeToX(view, nowMs);
    if (xNow < w) {
      g.fillStyle = "#15181c";
      g.fillRect(Math.max(0, xNow), 0, w - Math.max(0, xNow), hgt);
    }
    // Grid lines at ticks.
    const step = niceTickStep(view, 90);
    g.strokeStyle = "#343b43";
    g.lineWidth = 1;
    for (const t of ticks(view, step, timeZone())) {
      const x = Math.round(timeToX(view, t)) + 0.5;
      g.beginPath();
      g.moveTo(x, 0);
      g.lineTo(x, hgt);
      g.stroke();
    }
    // Recorded spans: live solid, edge (recovered from the camera's card) hatched, live drawn last.
    const runs = sourceRuns(view, this.segments, nowMs);
    this.pattern ??= hatch(g);
    g.fillStyle = this.pattern;
    for (const r of runs.edge) g.fillRect(r.x, 6, Math.max(1, r.w), hgt - 12);
    g.fillStyle = LIVE_COLOUR;
    for (const r of runs.live) g.fillRect(r.x, 6, Math.max(1, r.w), hgt - 12);
    // Gaps: DOM, positioned.
    this.gaps.forEach((gap, k) => {
      const el = this.gapEls[k];
      const end = gap.end_ms ?? nowMs;
      if (end < view.startMs || gap.start_ms > view.endMs) {
        el.classList.add("offview");
        return;
      }
      el.classList.remove("offview");
      const x0 = timeToX(view, Math.max(gap.start_ms, view.startMs));
      const x1 = timeToX(view, Math.min(end, view.endMs));
      const ww = Math.max(3, x1 - x0);
      el.style.left = `${Math.min(x0, w - ww)}px`;
      el.style.width = `${ww}px`;
      el.classList.toggle("narrow", ww < 40);
    });
    // Marks: DOM spans, positioned.
    this.marks.forEach((m, k) => {
      const el = this.markEls[k];
      const off = m.endMs < view.startMs || m.startMs > view.endMs;
      el.classList.toggle("offview", off);
      if (off) return;
      const x0 = timeToX(view, Math.max(m.startMs, view.startMs));
      el.style.left = `${x0}px`;
      el.style.width = `${Math.max(3, timeToX(view, Math.min(m.endMs, view.endMs)) - x0)}px`;
    });
    // Camera events: DOM glyphs, positioned.
    this.events.forEach((ev, k) => {
      const el = this.eventEls[k];
      const off = ev.received_ms < view.startMs || ev.received_ms > view.endMs;
      el.classList.toggle("offview", off);
      if (!off) el.style.left = `${timeToX(view, ev.received_ms)}px`;
    });
    this.activity.render(view);
    // Playhead.
    if (clockMs != null) {
      const x = timeToX(view, clockMs);
      if (x >= 0 && x <= w) {
        g.fillStyle = "#ffffff";
        g.fillRect(Math.round(x) - 1, 0, 2, hgt);
      }
    }
  }
}

/** The shared time axis under the tracks (labels in the city zone). */
export class TimeAxis {
  readonly el: HTMLCanvasElement = h("canvas", { class: "axis", "data-testid": "timeline-axis" });

  render(view: View): void {
    const w = this.el.clientWidth || 800;
    const hgt = this.el.clientHeight || 22;
    const dpr = window.devicePixelRatio || 1;
    if (this.el.width !== Math.round(w * dpr)) this.el.width = Math.round(w * dpr);
    if (this.el.height !== Math.round(hgt * dpr)) this.el.height = Math.round(hgt * dpr);
    const g = this.el.getContext("2d");
    if (!g) return;
    view = { ...view, widthPx: w };
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    g.fillStyle = "#c8d0d8";
    g.strokeStyle = "#c8d0d8";
    g.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
    g.textBaseline = "top";
    const step = niceTickStep(view, 90);
    for (const t of ticks(view, step, timeZone())) {
      const x = Math.round(timeToX(view, t)) + 0.5;
      g.beginPath();
      g.moveTo(x, 0);
      g.lineTo(x, 5);
      g.stroke();
      const label = digitsOf(tickLabel(t, step, timeZone())); // the user's digits (Persian, Devanagari) when chosen
      const tw = g.measureText(label).width;
      if (x - tw / 2 >= 0 && x + tw / 2 <= w) g.fillText(label, x - tw / 2, 7);
    }
  }
}
