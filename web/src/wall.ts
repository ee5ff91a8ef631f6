// Live wall: 1, 4, 9 or 16 tiles (keys 1 4 9 6, or the buttons). Cameras come from #/live?cams=a,b&n=4;
// missing ones are filled with recording cameras from the registry.
import { cameras } from "./cameras";
import { go, h } from "./dom";
import { LivePlayer } from "./live";

const SIZES = [1, 4, 9, 16];

export function mountWall(root: HTMLElement, params: URLSearchParams): () => void {
  const n = SIZES.includes(Number(params.get("n"))) ? Number(params.get("n")) : 4;
  const wanted = (params.get("cams") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const grid = h("div", { class: `wall wall-${n}`, "data-testid": "live-wall", "data-size": n });
  const camsInput = h("input", {
    type: "text", value: wanted.join(","), placeholder: "camera ids, comma separated", size: 50,
    "data-testid": "wall-cameras", "aria-label": "cameras on the wall",
  });
  // Changing the layout keeps the cameras asked for (a 16 -> 4 -> 16 round trip gives the same wall).
  const setSize = (k: number) => go("live", { n: k, cams: [...new Set([...currentIds(), ...wanted])].join(",") });
  const bar = h(
    "div",
    { class: "toolbar" },
    h("span", {}, "Tiles:"),
    ...SIZES.map((k) =>
      h("button", { class: k === n ? "active" : "", "data-testid": `wall-size-${k}`, title: `key ${k === 16 ? 6 : k}`, onclick: () => setSize(k) }, String(k)),
    ),
    camsInput,
    h("button", { onclick: () => go("live", { n, cams: camsInput.value.replace(/\s+/g, "") }) }, "Show"),
    h("span", { class: "hint" }, "keys 1 4 9 6: layout"),
  );
  root.append(h("div", { class: "screen wall-screen" }, bar, grid));
  const players: LivePlayer[] = [];
  let ids: string[] = [];
  const currentIds = () => ids;
  let alive = true;

  cameras()
    .then((store) => {
      if (!alive) return;
      ids = wanted.slice(0, n);
      for (let i = 0; i < store.count && ids.length < n; i++) {
        if (store.state[i] === 0 && !ids.includes(store.id(i))) ids.push(store.id(i));
      }
      camsInput.value = ids.join(",");
      for (const id of ids) {
        // A tile of a 4-, 9- or 16-tile wall is small: its camera's substream looks the same and costs a fraction
        // to decode (16 main streams at 720p would need more than a control-room PC's CPU without a GPU decoder).
        const p = new LivePlayer(id, store.nameOf(id), { stream: n > 1 ? "sub" : "main" });
        p.el.title = "double-click: playback of this camera";
        p.el.addEventListener("dblclick", () => go("playback", { cams: id }));
        players.push(p);
        grid.append(p.el);
      }
      if (ids.length === 0) grid.append(h("div", { class: "empty" }, "no recording camera to show"));
    })
    .catch((e) => grid.append(h("div", { class: "error" }, `cannot load cameras: ${(e as Error).message}`)));

  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
    const k = { "1": 1, "4": 4, "9": 9, "6": 16 }[e.key];
    if (k && k !== n) setSize(k);
  };
  window.addEventListener("keydown", onKey);
  return () => {
    alive = false;
    window.removeEventListener("keydown", onKey);
    for (const p of players) p.destroy();
  };
}
