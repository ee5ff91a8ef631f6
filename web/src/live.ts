// One live tile: WS /api/live/{id} -> Media Source Extensions. Protocol in docs/design/control-room-api.md:
// a "codec" text message, an "origin" message, then the init segment and one moof/mdat per picture.
// Latency is kept low by jumping to the live edge when more than ~1 s behind and speeding up slightly when a
// little behind; every presented frame's latency goes to window.camgrid.stats.live[id].
import { type LiveMessage, wsUrl } from "./api";
import { h } from "./dom";
import { codecDecision, codecName, liveQuery, needsH264, pathBadge, setPath } from "./h265";
import { t } from "./i18n";
import { recordLive } from "./stats";
import { TileClock } from "./tile-clock";
import { fmtSince, utcTitle } from "./time";

const MAX_BEHIND_S = 1.0;
const SOFT_BEHIND_S = 0.2;
const KEEP_BEHIND_S = 10;

/** What a live tile shows (its data-state): not a camera state nor a gap reason, the tile's own. */
type TileState = "connecting" | "waiting" | "playing" | "offline" | "error" | "undecodable" | "limit";

type RVFC = (cb: (now: number, meta: { presentationTime: number; mediaTime: number }) => void) => number;

export class LivePlayer {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  private msg: HTMLElement;
  private ws: WebSocket | null = null;
  private ms: MediaSource | null = null;
  private sb: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private mime = "";
  private originWallMs = NaN;
  private destroyed = false;
  private retry = 1000;
  private retryTimer = 0;
  private url = "";
  private rvfcHandle = 0;
  private supported = true;
  private lastTrim = 0;
  /** The picture's wall-clock time and its freshness (tile-clock.ts). */
  private clock: TileClock;
  /** "sub": the camera's low-resolution substream (walls of 4+ tiles); the server falls back to "main". */
  private readonly stream: "main" | "sub";
  /** Ask the server for H.264 (H.265 transcoded for this browser): set when this browser cannot decode H.265. */
  private h264 = needsH264();
  private badge = pathBadge();

  constructor(
    readonly cameraId: string,
    label: string,
    opts: { compact?: boolean; stream?: "main" | "sub" } = {},
  ) {
    this.stream = opts.stream ?? "main";
    this.video = h("video", { muted: true, playsinline: true, autoplay: true, "data-testid": "live-video" });
    this.video.muted = true;
    this.msg = h("div", { class: "tile-msg", "data-testid": "tile-message" }, t("livetile.connecting"));
    this.el = h(
      "div",
      { class: `tile${opts.compact ? " compact" : ""}`, "data-testid": "live-tile", "data-camera": cameraId, "data-state": "connecting" },
      this.video,
      h("div", { class: "tile-label", title: cameraId }, h("b", {}, cameraId), label && label !== cameraId ? ` ${label}` : ""),
      this.msg,
      this.badge,
    );
    this.clock = new TileClock(this.el);
    this.connect();
    this.watchFrames();
  }

  private setMessage(text: string | null, state: TileState, title = ""): void {
    this.el.dataset.state = state;
    if (text) {
      this.msg.textContent = text;
      this.msg.title = title;
      this.msg.style.display = "";
    } else {
      this.msg.textContent = "";
      this.msg.style.display = "none";
    }
  }

  private connect(): void {
    if (this.destroyed) return;
    const ws = new WebSocket(wsUrl(`/api/live/${encodeURIComponent(this.cameraId)}${liveQuery(this.stream, this.h264)}`));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    let gotAny = false;
    ws.onopen = () => this.clock.socket(true);
    ws.onmessage = (m) => {
      gotAny = true;
      this.retry = 1000;
      if (typeof m.data === "string") this.onText(m.data);
      else this.onBinary(m.data as ArrayBuffer);
    };
    ws.onclose = (ev) => {
      if (this.destroyed) return;
      this.ws = null;
      this.clock.socket(false);
      if (ev.code === 4401 || ev.code === 4403 || ev.code === 4404 || ev.code === 1008) {
        const why =
          ev.code === 4404
            ? t("livetile.unknown")
            : ev.code === 4401
              ? t("livetile.expired")
              : t("livetile.refused", { reason: ev.reason || t("livetile.not_allowed") });
        this.setMessage(why, "error");
        return;
      }
      const why = gotAny
          ? t("livetile.lost")
          : ev.reason
            ? t("livetile.cannot_open_why", { reason: ev.reason })
            : t("livetile.cannot_open");
      const keep = ["offline", "undecodable", "limit"].includes(this.el.dataset.state ?? "");
      if (!keep) this.setMessage(why, "error");
      this.retryTimer = window.setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(Math.max(this.retry * 2, 1000), 10000);
    };
  }

  private onText(data: string): void {
    let m: LiveMessage;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (m.type === "codec") {
      this.resetMedia();
      this.mime = m.mime;
      const decision = codecDecision(this.mime, m.codec, this.h264);
      this.supported = decision === "play";
      if (decision === "ask-h264") {
        this.h264 = true; // this camera's own codec string is not playable here: the server transcodes it
        this.retry = 0;
        this.ws?.close();
        return;
      }
      if (!this.supported) {
        this.setMessage(t("h265.undecodable", { codec: codecName(m.codec) || this.mime }), "undecodable", this.mime);
        return;
      }
      setPath(this.badge, m.path ?? "native", m.codec);
      this.setMessage(t("livetile.waiting"), "waiting");
      this.openMedia();
    } else if (m.type === "transcode_limit") {
      this.setMessage(t("h265.limit", { limit: m.limit }), "limit");
      this.retry = 10000;
    } else if (m.type === "origin") {
      this.originWallMs = m.wall_ms;
    } else if (m.type === "offline") {
      const since = m.since_ms ?? Date.now();
      this.setMessage(
        t("livetile.offline", { since: fmtSince(since), reason: m.reason || t("livetile.unknown_reason") }),
        "offline",
        t("livetile.since", { utc: utcTitle(since) }),
      );
      this.resetMedia();
    }
  }

  private onBinary(buf: ArrayBuffer): void {
    if (!this.supported || !this.ms) return;
    this.queue.push(buf);
    this.pump();
  }

  private openMedia(): void {
    const ms = new MediaSource();
    this.ms = ms;
    this.url = URL.createObjectURL(ms);
    this.video.src = this.url;
    ms.addEventListener("sourceopen", () => {
      if (this.ms !== ms) return;
      try {
        this.sb = ms.addSourceBuffer(this.mime);
        this.sb.mode = "segments";
      } catch (e) {
        this.setMessage(t("livetile.cannot_play", { mime: this.mime, error: (e as Error).message }), "undecodable");
        return;
      }
      this.sb.addEventListener("updateend", () => this.afterAppend());
      this.pump();
    });
  }

  private resetMedia(): void {
    this.queue = [];
    this.sb = null;
    if (this.ms) {
      try {
        if (this.ms.readyState === "open") this.ms.endOfStream();
      } catch {
        /* already closed */
      }
    }
    this.ms = null;
    if (this.url) {
      URL.revokeObjectURL(this.url);
      this.url = "";
    }
    this.video.removeAttribute("src");
    this.video.load();
  }

  private pump(): void {
    const sb = this.sb;
    if (!sb || sb.updating || this.queue.length === 0) return;
    // Concatenate everything queued into one append: fewer updateend round trips when frames arrive in bursts.
    let buf: ArrayBuffer;
    if (this.queue.length === 1) buf = this.queue[0];
    else {
      const total = this.queue.reduce((a, b) => a + b.byteLength, 0);
      const u = new Uint8Array(total);
      let o = 0;
      for (const b of this.queue) {
        u.set(new Uint8Array(b), o);
        o += b.byteLength;
      }
      buf = u.buffer;
    }
    this.queue = [];
    try {
      sb.appendBuffer(buf);
    } catch (e) {
      if ((e as DOMException).name === "QuotaExceededError") {
        this.queue.unshift(buf);
        this.trim(true);
      } else {
        this.setMessage(t("livetile.video_error", { error: (e as Error).message }), "error");
      }
    }
  }

  private afterAppend(): void {
    const v = this.video;
    const sb = this.sb;
    if (!sb) return;
    const b = sb.buffered;
    if (b.length > 0) {
      const end = b.end(b.length - 1);
      if (this.el.dataset.state !== "playing" && this.el.dataset.state !== "offline") this.setMessage(null, "playing");
      const behind = end - v.currentTime;
      const lastStart = b.start(b.length - 1);
      // The server skips a slow client to the next keyframe: that leaves a hole in the buffer, which the
      // video would stall on, so anything outside the newest range jumps into it.
      if (v.currentTime < lastStart || behind > MAX_BEHIND_S) {
        v.currentTime = Math.max(lastStart, end - 0.05);
      }
      v.playbackRate = behind > SOFT_BEHIND_S ? 1.1 : 1.0;
      if (v.paused) v.play().catch(() => {});
    }
    this.trim(false);
    this.pump();
  }

  private trim(force: boolean): void {
    const sb = this.sb;
    if (!sb || sb.updating) return;
    const now = performance.now();
    if (!force && now - this.lastTrim < 2000) return;
    this.lastTrim = now;
    const b = sb.buffered;
    if (b.length === 0) return;
    const upTo = this.video.currentTime - (force ? 1 : KEEP_BEHIND_S);
    if (upTo > b.start(0)) {
      try {
        sb.remove(b.start(0), upTo);
      } catch {
        /* next time */
      }
    }
  }

  private watchFrames(): void {
    const v = this.video as HTMLVideoElement & { requestVideoFrameCallback?: RVFC };
    if (!v.requestVideoFrameCallback) return;
    const cb = (_now: number, meta: { presentationTime: number; mediaTime: number }) => {
      if (this.destroyed) return;
      if (Number.isFinite(this.originWallMs)) {
        const latency = performance.timeOrigin + meta.presentationTime - (this.originWallMs + meta.mediaTime * 1000);
        recordLive(this.cameraId, latency);
        this.clock.presented(this.originWallMs + meta.mediaTime * 1000);
      }
      this.rvfcHandle = v.requestVideoFrameCallback!(cb);
    };
    this.rvfcHandle = v.requestVideoFrameCallback(cb);
  }

  destroy(): void {
    this.destroyed = true;
    this.clock.destroy();
    window.clearTimeout(this.retryTimer);
    const v = this.video as HTMLVideoElement & { cancelVideoFrameCallback?: (h: number) => void };
    if (this.rvfcHandle && v.cancelVideoFrameCallback) v.cancelVideoFrameCallback(this.rvfcHandle);
    this.ws?.close();
    this.ws = null;
    this.resetMedia();
    this.el.remove();
  }
}
