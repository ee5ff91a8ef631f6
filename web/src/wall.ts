// Live wall: 1, 4, 9 or 16 tiles (keys 1 4 9 6, or the buttons). #/live?n=4&cams=a,,c&layout=7: the camera of each
// tile in order ("" an empty tile); without a layout, tiles past the list are filled with recording cameras.
// Finding cameras (docs/design/finding-cameras.md): the search box puts its choice on the selected tile (then selects
// the next), the camera tree beside the wall drags onto any tile (or Enter puts the focused camera on the selected
// tile), and saved layouts (layouts.ts) load, save, rename and delete walls. A tile is replaced in place: the
// other tiles keep their video.
import { cameras, type CameraStore } from "./cameras";
import { cameraInput } from "./camera-picker";
import { CAMERA_MIME, CameraTree } from "./camera-tree";
import { go, h } from "./dom";
import { t } from "./i18n";
import { layoutBar, wantedTiles, type Layout } from "./layouts";
import { LivePlayer } from "./live";
import "./styles/finder.css";

const SIZES = [1, 4, 9, 16];

interface Slot {
  el: HTMLElement;
  id: string;
  player: LivePlayer | null;
}

export function mountWall(root: HTMLElement, params: URLSearchParams): () => void {
  const n = SIZES.includes(Number(params.get("n"))) ? Number(params.get("n")) : 4;
  const layoutId = params.get("layout") ? Number(params.get("layout")) : null;
  const wanted = wantedTiles(params.get("cams"), n);
  const grid = h("div", { class: `wall wall-${n}`, "data-testid": "live-wall", "data-size": n });
  const slots: Slot[] = [];
  let selected = 0;
  let store: CameraStore | null = null;
  let tree: CameraTree | null = null;
  let alive = true;

  const ids = () => slots.map((s) => s.id);
  // Commas left readable (camera ids are letters, digits and . _ : -): #/live?n=4&cams=a,,c
  const url = () => `#/live?n=${n}&cams=${ids().map(encodeURIComponent).join(",")}${layoutId != null ? `&layout=${layoutId}` : ""}`;
  // Changing the size keeps the cameras asked for (a 16 -> 4 -> 16 round trip gives the same wall).
  const setSize = (k: number) => {
    const keep = ids().slice();
    for (let i = keep.length; i < wanted.length; i++) keep.push(wanted[i]);
    go("live", { n: k, cams: keep.join(","), layout: layoutId ?? undefined });
  };

  const select = (k: number) => {
    selected = (k + slots.length) % Math.max(1, slots.length);
    slots.forEach((s, j) => s.el.classList.toggle("selected", j === selected));
    slots.forEach((s, j) => s.el.setAttribute("aria-selected", String(j === selected)));
  };

  const fillSlot = (s: Slot, k: number, id: string) => {
    s.player?.destroy();
    s.player = null;
    s.id = id;
    s.el.dataset.camera = id;
    const num = h("span", { class: "slot-number", "aria-hidden": "true" }, String(k + 1));
    if (!id) {
      s.el.replaceChildren(num, h("div", { class: "empty-tile", "data-testid": "empty-tile" }, t("finder.wall.empty")));
      return;
    }
    // A tile of a 4-, 9- or 16-tile wall is small: its camera's substream looks the same and costs a fraction
    // to decode (16 main streams at 720p would need more than a control-room PC's CPU without a GPU decoder).
    const p = new LivePlayer(id, store?.nameOf(id) ?? id, { stream: n > 1 ? "sub" : "main" });
    p.el.title = t("finder.wall.tileTitle");
    p.el.addEventListener("dblclick", () => go("playback", { cams: id }));
    s.player = p;
    s.el.replaceChildren(num, p.el);
  };

  /** Put a camera on tile k (replacing what it showed), keep the URL in step without re-mounting the wall. */
  const place = (k: number, id: string) => {
    if (!alive || k < 0 || k >= slots.length) return;
    fillSlot(slots[k], k, id);
    history.replaceState(history.state, "", url());
  };

  const placeOnSelected = (id: string) => {
    place(selected, id);
    select(selected + 1);
  };

  const makeSlot = (k: number): Slot => {
    const el = h("div", {
      class: "wall-slot",
      tabindex: "0",
      role: "gridcell",
      "data-testid": "wall-slot",
      "data-index": k,
      "aria-label": t("finder.wall.tile", { n: k + 1 }),
    });
    const s: Slot = { el, id: "", player: null };
    el.addEventListener("focus", () => select(k));
    el.addEventListener("click", () => select(k));
    el.addEventListener("dragover", (e) => {
      if (!e.dataTransfer?.types.includes(CAMERA_MIME)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
      el.classList.add("drop-target");
    });
    el.addEventListener("dragleave", () => el.classList.remove("drop-target"));
    el.addEventListener("drop", (e) => {
      el.classList.remove("drop-target");
      const id = e.dataTransfer?.getData(CAMERA_MIME);
      if (!id) return;
      e.preventDefault();
      place(k, id);
      select(k);
    });
    el.addEventListener("keydown", (e) => {
      if (e.target !== el) return;
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        place(k, "");
      }
    });
    return s;
  };

  const picker = cameraInput({ testid: "wall-search", label: t("finder.wall.searchLabel"), clearOnPick: true, onPick: placeOnSelected });
  const side = h("aside", { class: "wall-side", "data-testid": "wall-side", "aria-label": t("finder.tree.label") });
  const bar = h(
    "div",
    { class: "toolbar" },
    h("span", {}, t("finder.wall.tiles")),
    ...SIZES.map((k) =>
      h(
        "button",
        { class: k === n ? "active" : "", "data-testid": `wall-size-${k}`, title: t("finder.wall.sizeKey", { key: k === 16 ? 6 : k }), onclick: () => setSize(k) },
        String(k),
      ),
    ),
    picker,
    h("span", { class: "hint" }, t("finder.wall.hint")),
  );
  const layouts = layoutBar({
    selected: layoutId,
    current: () => ({ size: n, cameras: ids() }),
    load: (l: Layout) => go("live", { n: l.size, cams: l.cameras.map((c) => c ?? "").join(",") || ",", layout: l.id }),
  });
  root.append(h("div", { class: "screen wall-screen" }, bar, layouts, h("div", { class: "wall-body" }, side, grid)));

  cameras()
    .then((s) => {
      if (!alive) return;
      store = s;
      const tiles = wanted.slice();
      if (layoutId == null) {
        for (let i = 0; i < s.count && tiles.length < n; i++) {
          if (s.state[i] === 0 && !tiles.includes(s.id(i))) tiles.push(s.id(i));
        }
      }
      while (tiles.length < n) tiles.push("");
      for (let k = 0; k < n; k++) {
        const slot = makeSlot(k);
        slots.push(slot);
        grid.append(slot.el);
        fillSlot(slot, k, tiles[k]);
      }
      select(0);
      history.replaceState(history.state, "", url());
      tree = new CameraTree(s, placeOnSelected);
      side.append(tree.el);
      if (tiles.every((c) => !c) && layoutId == null) side.prepend(h("div", { class: "empty" }, t("finder.wall.noneRecording")));
    })
    .catch((e) => grid.append(h("div", { class: "error" }, t("finder.wall.cannotLoad", { why: (e as Error).message }))));

  const onKey = (e: KeyboardEvent) => {
    const el = e.target as HTMLElement | null;
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return;
    if (el?.closest?.("[role=tree]")) return;
    const k = { "1": 1, "4": 4, "9": 9, "6": 16 }[e.key];
    if (k && k !== n) setSize(k);
  };
  window.addEventListener("keydown", onKey);
  return () => {
    alive = false;
    window.removeEventListener("keydown", onKey);
    tree?.destroy();
    for (const s of slots) s.player?.destroy();
  };
}
