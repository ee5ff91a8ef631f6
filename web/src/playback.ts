// Playback screen: one or more cameras (sync mode) on one shared clock, each with its own <video> and timeline
// track. Click or drag a track to seek, wheel to zoom (shift+wheel to pan), space play/pause, , and . step a
// frame, speeds 1/8x-16x forwards and backwards (J/L), gaps crossed at every speed with a notice naming their
// cause. Position, cameras and speed live in the URL (reload restores them). Design: docs/design/playback-review.md.
import "./styles/playback.css";
import { api, type GapInfo, type SegmentInfo } from "./api";
import { cameras } from "./cameras";
import { cameraInput } from "./camera-picker";
import { go, h } from "./dom";
import { t } from "./i18n";
import { SPEEDS, UrlWriter, planAt, previousSegment, ranOut, readUrlState, stepSpeed, urlFor } from "./playback-state";
import { clockText, gapLabel, gapNotice, speedText } from "./playback-text";
import { SegmentPlayer } from "./segplayer";
import { hooks, recordSeek } from "./stats";
import { motionSearch } from "./motion-search";
import { fmtHM, fmtHMS, fmtSince, utcTitle } from "./time";
import { TimeAxis, TimelineTrack } from "./timeline";
import {
  DAY, HOUR, SECOND, type Limits, type View, centreOn, clamp, gapAt, nextSegment, panBy, segmentAt, zoomAround,
} from "./timeline-math";

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
  /** Last video position seen (wall ms) and when it last moved (performance ms): a stalled video is detected. */
  lastPos: number;
  lastMoveAt: number;
}

type RVFC = (cb: (now: number, meta: { presentationTime: number; mediaTime: number }) => void) => number;

/**
 * The camera chooser of the sync box, in one function so that a search picker can replace it with a one-line
 * swap: it calls `add(id)` with the camera chosen.
 */
function cameraChooser(add: (id: string) => void): HTMLElement {
  const input = cameraInput({ testid: "sync-add-input", clearOnPick: true, onPick: (id) => add(id) });
  const pick = () => {
    add(input.value.trim());
    input.value = "";
  };
  return h("span", { class: "pb-chooser" }, input, h("button", { "data-testid": "sync-add", onclick: pick }, t("playback.addCamera")));
}

export function mountPlayback(root: HTMLElement, params: URLSearchParams): () => void {
  const st = readUrlState(params);
  const now0 = Date.now();
  const span0 = clamp(st.span ?? HOUR, 10 * SECOND, 31 * DAY);
  let clock: number = st.t ?? NaN;
  const limits = (): Limits => ({ minSpanMs: 10 * SECOND, maxSpanMs: 31 * DAY, maxMs: Date.now() + 0.25 * (view.endMs - view.startMs) });
  let view: View = Number.isFinite(clock)
    ? { startMs: clock - span0 / 2, endMs: clock + span0 / 2, widthPx: 800 }
    : { startMs: now0 - span0 * 0.9, endMs: now0 + span0 * 0.1, widthPx: 800 };
  let playing = false;
  /** Signed: negative plays backwards. */
  let rate = 1;
  /** Frame interval (ms), the median of recent presented-frame deltas; 25 fps until measured. */
  let frameMs = 40;
  const frameDeltas: number[] = [];
  /** A frame step waits for its frame: the clock then snaps to that frame's own time. */
  let snapToFrame = false;
  /** Wall time of the frame the first camera shows (from requestVideoFrameCallback), NaN until one is shown. */
  let shownFrame = NaN;
  let dragging = false;
  let alive = true;
  const rows: Row[] = [];
  /** Bumped whenever rows or their timeline data change (forces a redraw). */
  let dataVersion = 0;
  const urlWriter = new UrlWriter((u) => history.replaceState(history.state, "", u), 1000);

  const clockEl = h("span", { class: "clock", "data-testid": "playback-clock" }, t("playback.noClock"));
  const playBtn = h("button", { "data-testid": "play", title: t("playback.playTitle"), onclick: () => setPlaying(!playing) }, t("playback.play"));
  const revBtn = h(
    "button",
    { "data-testid": "reverse", title: t("playback.reverseTitle"), "aria-pressed": "false", onclick: () => setRate(-rate) },
    t("playback.reverse"),
  );
  const speedBtns = SPEEDS.map((s) =>
    h("button", { class: "speed", "data-testid": `speed-${s}`, title: t("playback.speedTitle"), onclick: () => setRate(Math.sign(rate) * s) }, speedText(s)),
  );
  const status = h("div", { class: "status", "data-testid": "playback-status" });
  const notice = h("div", { class: "pb-notice", "data-testid": "gap-notice", "data-crossings": 0, role: "status", hidden: true });
  const tiles = h("div", { class: "pb-tiles" });
  const tracks = h("div", { class: "tracks" });
  const axis = new TimeAxis();
  const syncLabel = h("span", { class: "sync-label", "data-testid": "sync-label" });
  // Motion search works on the first camera: its picture to draw on, the timeline's view as the range.
  const motion = motionSearch({
    cameraId: () => rows[0]?.id ?? null,
    videoBox: () => rows[0]?.videoBox ?? null,
    video: () => rows[0]?.player?.video ?? null,
    range: () => ({ fromMs: view.startMs, toMs: Math.min(view.endMs, Date.now()) }),
    seek: (ms) => {
      setPlaying(false);
      seek(ms, true);
    },
    mark: (hits) => {
      rows[0]?.track.setMarks(hits);
      dataVersion++;
    },
  });
  const controls = h(
    "div",
    { class: "toolbar" },
    playBtn,
    revBtn,
    h("button", { "data-testid": "frame-back", title: t("playback.frameBackTitle"), onclick: () => step(-1) }, t("playback.frameBack")),
    h("button", { "data-testid": "frame-fwd", title: t("playback.frameFwdTitle"), onclick: () => step(1) }, t("playback.frameFwd")),
    h("span", { class: "pb-speeds" }, ...speedBtns),
    clockEl,
    h("span", { class: "sep" }),
    h("button", { title: t("playback.zoomInTitle"), onclick: () => zoom(0.5, 2) }, t("playback.zoomIn")),
    h("button", { title: t("playback.zoomOutTitle"), onclick: () => zoom(0.5, 0.5) }, t("playback.zoomOut")),
    h("button", { title: t("playback.nowTitle"), onclick: () => { view = centreOn(view, Date.now() - (view.endMs - view.startMs) * 0.4, limits()); refresh(); } }, t("playback.now")),
    h("span", { class: "sep" }),
    syncLabel,
    cameraChooser((id) => addCamera(id)),
    h("button", { "data-testid": "export-range", onclick: () => exportRange() }, t("playback.exportView")),
    motion.button,
  );
  root.append(
    h(
      "div",
      { class: "screen playback-screen" },
      controls,
      h("div", { class: "pb-stage" }, tiles, notice),
      motion.panel,
      h("div", { class: "timeline-box" }, tracks, h("div", { class: "axis-row" }, h("div", { class: "track-label" }), axis.el)),
      status,
      h("div", { class: "hint" }, t("playback.hint")),
    ),
  );

  function widthPx(): number {
    return rows[0]?.track.widthPx ?? 800;
  }

  function writeUrl(force: boolean): void {
    if (!alive || rows.length === 0) return;
    const s = { cams: rows.map((r) => r.id), t: Number.isFinite(clock) ? clock : null, speed: rate, span: Math.round(view.endMs - view.startMs) };
    urlWriter.update(urlFor(s), performance.now(), force);
  }

  function zoom(frac: number, factor: number): void {
    const w = widthPx();
    view = zoomAround({ ...view, widthPx: w }, Number.isFinite(clock) && clock >= view.startMs && clock <= view.endMs ? ((clock - view.startMs) / (view.endMs - view.startMs)) * w : frac * w, factor, limits());
    refresh();
  }

  function setRate(s: number): void {
    rate = s;
    speedBtns.forEach((b, k) => b.classList.toggle("active", SPEEDS[k] === Math.abs(s)));
    revBtn.classList.toggle("active", s < 0);
    revBtn.setAttribute("aria-pressed", String(s < 0));
    playBtn.dataset.rate = String(s);
    for (const r of rows) if (r.player && s > 0) r.player.video.playbackRate = s;
    writeUrl(true);
  }

  function setPlaying(p: boolean): void {
    playing = p;
    playBtn.textContent = p ? t("playback.pause") : t("playback.play");
    playBtn.dataset.playing = String(p);
    if (p) {
      status.textContent = "";
      snapToFrame = false;
    }
    if (!p) for (const r of rows) r.player?.video.pause();
    for (const r of rows) r.lastMoveAt = performance.now();
    writeUrl(true);
  }

  /**
   * One frame back or forward. The target lies inside the wanted frame (half a frame back, one and a half
   * forward from the shown frame's time), so an estimate of the frame interval off by a little still lands on
   * the neighbour frame; the clock then snaps to that frame's time.
   */
  function step(dir: number): void {
    if (!Number.isFinite(clock)) return;
    setPlaying(false);
    const from = Number.isFinite(shownFrame) && Math.abs(shownFrame - clock) < 1000 ? shownFrame : clock;
    clock = from + (dir > 0 ? frameMs * 1.5 : -frameMs * 0.5);
    snapToFrame = true;
    for (const r of rows) {
      const seg = segmentAt(r.track.segments, clock);
      if (seg && r.player?.isLoaded(seg)) r.player.seekWall(clock);
    }
    writeUrl(true);
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
        if (!s.index.has(id)) status.textContent = t("playback.unknownCamera", { id });
        else makeRow(id, s.nameOf(id));
      })
      .catch(() => makeRow(id, id));
  }

  function updateSyncLabel(): void {
    syncLabel.textContent = rows.length > 1 ? t("playback.syncLabel", { n: rows.length }) : "";
  }

  function makeRow(id: string, name: string): void {
    const msg = h("div", { class: "tile-msg", "data-testid": "playback-message" }, t("playback.loadingRecordings"));
    const videoBox = h("div", { class: "video-box" });
    const rm = h("button", { class: "close", title: t("playback.removeTitle"), onclick: () => removeRow(id) }, t("playback.remove"));
    const tile = h(
      "div",
      { class: "tile", "data-testid": "playback-tile", "data-camera": id },
      videoBox,
      h("div", { class: "tile-label" }, h("b", {}, id), name !== id ? ` ${name}` : "", rows.length > 0 ? rm : ""),
      msg,
    );
    const row: Row = {
      id, tile, videoBox, msg, error: null, player: null, fetchedFrom: 0, fetchedTo: 0, fetching: false, fetchedOnce: false, loadErr: null,
      lastPos: NaN, lastMoveAt: performance.now(),
      track: new TimelineTrack(id, name !== id ? `${id} ${name}` : id, {
        seek: (at, commit) => seek(at, commit),
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
    updateSyncLabel();
    refresh();
    writeUrl(true);
  }

  function removeRow(id: string): void {
    const k = rows.findIndex((r) => r.id === id);
    if (k < 0) return;
    const [r] = rows.splice(k, 1);
    r.player?.destroy();
    r.tile.remove();
    r.track.destroy();
    dataVersion++;
    updateSyncLabel();
    writeUrl(true);
  }

  function player(r: Row, seg: SegmentInfo): SegmentPlayer {
    if (!r.player || seg.start_ms < r.player.originMs) {
      r.player?.destroy();
      r.player = new SegmentPlayer(r.id, Math.floor(Math.min(seg.start_ms, view.startMs) - DAY));
      r.player.video.playbackRate = Math.max(0.0625, Math.abs(rate));
      r.videoBox.replaceChildren(r.player.video, r.player.badge);
      watchFrames(r.player);
    }
    return r.player;
  }

  /** Learn the frame interval from presented frames, and snap the clock to the frame a step showed. */
  function watchFrames(p: SegmentPlayer): void {
    const v = p.video as HTMLVideoElement & { requestVideoFrameCallback?: RVFC };
    if (!v.requestVideoFrameCallback) return;
    let last = NaN;
    const cb: Parameters<RVFC>[0] = (_n, meta) => {
      if (!alive || p !== rows.find((r) => r.player === p)?.player) return;
      const d = (meta.mediaTime - last) * 1000;
      // Every frame is presented at 1x and slower: consecutive deltas are the frame interval.
      if (playing && rate > 0 && rate <= 1 && d > 5 && d < 200) {
        frameDeltas.push(d);
        if (frameDeltas.length > 15) frameDeltas.shift();
        frameMs = [...frameDeltas].sort((a, b) => a - b)[frameDeltas.length >> 1];
      }
      last = meta.mediaTime;
      if (p === rows[0]?.player) {
        shownFrame = p.toWall(meta.mediaTime);
        // Paused, the clock is the shown frame's own time (a seek shows the frame at or before its target).
        if (!playing && !dragging && Math.abs(shownFrame - clock) < 1000) {
          clock = shownFrame;
          if (snapToFrame) writeUrl(true);
          snapToFrame = false;
        }
      }
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
        r.loadErr = t("playback.cannotLoad", { error: (e as Error).message });
      })
      .finally(() => {
        r.fetching = false;
        dataVersion++;
      });
  }

  function refresh(again = false): void {
    for (const r of rows) {
      loadTimeline(r);
      r.track.activity.want(view, again);
    }
  }

  /** Below this many ms per pixel a click is exact to the frame; above it, it lands on the keyframe before. */
  const SNAP_MS_PER_PX = 250;

  function seek(to: number, commit: boolean, measure = true): void {
    clock = Math.min(to, Date.now());
    dragging = !commit;
    snapToFrame = false;
    if (commit) writeUrl(true);
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
    const finish = (at: number) => {
      if (done) return;
      done = true;
      recordSeek(at - start);
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

  function messageFor(r: Row, at: number, nowMs: number): string | null {
    if (r.loadErr) return r.loadErr;
    if (r.error) return r.error;
    if (!r.fetchedOnce) return t("playback.loadingRecordings");
    if (!Number.isFinite(at)) return null;
    if (at > nowMs) return t("playback.future");
    const g: GapInfo | null = gapAt(r.track.gaps, at, nowMs);
    if (g) {
      if (g.end_ms == null) return t("playback.offlineSince", { since: fmtSince(g.start_ms), cause: gapLabel(g, true) });
      return t("playback.noRecordingGap", { from: fmtHM(g.start_ms), to: fmtHM(g.end_ms), cause: gapLabel(g, true) });
    }
    if (r.track.segments.length === 0) return t("playback.noRecordingInRange");
    const last = r.track.segments[r.track.segments.length - 1];
    if (at >= last.end_ms && nowMs - at < 60 * SECOND) return t("playback.beingRecorded");
    const nxt = nextSegment(r.track.segments, at);
    return nxt ? t("playback.noRecordingNext", { t: fmtHMS(at), next: fmtHMS(nxt.start_ms) }) : t("playback.noRecordingAt", { t: fmtHMS(at) });
  }

  let noticeTimer = 0;
  /** Say which gap playback is crossing (a few seconds) and mark it on the timeline. */
  function announceCrossing(fromMs: number, toMs: number): void {
    const lo = Math.min(fromMs, toMs);
    const hi = Math.max(fromMs, toMs);
    let gap: GapInfo | null = null;
    for (const r of rows) {
      gap = r.track.gaps.find((g) => g.start_ms < hi && (g.end_ms ?? Infinity) > lo) ?? null;
      if (gap) {
        r.track.flashGap(gap.start_ms);
        break;
      }
    }
    const text = gap ? gapNotice(gap.start_ms, gap.end_ms, gapLabel(gap)) : gapNotice(lo, hi, t("playback.gapUnknown"));
    notice.textContent = text;
    notice.hidden = false;
    notice.dataset.last = text;
    notice.dataset.causeKind = gap?.cause?.kind ?? "";
    notice.dataset.crossings = String(Number(notice.dataset.crossings ?? 0) + 1);
    window.clearTimeout(noticeTimer);
    noticeTimer = window.setTimeout(() => (notice.hidden = true), 4000);
  }

  /** Forward at any speed: the leading <video> sets the clock; where it runs out, the gap is crossed. */
  function forward(dt: number, nowMs: number, nowPerf: number): void {
    let leader: Row | null = null;
    let covered = false;
    for (const r of rows) {
      const seg = segmentAt(r.track.segments, clock);
      if (!seg) continue;
      covered = true;
      const p = r.player;
      if (!p || !p.isLoaded(seg) || p.video.readyState < 2 || p.video.paused) continue;
      const pos = p.wallNow();
      if (pos !== r.lastPos) {
        r.lastPos = pos;
        r.lastMoveAt = nowPerf;
      }
      const joined = segmentAt(r.track.segments, seg.end_ms);
      const runsOn = joined && joined.id !== seg.id && p.isLoaded(joined);
      if (!runsOn && ranOut({ posMs: pos, segEndMs: seg.end_ms, bufferedEndMs: p.bufferedEndWall(pos), stalledForMs: nowPerf - r.lastMoveAt, frameMs, rate })) {
        // Out of pictures before a break: step to the segment's end, the plan below crosses what follows.
        clock = Math.max(clock, seg.end_ms);
        covered = rows.some((x) => segmentAt(x.track.segments, clock));
        break;
      }
      leader = r;
      break;
    }
    if (leader?.player) {
      clock = leader.player.wallNow();
      return;
    }
    if (covered) return; // waiting for a segment to load
    const plan = planAt(rows.map((r) => r.track.segments), clock, 1);
    if (plan.kind === "cross") {
      announceCrossing(plan.fromMs, plan.toMs);
      seek(plan.toMs, true, false);
    } else {
      clock = Math.min(clock + dt * rate, nowMs);
      if (clock >= nowMs - 1000) {
        setPlaying(false);
        status.textContent = t("playback.endOfRecordings");
      }
    }
  }

  /**
   * Backwards: MSE cannot play in reverse, so the clock runs back at the chosen speed and each <video> is seeked
   * to it whenever its previous seek has finished (syncRow); a gap is crossed to the end of the recording before.
   */
  function backward(dt: number): void {
    // The clock waits for a segment still loading, never for a seek (each <video> follows as fast as it seeks).
    const waiting = rows.some((r) => {
      const seg = segmentAt(r.track.segments, clock);
      return seg && !r.player?.isLoaded(seg);
    });
    if (waiting) return;
    const next = clock - dt * Math.abs(rate);
    const plan = planAt(rows.map((r) => r.track.segments), next, -1, frameMs);
    if (plan.kind === "play") clock = next;
    else if (plan.kind === "cross") {
      announceCrossing(clock, plan.toMs);
      clock = plan.toMs;
    } else {
      setPlaying(false);
      status.textContent = t("playback.startOfRecordings");
    }
  }

  let lastPerf = performance.now();
  let lastTrim = 0;
  let lastRefetch = performance.now();
  let lastKey = "";
  const frame = (nowPerf: number) => {
    if (!alive) return;
    const dt = Math.min(nowPerf - lastPerf, 250);
    lastPerf = nowPerf;
    const nowMs = Date.now();
    if (playing && !dragging && Number.isFinite(clock)) {
      if (rate > 0) forward(dt, nowMs, nowPerf);
      else backward(dt);
      // Keep the playhead in view (ahead of it in the direction of play).
      const span = view.endMs - view.startMs;
      if (clock > view.endMs - span * 0.02 || clock < view.startMs + (rate < 0 ? span * 0.02 : 0)) {
        view = centreOn(view, clock + (rate > 0 ? span * 0.4 : -span * 0.4), limits());
        refresh();
      }
      writeUrl(false);
    }
    // A view that reaches the present is refreshed every 10 s: new segments and gaps appear as they are written.
    if (view.endMs > nowMs - 60 * SECOND && nowPerf - lastRefetch > 10000) {
      lastRefetch = nowPerf;
      for (const r of rows) if (r.fetchedOnce) r.fetchedTo = 0;
      refresh(true);
    }
    for (const r of rows) syncRow(r, nowMs, nowPerf - lastTrim > 5000);
    if (nowPerf - lastTrim > 5000) lastTrim = nowPerf;
    if (Number.isFinite(clock)) {
      clockEl.textContent = clockText(clock);
      clockEl.title = utcTitle(clock);
      clockEl.dataset.ms = String(Math.round(clock));
      clockEl.dataset.onFrame = String(clock === shownFrame);
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
      show(r.error ?? messageFor(r, clock, nowMs) ?? t("playback.loading"));
      return;
    }
    const p = r.player;
    if (p.unsupported) return show(p.unsupported);
    if (!p.isLoaded(seg)) {
      p.ensure(seg, clock).then(() => p.seekWall(clock)).catch((e) => (r.error = (e as Error).message));
      return show(r.error ?? t("playback.loading"));
    }
    r.error = null;
    show(null);
    const target = p.toMedia(clock);
    const v = p.video;
    const forwardPlay = playing && !dragging && rate > 0;
    if (playing && !dragging && rate < 0) {
      // Reverse: one seek at a time, to wherever the clock is now.
      if (!v.seeking && Math.abs(v.currentTime - target) > frameMs / 2000) p.seekWall(clock);
    } else if (!forwardPlay) {
      if (!dragging && !snapToFrame && Math.abs(v.currentTime - target) > 0.5) p.seekWall(clock);
    } else if (Math.abs(v.currentTime - target) > 0.3) {
      p.seekWall(clock);
    }
    if (rate > 0 && v.playbackRate !== rate) v.playbackRate = rate;
    if (forwardPlay && v.paused) v.play().catch(() => {});
    if (!forwardPlay && !v.paused) v.pause();
    // Append the neighbouring segment early so playback runs on across the boundary (either direction).
    const ahead = 20 * SECOND * Math.max(1, Math.abs(rate) / 2);
    if (rate > 0 && seg.end_ms - clock < ahead) {
      const nxt = nextSegment(r.track.segments, seg.end_ms);
      if (nxt && nxt.start_ms - seg.end_ms < 2 * SECOND) p.ensure(nxt).catch(() => {});
      else if (nxt) p.prefetch(nxt);
    } else if (rate < 0 && clock - seg.start_ms < ahead) {
      const prev = previousSegment(r.track.segments, seg.start_ms);
      if (prev && seg.start_ms - prev.end_ms < 2 * SECOND) p.ensure(prev).catch(() => {});
      else if (prev) p.prefetch(prev);
    }
    if (trim) p.trimAround(clock).catch(() => {});
  }

  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === " " || e.key === "k" || e.key === "K") {
      // A focused button would also be "clicked" by the space bar: take the focus away first.
      e.preventDefault();
      (document.activeElement as HTMLElement | null)?.blur?.();
      setPlaying(!playing);
    } else if (e.key === ",") step(-1);
    else if (e.key === ".") step(1);
    else if (e.key === "j" || e.key === "J" || e.key === "l" || e.key === "L") {
      setRate(stepSpeed(rate, e.key.toLowerCase() === "l" ? 1 : -1));
      if (!playing) setPlaying(true);
    } else if (e.key === "+" || e.key === "=") zoom(0.5, 2);
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

  setRate(st.speed);
  if (st.cams.length === 0) {
    // No camera asked for: open the first recording one (the sync box adds others; the map picks any).
    cameras()
      .then((s) => {
        let i = 0;
        while (i < s.count && s.state[i] !== 0) i++;
        if (i < s.count) makeRow(s.id(i), s.name(i));
        else if (s.count > 0) makeRow(s.id(0), s.name(0));
        else status.textContent = t("playback.noCameras");
      })
      .catch((e) => (status.textContent = t("playback.cannotLoadCameras", { error: (e as Error).message })));
  } else {
    cameras()
      .then((s) => st.cams.forEach((id) => makeRow(id, s.nameOf(id))))
      .catch(() => st.cams.forEach((id) => makeRow(id, id)));
  }
  requestAnimationFrame(frame);

  hooks.timelineX = (id, at) => rows.find((r) => r.id === id)?.track.clientXOf(at) ?? null;
  hooks.timeline = (id) => {
    const r = rows.find((x) => x.id === id);
    if (!r) return null;
    return { startMs: view.startMs, endMs: view.endMs, clockMs: Number.isFinite(clock) ? clock : null, segments: r.track.segments, gaps: r.track.gaps };
  };

  return () => {
    hooks.timelineX = () => null;
    hooks.timeline = () => null;
    alive = false;
    motion.destroy();
    window.clearTimeout(noticeTimer);
    window.removeEventListener("keydown", onKey);
    for (const r of rows) {
      r.player?.destroy();
      r.track.destroy();
    }
  };
}
