// Playback screen: one or more cameras (sync mode) on one shared clock, each with its own <video> and timeline
// track. Click or drag a track to seek, wheel to zoom (shift+wheel to pan), space play/pause, , and . step a
// frame when paused, speeds 1x-16x. Every state without video says why (gap reason, offline since, no recording).
import { api, type GapInfo, type SegmentInfo } from "./api";
import { cameras } from "./cameras";
import { go, h } from "./dom";
import { SegmentPlayer } from "./segplayer";
import { hooks, recordSeek } from "./stats";
import { fmtFull, fmtHM, fmtHMS, fmtSince, utcTitle } from "./time";
import { TimeAxis, TimelineTrack } from "./timeline";
import {
  DAY, HOUR, SECOND, type Limits, type View, centreOn, clamp, gapAt, nextSegment, panBy, segmentAt, zoomAround,
} from "./timeline-math";

const SPEEDS = [1, 2, 4, 8, 16];

interface Row {
  id: string;
  track: TimelineTrack;
  player: SegmentPlayer | null;
  tile: HTMLElement;
  videoBox: HTMLElement;
  msg: HTMLElement;
  error: string | null;
  fetchedFrom: number;
  fetchedTo: number;
  fetching: boolean;
  fetchedOnce: boolean;
  loadErr: string | null;
}

type RVFC = (cb: (now: number, meta: { presentationTime: number; mediaTime: number }) => void) => number;

export function mountPlayback(root: HTMLElement, params: URLSearchParams): () => void {
  const ids = (params.get("cams") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const now0 = Date.now();
  const span0 = clamp(Number(params.get("span")) || HOUR, 10 * SECOND, 31 * DAY);
  const t0 = Number(params.get("t"));
  let clock: number = Number.isFinite(t0) && t0 > 0 ? t0 : NaN;
  const limits = (): Limits => ({ minSpanMs: 10 * SECOND, maxSpanMs: 31 * DAY, maxMs: Date.now() + 0.25 * (view.endMs - view.startMs) });
  let view: View = Number.isFinite(clock)
    ? { startMs: clock - span0 / 2, endMs: clock + span0 / 2, widthPx: 800 }
    : { startMs: now0 - span0 * 0.9, endMs: now0 + span0 * 0.1, widthPx: 800 };
  let playing = false;
  let rate = 1;
  let frameMs = 40;
  let dragging = false;
  let alive = true;
  const rows: Row[] = [];
  /** Bumped whenever rows or their timeline data change (forces a redraw). */
  let dataVersion = 0;

  const clockEl = h("span", { class: "clock", "data-testid": "playback-clock" }, "—");
  const playBtn = h("button", { "data-testid": "play", title: "space", onclick: () => setPlaying(!playing) }, "▶ play");
  const speedBtns = SPEEDS.map((s) =>
    h("button", { class: s === 1 ? "active" : "", "data-testid": `speed-${s}`, onclick: () => setRate(s) }, `${s}x`),
  );
  const addInput = h("input", { type: "text", placeholder: "camera id", size: 14, "data-testid": "sync-add-input", "aria-label": "camera to add" });
  const status = h("div", { class: "status", "data-testid": "playback-status" });
  const tiles = h("div", { class: "pb-tiles" });
  const tracks = h("div", { class: "tracks" });
  const axis = new TimeAxis();
  const controls = h(
    "div",
    { class: "toolbar" },
    playBtn,
    h("button", { title: "previous frame (,)", onclick: () => step(-1) }, "‹ frame"),
    h("button", { title: "next frame (.)", onclick: () => step(1) }, "frame ›"),
    ...speedBtns,
    clockEl,
    h("span", { class: "sep" }),
    h("button", { title: "zoom in (+)", onclick: () => zoom(0.5, 2) }, "+"),
    h("button", { title: "zoom out (-)", onclick: () => zoom(0.5, 0.5) }, "−"),
    h("button", { title: "go to now", onclick: () => { view = centreOn(view, Date.now() - (view.endMs - view.startMs) * 0.4, limits()); refresh(); } }, "now"),
    h("span", { class: "sep" }),
    h("span", { class: "sync-label", "data-testid": "sync-label" }),
    addInput,
    h("button", { "data-testid": "sync-add", onclick: () => addCamera(addInput.value.trim()) }, "+ sync camera"),
    h("button", { "data-testid": "export-range", onclick: () => exportRange() }, "Export view…"),
  );
  root.append(
    h(
      "div",
      { class: "screen playback-screen" },
      controls,
      tiles,
      h("div", { class: "timeline-box" }, tracks, h("div", { class: "axis-row" }, h("div", { class: "track-label" }), axis.el)),
      status,
      h("div", { class: "hint" }, "click or drag a timeline to seek · wheel zoom · shift+wheel pan · space play/pause · , . frame step · + − zoom"),
    ),
  );

  const syncLabel = controls.querySelector(".sync-label") as HTMLElement;

  function widthPx(): number {
    return rows[0]?.track.widthPx ?? 800;
  }

  function zoom(frac: number, factor: number): void {
    const w = widthPx();
    view = zoomAround({ ...view, widthPx: w }, Number.isFinite(clock) && clock >= view.startMs && clock <= view.endMs ? ((clock - view.startMs) / (view.endMs - view.startMs)) * w : frac * w, factor, limits());
    refresh();
  }

  function setRate(s: number): void {
    rate = s;
    speedBtns.forEach((b, k) => b.classList.toggle("active", SPEEDS[k] === s));
    for (const r of rows) if (r.player) r.player.video.playbackRate = s;
  }

  function setPlaying(p: boolean): void {
    playing = p;
    playBtn.textContent = p ? "❚❚ pause" : "▶ play";
    playBtn.dataset.playing = String(p);
    if (!p) for (const r of rows) r.player?.video.pause();
  }

  function step(dir: number): void {
    if (!Number.isFinite(clock)) return;
    setPlaying(false);
    clock += dir * frameMs;
    for (const r of rows) {
      const seg = segmentAt(r.track.segments, clock);
      if (seg && r.player?.isLoaded(seg)) r.player.seekWall(clock);
    }
  }

  function exportRange(): void {
    const id = rows[0]?.id;
    if (!id) return;
    go("exports", { camera: id, from: Math.round(view.startMs), to: Math.round(Math.min(view.endMs, Date.now())) });
  }

  function addCamera(id: string): void {
    if (!id || rows.some((r) => r.id === id)) return;
    cameras()
      .then((s) => {
        if (!s.index.has(id)) status.textContent = `unknown camera ${id}`;
        else {
          makeRow(id, s.nameOf(id));
          addInput.value = "";
        }
      })
      .catch(() => makeRow(id, id));
  }

  function makeRow(id: string, name: string): void {
    const msg = h("div", { class: "tile-msg", "data-testid": "playback-message" }, "loading recordings…");
    const videoBox = h("div", { class: "video-box" });
    const rm = h("button", { class: "close", title: "remove from sync", onclick: () => removeRow(id) }, "×");
    const tile = h(
      "div",
      { class: "tile", "data-testid": "playback-tile", "data-camera": id },
      videoBox,
      h("div", { class: "tile-label" }, h("b", {}, id), name !== id ? ` ${name}` : "", rows.length > 0 ? rm : ""),
      msg,
    );
    const row: Row = {
      id, tile, videoBox, msg, error: null, player: null, fetchedFrom: 0, fetchedTo: 0, fetching: false, fetchedOnce: false, loadErr: null,
      track: new TimelineTrack(id, name !== id ? `${id} ${name}` : id, {
        seek: (t, commit) => seek(t, commit),
        zoom: (x, f) => {
          view = zoomAround({ ...view, widthPx: widthPx() }, x, f, limits());
          refresh();
        },
        pan: (dx) => {
          view = panBy({ ...view, widthPx: widthPx() }, dx, limits());
          refresh();
        },
      }),
    };
    rows.push(row);
    tiles.append(tile);
    tracks.append(row.track.el);
    tiles.className = `pb-tiles n${Math.min(rows.length, 4)}`;
    dataVersion++;
    syncLabel.textContent = rows.length > 1 ? `sync: ${rows.length} cameras on one clock` : "";
    refresh();
  }

  function removeRow(id: string): void {
    const k = rows.findIndex((r) => r.id === id);
    if (k < 0) return;
    const [r] = rows.splice(k, 1);
    r.player?.destroy();
    r.tile.remove();
    r.track.destroy();
    dataVersion++;
    syncLabel.textContent = rows.length > 1 ? `sync: ${rows.length} cameras on one clock` : "";
  }

  function player(r: Row, seg: SegmentInfo): SegmentPlayer {
    if (!r.player || seg.start_ms < r.player.originMs) {
      r.player?.destroy();
      r.player = new SegmentPlayer(r.id, Math.floor(Math.min(seg.start_ms, view.startMs) - DAY));
      r.player.video.playbackRate = rate;
      r.videoBox.replaceChildren(r.player.video, r.player.badge);
      watchFrames(r.player.video);
    }
    return r.player;
  }

  function watchFrames(v: HTMLVideoElement & { requestVideoFrameCallback?: RVFC }): void {
    if (!v.requestVideoFrameCallback) return;
    let last = NaN;
    const cb: Parameters<RVFC>[0] = (_n, meta) => {
      if (!alive) return;
      const d = (meta.mediaTime - last) * 1000;
      if (rate === 1 && d > 5 && d < 200) frameMs = frameMs * 0.9 + d * 0.1;
      last = meta.mediaTime;
      v.requestVideoFrameCallback!(cb);
    };
    v.requestVideoFrameCallback(cb);
  }

  function loadTimeline(r: Row): void {
    const span = view.endMs - view.startMs;
    if (r.fetching || (r.fetchedOnce && view.startMs >= r.fetchedFrom && view.endMs <= r.fetchedTo)) return;
    const from = view.startMs - span;
    const to = Math.min(view.endMs + span, Date.now() + span);
    r.fetching = true;
    dataVersion++;
    api
      .timeline(r.id, from, to)
      .then((tl) => {
        r.fetchedFrom = from;
        r.fetchedTo = Math.min(to, Date.now());
        r.fetchedOnce = true;
        r.loadErr = null;
        r.track.setData(tl.segments ?? [], tl.gaps ?? [], Date.now());
        r.track.setEvents(tl.events ?? []);
        dataVersion++;
        if (!Number.isFinite(clock) && r === rows[0]) {
          const segs = r.track.segments;
          const last = segs[segs.length - 1];
          clock = last ? Math.max(last.start_ms, last.end_ms - 60 * SECOND) : Date.now() - 60 * SECOND;
          seek(clock, true, false);
        }
      })
      .catch((e) => {
        r.loadErr = `cannot load recordings: ${(e as Error).message}`;
      })
      .finally(() => {
        r.fetching = false;
        dataVersion++;
      });
  }

  function refresh(): void {
    for (const r of rows) loadTimeline(r);
  }

  /** Below this many ms per pixel a click is exact to the frame; above it, it lands on the keyframe before. */
  const SNAP_MS_PER_PX = 250;

  function seek(t: number, commit: boolean, measure = true): void {
    clock = Math.min(t, Date.now());
    dragging = !commit;
    const start = performance.now();
    if (commit && (view.endMs - view.startMs) / widthPx() >= SNAP_MS_PER_PX) {
      // A pixel is worth more than a GOP here: start on a keyframe so the first picture needs one decode.
      const lead = rows.find((r) => segmentAt(r.track.segments, clock));
      const seg = lead ? segmentAt(lead.track.segments, clock) : null;
      if (lead && seg) {
        const target = clock;
        player(lead, seg)
          .keyframeBefore(seg, target)
          .then((k) => {
            if (clock === target) clock = k;
            seekRows(true, measure, start);
          })
          .catch(() => seekRows(true, measure, start));
        return;
      }
    }
    seekRows(commit, measure, start);
  }

  function seekRows(commit: boolean, measure: boolean, start: number): void {
    let measured = !measure;
    for (const r of rows) {
      const seg = segmentAt(r.track.segments, clock);
      if (!seg) continue;
      const p = player(r, seg);
      if (!commit) {
        if (p.isLoaded(seg)) p.seekWall(clock);
        continue;
      }
      const first = !measured;
      measured = true;
      p.ensure(seg, clock)
        .then(() => {
          p.seekWall(clock);
          if (first) measureSeek(p.video, start);
        })
        .catch((e) => (r.error = (e as Error).message));
    }
  }

  function measureSeek(v: HTMLVideoElement & { requestVideoFrameCallback?: RVFC }, start: number): void {
    let done = false;
    const finish = (t: number) => {
      if (done) return;
      done = true;
      recordSeek(t - start);
    };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback((now) => finish(now));
    // Fallback when no new frame is composited (same picture): count until the seek completed.
    v.addEventListener(
      "seeked",
      () => {
        const at = performance.now();
        window.setTimeout(() => finish(at), 1000);
      },
      { once: true },
    );
  }

  function messageFor(r: Row, t: number, nowMs: number): string | null {
    if (r.loadErr) return r.loadErr;
    if (r.error) return r.error;
    if (!r.fetchedOnce) return "loading recordings…";
    if (!Number.isFinite(t)) return null;
    if (t > nowMs) return "that time is in the future";
    const g: GapInfo | null = gapAt(r.track.gaps, t, nowMs);
    if (g) {
      if (g.end_ms == null) return `camera offline since ${fmtSince(g.start_ms)} (${g.reason})`;
      return `no recording ${fmtHM(g.start_ms)}–${fmtHM(g.end_ms)} (${g.reason}${g.detail ? `: ${g.detail}` : ""})`;
    }
    if (r.track.segments.length === 0) return "no recording in range";
    const last = r.track.segments[r.track.segments.length - 1];
    if (t >= last.end_ms && nowMs - t < 60 * SECOND) return "being recorded: this part is available in a few seconds";
    const nxt = nextSegment(r.track.segments, t);
    return nxt ? `no recording at ${fmtHMS(t)}; next recording at ${fmtHMS(nxt.start_ms)}` : `no recording at ${fmtHMS(t)}`;
  }

  let lastPerf = performance.now();
  let lastTrim = 0;
  let lastRefetch = performance.now();
  let lastKey = "";
  const frame = (nowPerf: number) => {
    if (!alive) return;
    const dt = nowPerf - lastPerf;
    lastPerf = nowPerf;
    const nowMs = Date.now();
    if (playing && !dragging && Number.isFinite(clock)) {
      let leader: Row | null = null;
      let anyCovered = false;
      for (const r of rows) {
        const seg = segmentAt(r.track.segments, clock);
        if (!seg) continue;
        anyCovered = true;
        if (r.player && r.player.isLoaded(seg) && r.player.video.readyState >= 2 && !r.player.video.paused) {
          leader = r;
          // Reached the end of this segment and nothing contiguous is buffered: step into what follows.
          if (r.player.video.currentTime >= r.player.toMedia(seg.end_ms) - 0.06 && segmentAt(r.track.segments, seg.end_ms)?.id !== seg.id) {
            const nxt = segmentAt(r.track.segments, seg.end_ms);
            if (!nxt || !r.player.isLoaded(nxt)) {
              clock = seg.end_ms;
              leader = null;
            }
          }
          break;
        }
      }
      if (leader?.player) clock = leader.player.wallNow();
      else if (!anyCovered) {
        // Every camera is in a gap: skip to the next recording of any of them.
        let next = Infinity;
        for (const r of rows) {
          const s = nextSegment(r.track.segments, clock);
          if (s) next = Math.min(next, s.start_ms);
        }
        if (next < Infinity) seek(next, true, false);
        else {
          clock = Math.min(clock + dt * rate, nowMs);
          if (clock >= nowMs - 1000) {
            setPlaying(false);
            status.textContent = "end of recordings";
          }
        }
      }
      // Keep the playhead in view.
      const span = view.endMs - view.startMs;
      if (clock > view.endMs - span * 0.02 || clock < view.startMs) {
        view = centreOn(view, clock + span * 0.4, limits());
        refresh();
      }
    }
    // A view that reaches the present is refreshed every 10 s: new segments and gaps appear as they are written.
    if (view.endMs > nowMs - 60 * SECOND && nowPerf - lastRefetch > 10000) {
      lastRefetch = nowPerf;
      for (const r of rows) if (r.fetchedOnce) r.fetchedTo = 0;
      refresh();
    }
    for (const r of rows) syncRow(r, nowMs, nowPerf - lastTrim > 5000);
    if (nowPerf - lastTrim > 5000) lastTrim = nowPerf;
    if (Number.isFinite(clock)) {
      clockEl.textContent = fmtFull(clock);
      clockEl.title = utcTitle(clock);
      clockEl.dataset.ms = String(Math.round(clock));
    }
    // Redraw only when something visible changed (the loop runs every frame; idle screens cost nothing).
    const key = `${view.startMs}|${view.endMs}|${clock}|${widthPx()}|${dataVersion}|${Math.floor(nowMs / 1000)}`;
    if (key !== lastKey) {
      lastKey = key;
      for (const r of rows) r.track.render(view, Number.isFinite(clock) ? clock : null, nowMs, r.fetching);
      axis.render({ ...view, widthPx: widthPx() });
    }
    requestAnimationFrame(frame);
  };

  function syncRow(r: Row, nowMs: number, trim: boolean): void {
    const seg = Number.isFinite(clock) ? segmentAt(r.track.segments, clock) : null;
    const show = (text: string | null) => {
      r.msg.style.display = text ? "" : "none";
      if (text && r.msg.textContent !== text) r.msg.textContent = text;
      r.tile.dataset.state = text ? "message" : "video";
    };
    if (!seg || !r.player) {
      r.player?.video.pause();
      if (seg && !r.player) player(r, seg).ensure(seg, clock).catch((e) => (r.error = (e as Error).message));
      show(r.error ?? messageFor(r, clock, nowMs) ?? "loading…");
      return;
    }
    const p = r.player;
    if (p.unsupported) return show(p.unsupported);
    if (!p.isLoaded(seg)) {
      p.ensure(seg, clock).then(() => p.seekWall(clock)).catch((e) => (r.error = (e as Error).message));
      return show(r.error ?? "loading…");
    }
    r.error = null;
    show(null);
    const target = p.toMedia(clock);
    const v = p.video;
    if (dragging || !playing) {
      if (!dragging && Math.abs(v.currentTime - target) > 0.5) p.seekWall(clock);
    } else if (Math.abs(v.currentTime - target) > 0.3) {
      p.seekWall(clock);
    }
    if (v.playbackRate !== rate) v.playbackRate = rate;
    if (playing && !dragging && v.paused) v.play().catch(() => {});
    if ((!playing || dragging) && !v.paused) v.pause();
    // Append the following segment early so playback runs on across the boundary.
    if (seg.end_ms - clock < 20 * SECOND * Math.max(1, rate / 2)) {
      const nxt = nextSegment(r.track.segments, seg.end_ms);
      if (nxt && nxt.start_ms - seg.end_ms < 2 * SECOND) p.ensure(nxt).catch(() => {});
      else if (nxt) p.prefetch(nxt);
    }
    if (trim) p.trimAround(clock).catch(() => {});
  }

  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === " ") {
      // A focused button would also be "clicked" by the space bar: take the focus away first.
      e.preventDefault();
      (document.activeElement as HTMLElement | null)?.blur?.();
      setPlaying(!playing);
    } else if (e.key === ",") step(-1);
    else if (e.key === ".") step(1);
    else if (e.key === "+" || e.key === "=") zoom(0.5, 2);
    else if (e.key === "-") zoom(0.5, 0.5);
    else if (e.key === "ArrowLeft") {
      view = panBy({ ...view, widthPx: widthPx() }, -widthPx() / 4, limits());
      refresh();
    } else if (e.key === "ArrowRight") {
      view = panBy({ ...view, widthPx: widthPx() }, widthPx() / 4, limits());
      refresh();
    }
  };
  window.addEventListener("keydown", onKey);

  if (ids.length === 0) {
    // No camera asked for: open the first recording one (the sync box adds others; the map picks any).
    cameras()
      .then((s) => {
        let i = 0;
        while (i < s.count && s.state[i] !== 0) i++;
        if (i < s.count) makeRow(s.id(i), s.name(i));
        else if (s.count > 0) makeRow(s.id(0), s.name(0));
        else status.textContent = "no camera in the registry";
      })
      .catch((e) => (status.textContent = `cannot load cameras: ${(e as Error).message}`));
  } else {
    cameras()
      .then((s) => ids.forEach((id) => makeRow(id, s.nameOf(id))))
      .catch(() => ids.forEach((id) => makeRow(id, id)));
  }
  requestAnimationFrame(frame);

  hooks.timelineX = (id, t) => rows.find((r) => r.id === id)?.track.clientXOf(t) ?? null;
  hooks.timeline = (id) => {
    const r = rows.find((x) => x.id === id);
    if (!r) return null;
    return { startMs: view.startMs, endMs: view.endMs, clockMs: Number.isFinite(clock) ? clock : null, segments: r.track.segments, gaps: r.track.gaps };
  };

  return () => {
    hooks.timelineX = () => null;
    hooks.timeline = () => null;
    alive = false;
    window.removeEventListener("keydown", onKey);
    for (const r of rows) {
      r.player?.destroy();
      r.track.destroy();
    }
  };
}
