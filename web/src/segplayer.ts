// Plays recorded segments of one camera into one <video> through MSE. Each segment file is a fragmented MP4
// whose media time starts at 0, so it is appended with timestampOffset = (start_ms - origin_ms) / 1000 and the
// video's currentTime is (wall_ms - origin_ms) / 1000 for every segment: seeking is plain arithmetic.
import { ApiError, segmentMediaUrl, type SegmentInfo } from "./api";
import { pathBadge, segmentUrl, setPath } from "./h265";
import { t } from "./i18n";
import { indexFragments, seekOrder } from "./mp4";
import { playableMime, withoutAudio } from "./mp4audio";

const KEEP_BEHIND_MS = 90_000;
const KEEP_AHEAD_MS = 240_000;

export class SegmentPlayer {
  readonly video: HTMLVideoElement;
  private ms = new MediaSource();
  private sb: SourceBuffer | null = null;
  private opened: Promise<void>;
  private chain: Promise<unknown> = Promise.resolve();
  private loaded = new Map<string, SegmentInfo>();
  private inflight = new Map<string, Promise<void>>();
  private fetched = new Map<string, Promise<ArrayBuffer>>();
  mime: string | null = null;
  /** Which path the pictures take (native, or H.265 transcoded to H.264 by the server): shown on the tile. */
  readonly badge = pathBadge();
  unsupported: string | null = null;
  private url: string;

  constructor(
    readonly cameraId: string,
    readonly originMs: number,
  ) {
    this.video = document.createElement("video");
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.preload = "auto";
    this.video.dataset.testid = "playback-video";
    this.url = URL.createObjectURL(this.ms);
    this.video.src = this.url;
    this.opened = new Promise((res) => this.ms.addEventListener("sourceopen", () => res(), { once: true }));
  }

  toMedia(wallMs: number): number {
    return (wallMs - this.originMs) / 1000;
  }

  toWall(mediaS: number): number {
    return this.originMs + mediaS * 1000;
  }

  isLoaded(seg: SegmentInfo): boolean {
    return this.loaded.has(String(seg.id));
  }

  private indexes = new Map<string, ReturnType<typeof indexFragments>>();

  /** Wall time of the keyframe at or before `wall` in this segment (fetching the segment if needed). */
  async keyframeBefore(seg: SegmentInfo, wall: number): Promise<number> {
    const key = String(seg.id);
    if (!this.indexes.has(key)) {
      this.indexes.set(key, indexFragments(await this.fetchSeg(seg)));
      if (this.indexes.size > 16) this.indexes.delete(this.indexes.keys().next().value as string);
    }
    const idx = this.indexes.get(key);
    if (!idx) return wall;
    const rel = (wall - seg.start_ms) / 1000;
    let best = 0;
    for (const f of idx.fragments) {
      if (f.timeS > rel) break;
      if (f.key !== false) best = f.timeS;
    }
    return seg.start_ms + best * 1000;
  }

  /** Fetch without appending (prefetch the next segment). */
  prefetch(seg: SegmentInfo): void {
    this.fetchSeg(seg).catch(() => {});
  }

  private fetchSeg(seg: SegmentInfo): Promise<ArrayBuffer> {
    const key = String(seg.id);
    let p = this.fetched.get(key);
    if (!p) {
      const { url, path } = segmentUrl(segmentMediaUrl(seg.id), seg.codec);
      p = fetch(url, { credentials: "same-origin" }).then(async (r) => {
        if (r.status === 503 && path !== "native") throw new ApiError(r.status, t("h265.segment.limit"));
        if (!r.ok) throw new ApiError(r.status, r.status === 404 ? t("playback.segmentGone") : t("playback.segmentFailed", { status: r.status }));
        setPath(this.badge, path, path === "native" ? seg.codec : "h264");
        return r.arrayBuffer();
      });
      this.fetched.set(key, p);
      p.catch(() => this.fetched.delete(key));
      if (this.fetched.size > 6) this.fetched.delete(this.fetched.keys().next().value as string);
    }
    return p;
  }

  /**
   * Append the segment if it is not buffered yet. Resolves when the picture at `targetWall` (default: the
   * segment's start) is playable: the fragments around the target go first, the rest follows in the background.
   */
  ensure(seg: SegmentInfo, targetWall?: number): Promise<void> {
    const key = String(seg.id);
    if (this.loaded.has(key)) return Promise.resolve();
    let p = this.inflight.get(key);
    if (p) return p;
    p = (async () => {
      const fetched = await this.fetchSeg(seg);
      await this.opened;
      // Audio where the browser plays it (AAC, Opus); G.711 is dropped here, the pictures play (docs/design/audio.md).
      const fallback = seg.codec === "h265" ? 'video/mp4; codecs="hvc1.1.6.L93.B0"' : 'video/mp4; codecs="avc1.640028"';
      const playable = playableMime(fetched, fallback);
      const data = playable.dropAudio ? withoutAudio(fetched) : fetched;
      if (!this.sb) {
        this.mime = playable.mime;
        if (!MediaSource.isTypeSupported(this.mime)) {
          this.unsupported = /hvc1|hev1/.test(this.mime) ? t("playback.noH265") : t("playback.noCodec", { mime: this.mime });
          throw new Error(this.unsupported);
        }
        this.sb = this.ms.addSourceBuffer(this.mime);
        this.sb.mode = "segments";
      } else if (playable.mime !== this.mime) {
        await this.run(() => this.changeType(playable.mime)); // audio switched on or off between two segments
      }
      const chunks = this.chunksFor(data, seg, targetWall);
      const appendAll = async (list: ArrayBuffer[]) => {
        const sb = this.sb!;
        await this.waitIdle();
        sb.timestampOffset = (seg.start_ms - this.originMs) / 1000;
        for (const c of list) {
          try {
            await this.append(c);
          } catch (e) {
            if ((e as DOMException).name !== "QuotaExceededError") throw e;
            await this.trimAround(seg.start_ms, true);
            await this.append(c);
          }
        }
      };
      await this.run(() => appendAll(chunks.slice(0, 1)));
      this.loaded.set(key, seg);
      if (chunks.length > 1) void this.run(() => appendAll(chunks.slice(1))).catch(() => {});
    })();
    this.inflight.set(key, p);
    p.finally(() => this.inflight.delete(key)).catch(() => {});
    return p;
  }

  /** Whole file, or [init + fragments around the target, the rest after, the part before] for big files. */
  private chunksFor(data: ArrayBuffer, seg: SegmentInfo, targetWall?: number): ArrayBuffer[] {
    if (targetWall === undefined || data.byteLength < 512 * 1024) return [data];
    const idx = indexFragments(data);
    if (!idx) return [data];
    const parts = seekOrder(idx, Math.max(0, (targetWall - seg.start_ms) / 1000));
    if (parts.length === 1) return [data];
    const [a, b] = parts[0];
    const first = new Uint8Array(idx.initEnd + (b - a));
    first.set(new Uint8Array(data, 0, idx.initEnd), 0);
    first.set(new Uint8Array(data, a, b - a), idx.initEnd);
    return [first.buffer, ...parts.slice(1).map(([x, y]) => data.slice(x, y))];
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private waitIdle(): Promise<void> {
    const sb = this.sb!;
    if (!sb.updating) return Promise.resolve();
    return new Promise((res) => sb.addEventListener("updateend", () => res(), { once: true }));
  }

  private async append(data: ArrayBuffer): Promise<void> {
    const sb = this.sb!;
    await this.waitIdle();
    await new Promise<void>((res, rej) => {
      const ok = () => (cleanup(), res());
      const bad = () => (cleanup(), rej(new Error(t("playback.cannotDecode"))));
      const cleanup = () => {
        sb.removeEventListener("updateend", ok);
        sb.removeEventListener("error", bad);
      };
      sb.addEventListener("updateend", ok);
      sb.addEventListener("error", bad);
      try {
        sb.appendBuffer(data);
      } catch (e) {
        cleanup();
        rej(e);
      }
    });
  }

  private async changeType(mime: string): Promise<void> {
    await this.waitIdle();
    this.sb!.changeType(mime);
    this.mime = mime;
  }

  private async remove(a: number, b: number): Promise<void> {
    const sb = this.sb!;
    await this.waitIdle();
    await new Promise<void>((res) => {
      sb.addEventListener("updateend", () => res(), { once: true });
      try {
        sb.remove(Math.max(0, a), b);
      } catch {
        res();
      }
    });
  }

  /** Drop buffered segments far from wall time t (all but the current one when `hard`). */
  trimAround(t: number, hard = false): Promise<void> {
    if (!this.sb) return Promise.resolve();
    const drop = [...this.loaded.entries()].filter(([, s]) =>
      hard ? !(s.start_ms <= t && t < s.end_ms) : s.end_ms < t - KEEP_BEHIND_MS || s.start_ms > t + KEEP_AHEAD_MS,
    );
    if (drop.length === 0) return Promise.resolve();
    const job = async () => {
      for (const [k, s] of drop) {
        this.loaded.delete(k);
        await this.remove(this.toMedia(s.start_ms), this.toMedia(s.end_ms));
      }
    };
    return hard ? job() : this.run(job);
  }

  seekWall(t: number): void {
    const m = this.toMedia(t);
    if (Math.abs(this.video.currentTime - m) > 0.001) this.video.currentTime = m;
  }

  /** Wall time where the buffered range holding wall time `at` ends (null when `at` is not buffered). */
  bufferedEndWall(at: number): number | null {
    const m = this.toMedia(at);
    const b = this.video.buffered;
    for (let i = 0; i < b.length; i++) if (b.start(i) - 0.001 <= m && m <= b.end(i) + 0.001) return this.toWall(b.end(i));
    return null;
  }

  wallNow(): number {
    return this.toWall(this.video.currentTime);
  }

  destroy(): void {
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
    URL.revokeObjectURL(this.url);
  }
}
