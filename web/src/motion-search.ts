// Motion search on the playback screen: the investigator drags a rectangle on the first camera's picture, the range
// is the timeline's view (at most 24 h), and the hits come back as marks on the timeline and thumbnails (black under
// the camera's privacy masks); a click plays from the hit. Only "something changed in this area": never who or what.
// Design note: docs/design/motion-search.md ("Motion search").
import "./styles/motion.css";
import { type ApiError, request } from "./api";
import type { components } from "./api-types";
import { h } from "./dom";
import { num, t } from "./i18n";
import { pictureRect, regionOf } from "./motion-math";
import { me } from "./session";
import { fmtFull, fmtHMS } from "./time";

export type MotionResult = components["schemas"]["MotionSearchOut"];
export type MotionHit = components["schemas"]["MotionHitOut"];
export const MAX_RANGE_MS = 24 * 3600 * 1000;

/** What the playback screen lends the search. */
export interface MotionHost {
  cameraId(): string | null;
  videoBox(): HTMLElement | null;
  video(): HTMLVideoElement | null;
  range(): { fromMs: number; toMs: number };
  seek(ms: number): void;
  mark(hits: { startMs: number; endMs: number }[]): void;
}

export function canSearch(): boolean {
  return me()?.permissions.includes("motion.search") ?? false;
}

export function motionSearch(host: MotionHost): { button: HTMLElement; panel: HTMLElement; destroy: () => void } {
  let open = false;
  let region: number[][] | null = null;
  let overlay: HTMLElement | null = null;
  let busy = false;
  let dragging = false;
  const status = h("div", { class: "ms-status", "data-testid": "motion-status", role: "status" });
  const rangeEl = h("div", { class: "ms-range", "data-testid": "motion-range" });
  const hitsEl = h("div", { class: "ms-hits", "data-testid": "motion-hits" });
  const searchBtn = h("button", { "data-testid": "motion-run", disabled: true, onclick: () => run() }, t("motion.search"));
  const clearBtn = h("button", { "data-testid": "motion-clear", onclick: () => clearAll() }, t("motion.clear"));
  const panel = h(
    "div",
    { class: "ms-panel", "data-testid": "motion-panel", hidden: true },
    h("div", { class: "ms-head" }, h("b", {}, t("motion.toggle")), rangeEl, searchBtn, clearBtn),
    h("div", { class: "ms-hint" }, t("motion.draw"), " ", t("motion.masked")),
    status,
    hitsEl,
  );
  const button = h(
    "button",
    { "data-testid": "motion-toggle", title: t("motion.toggleTitle"), "aria-pressed": "false", onclick: () => toggle() },
    t("motion.toggle"),
  );
  button.hidden = !canSearch();
  let rangeTimer = 0;

  /** The drawn region over the picture as it is laid out now (the picture is resized with the screen). */
  function placeRect(): void {
    const rectEl = overlay?.querySelector<HTMLElement>(".ms-rect");
    if (!overlay || !rectEl || !region) return;
    const b = overlay.getBoundingClientRect();
    const v = host.video();
    const pic = pictureRect(b.width, b.height, v?.videoWidth ?? 0, v?.videoHeight ?? 0);
    const [x0, y0] = region[0];
    const [x1, y1] = region[2];
    const w = pic.x1 - pic.x0;
    const hh = pic.y1 - pic.y0;
    rectEl.hidden = false;
    rectEl.style.left = `${pic.x0 + x0 * w}px`;
    rectEl.style.top = `${pic.y0 + y0 * hh}px`;
    rectEl.style.width = `${(x1 - x0) * w}px`;
    rectEl.style.height = `${(y1 - y0) * hh}px`;
  }

  function showRange(): void {
    if (open) attach(); // the playback screen may have replaced the picture (a new player): the layer follows it
    if (!dragging) placeRect();
    const { fromMs, toMs } = host.range();
    rangeEl.textContent = t("motion.range", { from: fmtFull(fromMs), to: fmtFull(toMs) });
    const tooLong = toMs - fromMs > MAX_RANGE_MS;
    rangeEl.classList.toggle("bad", tooLong);
    rangeEl.title = tooLong ? t("motion.rangeTooLong") : "";
    searchBtn.disabled = busy || !region || tooLong || !host.cameraId();
  }

  function toggle(): void {
    open = !open;
    button.setAttribute("aria-pressed", String(open));
    button.classList.toggle("active", open);
    panel.hidden = !open;
    window.clearInterval(rangeTimer);
    if (open) {
      showRange();
      rangeTimer = window.setInterval(showRange, 500);
      if (!host.cameraId()) status.textContent = t("motion.noCamera");
    } else {
      overlay?.remove();
    }
  }

  /** The drawing layer over the picture: a drag draws the rectangle searched. */
  function attach(): void {
    const box = host.videoBox();
    if (!box || overlay?.parentElement === box) return;
    if (overlay) {
      box.append(overlay);
      return;
    }
    const rectEl = h("div", { class: "ms-rect", "data-testid": "motion-rect", hidden: true });
    const layer = h("div", { class: "ms-layer", "data-testid": "motion-layer" }, rectEl);
    overlay = layer;
    box.append(layer);
    let start: { x: number; y: number } | null = null;
    dragging = false;
    const at = (e: MouseEvent) => {
      const b = layer.getBoundingClientRect();
      return { x: e.clientX - b.left, y: e.clientY - b.top };
    };
    const draw = (a: { x: number; y: number }, b: { x: number; y: number }) => {
      rectEl.hidden = false;
      rectEl.style.left = `${Math.min(a.x, b.x)}px`;
      rectEl.style.top = `${Math.min(a.y, b.y)}px`;
      rectEl.style.width = `${Math.abs(a.x - b.x)}px`;
      rectEl.style.height = `${Math.abs(a.y - b.y)}px`;
    };
    layer.addEventListener("mousedown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      e.stopPropagation();
      start = at(e);
      dragging = true;
      draw(start, start);
    });
    layer.addEventListener("mousemove", (e) => {
      if (start) draw(start, at(e));
    });
    const finish = (e: MouseEvent) => {
      if (!start) return;
      const end = at(e);
      const b = layer.getBoundingClientRect();
      const v = host.video();
      region = regionOf({ x0: start.x, y0: start.y, x1: end.x, y1: end.y }, pictureRect(b.width, b.height, v?.videoWidth ?? 0, v?.videoHeight ?? 0));
      start = null;
      dragging = false;
      layer.dataset.region = region ? JSON.stringify(region) : "";
      if (!region) rectEl.hidden = true;
      showRange();
    };
    layer.addEventListener("mouseup", finish);
    layer.addEventListener("mouseleave", (e) => {
      if (start) finish(e);
    });
  }

  function clearAll(): void {
    region = null;
    if (overlay) {
      overlay.dataset.region = "";
      const r = overlay.querySelector<HTMLElement>(".ms-rect");
      if (r) r.hidden = true;
    }
    hitsEl.replaceChildren();
    status.textContent = "";
    host.mark([]);
    showRange();
  }

  function run(): void {
    const id = host.cameraId();
    if (!id || !region || busy) return;
    const { fromMs, toMs } = host.range();
    busy = true;
    showRange();
    status.textContent = t("motion.searching");
    status.dataset.state = "busy";
    request<MotionResult>("POST", `/api/cameras/${encodeURIComponent(id)}/motion-search`, {
      from_ms: Math.floor(fromMs),
      to_ms: Math.ceil(toMs),
      region,
    })
      .then((res) => show(res))
      .catch((e) => {
        status.textContent = t("motion.failed", { error: (e as ApiError).message });
        status.dataset.state = "error";
      })
      .finally(() => {
        busy = false;
        showRange();
      });
  }

  function show(res: MotionResult): void {
    status.dataset.state = "done";
    status.dataset.hits = String(res.hits.length);
    status.textContent = res.hits.length === 0 ? t("motion.none") : t("motion.found", { n: num(res.hits.length) });
    if (res.truncated) status.textContent += ` ${t("motion.truncated", { n: num(res.hits.length) })}`;
    host.mark(res.hits.map((x) => ({ startMs: x.start_ms, endMs: x.end_ms })));
    hitsEl.replaceChildren(
      ...res.hits.map((hit: MotionHit) => {
        const pct = num(hit.score, { style: "percent", maximumFractionDigits: 1 });
        return h(
          "button",
          {
            class: "ms-hit",
            "data-testid": "motion-hit",
            "data-start-ms": hit.start_ms,
            "data-end-ms": hit.end_ms,
            title: t("motion.hitTitle", { from: fmtHMS(hit.start_ms), to: fmtHMS(hit.end_ms), score: pct }),
            onclick: () => host.seek(hit.start_ms),
          },
          hit.thumb ? h("img", { src: hit.thumb, alt: t("motion.thumbAlt", { time: fmtFull(hit.start_ms) }) }) : "",
          h("span", {}, fmtHMS(hit.start_ms)),
        );
      }),
    );
  }

  return {
    button,
    panel,
    destroy: () => {
      window.clearInterval(rangeTimer);
      overlay?.remove();
    },
  };
}
