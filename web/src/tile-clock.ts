// A live tile's picture clock (docs/design/never-stale.md): the wall-clock time of the picture on screen (the
// origin message's wall time + the presented frame's mediaTime, as the latency statistics compute it), amber
// (data-freshness="delayed") when that picture is more than a second old, red ("stopped", with the age) when no
// picture has been presented for ~2 s while the socket is open, or at once when the socket is closed.
import { h } from "./dom";
import { t } from "./i18n";
import { fmtHMS, utcTitle } from "./time";
import "./styles/stale.css";

export type Freshness = "waiting" | "live" | "delayed" | "stopped";
export const DELAYED_MS = 1000;
/** Back to "live" only below this: a tile hovering around one second does not flicker. */
export const LIVE_AGAIN_MS = 800;
export const STOPPED_MS = 2000;

export interface FreshnessInput {
  /** How old the newest presented picture is now (wall clock - its wall time), ms; null before the first. */
  behindMs: number | null;
  /** Since the newest picture was presented (this browser's clock), ms; null before the first. */
  sincePresentedMs: number | null;
  socketOpen: boolean;
  prev: Freshness;
}

/** The freshness policy, as a function of ages (pure). */
export function freshness(i: FreshnessInput): Freshness {
  if (i.sincePresentedMs === null || i.behindMs === null) return i.socketOpen ? "waiting" : "stopped";
  if (!i.socketOpen || i.sincePresentedMs > STOPPED_MS) return "stopped";
  if (i.behindMs > DELAYED_MS) return "delayed";
  if (i.prev === "delayed" && i.behindMs > LIVE_AGAIN_MS) return "delayed";
  return "live";
}

/** The clock's text for a freshness (whole seconds of age; behind with one decimal). */
export function clockText(f: Freshness, pictureMs: number | null, behindMs: number | null, sincePresentedMs: number | null): string {
  if (pictureMs === null) return f === "stopped" ? t("livetile.nopicture") : "";
  const time = fmtHMS(pictureMs);
  if (f === "stopped") return t("livetile.stopped_at", { time, age: Math.max(0, Math.round((sincePresentedMs ?? 0) / 1000)) });
  if (f === "delayed") return t("livetile.delayed", { time, behind: ((behindMs ?? 0) / 1000).toFixed(1) });
  return t("livetile.clock", { time });
}

const clocks = new Set<TileClock>();
let ticker = 0;

/** One tile's clock: told of presented pictures and of its socket; re-rendered 4 times a second (one timer for all). */
export class TileClock {
  readonly el: HTMLElement;
  private pictureMs: number | null = null; // wall time of the newest presented picture
  private presentedAt: number | null = null; // performance.now() when it was presented
  private open = false;
  private state: Freshness = "waiting";

  constructor(private readonly tile: HTMLElement) {
    this.el = h("div", { class: "tile-clock", "data-testid": "tile-clock" });
    tile.append(this.el);
    clocks.add(this);
    if (!ticker) ticker = window.setInterval(() => clocks.forEach((c) => c.render()), 250);
    this.render();
  }

  /** A picture taken at wall time `pictureMs` was just presented. */
  presented(pictureMs: number): void {
    if (!Number.isFinite(pictureMs)) return;
    this.pictureMs = pictureMs;
    this.presentedAt = performance.now();
  }

  socket(open: boolean): void {
    this.open = open;
    this.render();
  }

  render(): void {
    const now = performance.now();
    const since = this.presentedAt === null ? null : now - this.presentedAt;
    const behind = this.pictureMs === null ? null : performance.timeOrigin + now - this.pictureMs;
    this.state = freshness({ behindMs: behind, sincePresentedMs: since, socketOpen: this.open, prev: this.state });
    this.tile.dataset.freshness = this.state;
    this.el.textContent = clockText(this.state, this.pictureMs, behind, since);
    this.el.hidden = this.el.textContent === "";
    this.el.title = this.pictureMs === null ? "" : t("livetile.title", { utc: utcTitle(this.pictureMs) });
    if (behind !== null) this.el.dataset.behindMs = String(Math.round(behind));
  }

  destroy(): void {
    clocks.delete(this);
    if (clocks.size === 0 && ticker) {
      window.clearInterval(ticker);
      ticker = 0;
    }
    this.el.remove();
  }
}
