// Saved wall layouts (name, size, the camera of each tile), kept on the server per user (/api/layouts): a layout
// follows its user to any desk. The bar on the live wall: choose one to load it, type a name and save the wall as it
// is (a name you already have overwrites that layout), rename or delete the chosen one.
import { ApiError, request } from "./api";
import type { components } from "./api-types";
import { h } from "./dom";
import { t } from "./i18n";

export type Layout = components["schemas"]["LayoutOut"];

export const layoutsApi = {
  list: () => request<Layout[]>("GET", "/api/layouts"),
  create: (name: string, size: number, cameras: (string | null)[]) => request<Layout>("POST", "/api/layouts", { name, size, cameras }),
  replace: (id: number, name: string, size: number, cameras: (string | null)[]) =>
    request<Layout>("PUT", `/api/layouts/${id}`, { name, size, cameras }),
  rename: (id: number, name: string) => request<Layout>("POST", `/api/layouts/${id}/rename`, { name }),
  remove: (id: number) => request<void>("DELETE", `/api/layouts/${id}`),
};

export interface WallState {
  size: number;
  /** The camera of each tile ("" for an empty one). */
  cameras: string[];
}

/** The tiles asked for by the URL (cams=a,,c): the camera of each, in order ("" empty), at most n. */
export function wantedTiles(cams: string | null, n: number): string[] {
  if (!cams) return [];
  return cams.split(",").map((s) => s.trim()).slice(0, n);
}

/** Tiles as the API takes them: null for an empty tile, trailing empty tiles left out. */
export function tilesForApi(cameras: string[]): (string | null)[] {
  const out = cameras.map((c) => c || null);
  while (out.length && out[out.length - 1] === null) out.pop();
  return out;
}

/** The layout bar. `current` says what the wall shows; `load` shows a layout (the wall re-mounts with it). */
export function layoutBar(opts: {
  selected: number | null;
  current: () => WallState;
  load: (l: Layout) => void;
}): HTMLElement {
  const select = h("select", { "data-testid": "layout-select", "aria-label": t("finder.layout.choose") });
  const name = h("input", {
    type: "text",
    maxlength: 80,
    size: 16,
    placeholder: t("finder.layout.name"),
    "aria-label": t("finder.layout.name"),
    "data-testid": "layout-name",
  });
  const status = h("span", { class: "layout-status", "data-testid": "layout-status", role: "status" });
  let mine: Layout[] = [];
  const chosen = () => mine.find((l) => String(l.id) === select.value) ?? null;
  const say = (text: string) => (status.textContent = text);
  const fail = (e: unknown) => say(e instanceof ApiError ? t("finder.layout.refused", { why: e.detail }) : String(e));

  const fill = (selectId: number | null) => {
    select.replaceChildren(
      h("option", { value: "" }, mine.length ? t("finder.layout.pick") : t("finder.layout.none")),
      ...mine.map((l) => h("option", { value: String(l.id), "data-testid": "layout-option" }, l.name)),
    );
    select.value = selectId != null && mine.some((l) => l.id === selectId) ? String(selectId) : "";
    const l = chosen();
    if (l) {
      name.value = l.name;
      if (l.dropped) say(t("finder.layout.dropped", { n: l.dropped }));
    }
  };
  const refresh = async (selectId: number | null) => {
    mine = await layoutsApi.list();
    fill(selectId);
  };

  select.addEventListener("change", () => {
    const l = chosen();
    if (l) opts.load(l);
  });
  const save = async () => {
    const wanted = name.value.trim();
    if (!wanted) return say(t("finder.layout.needName"));
    const { size, cameras } = opts.current();
    const same = mine.find((l) => l.name === wanted);
    try {
      const l = same
        ? await layoutsApi.replace(same.id, wanted, size, tilesForApi(cameras))
        : await layoutsApi.create(wanted, size, tilesForApi(cameras));
      await refresh(l.id);
      say(t("finder.layout.saved", { name: l.name }));
      opts.load(l); // the URL now names the layout
    } catch (e) {
      fail(e);
    }
  };
  const rename = async () => {
    const l = chosen();
    if (!l) return say(t("finder.layout.pickFirst"));
    try {
      const r = await layoutsApi.rename(l.id, name.value.trim());
      await refresh(r.id);
      say(t("finder.layout.renamed", { name: r.name }));
    } catch (e) {
      fail(e);
    }
  };
  const remove = async () => {
    const l = chosen();
    if (!l) return say(t("finder.layout.pickFirst"));
    try {
      await layoutsApi.remove(l.id);
      await refresh(null);
      name.value = "";
      say(t("finder.layout.deleted", { name: l.name }));
    } catch (e) {
      fail(e);
    }
  };
  name.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void save();
  });
  void refresh(opts.selected).catch(fail);
  return h(
    "div",
    { class: "layout-bar", "data-testid": "layout-bar" },
    h("span", {}, t("finder.layout.title")),
    select,
    name,
    h("button", { "data-testid": "layout-save", onclick: () => void save() }, t("finder.layout.save")),
    h("button", { "data-testid": "layout-rename", onclick: () => void rename() }, t("finder.layout.rename")),
    h("button", { "data-testid": "layout-delete", onclick: () => void remove() }, t("finder.layout.delete")),
    status,
  );
}
