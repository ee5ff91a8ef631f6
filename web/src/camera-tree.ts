// The camera tree: districts > sites > cameras of the user's own camera list, each node with its camera count and a
// coloured count per state (recording, offline, ...). Only expanded nodes are in the DOM (62,000 cameras would be
// 62,000 rows), counts are kept current from the store's batched changes. Cameras are dragged onto a wall tile
// (dataTransfer "application/x-camgrid-camera" = camera id) or, from the keyboard, chosen with Enter (onPick).
// An ARIA tree: arrows move, Right/Left open and close, Enter or Space chooses a camera or toggles a group.
import { STATE_COLOURS, STATES, type CameraStore } from "./cameras";
import { indexFor } from "./camera-index";
import { h } from "./dom";
import { t } from "./i18n";

export const CAMERA_MIME = "application/x-camgrid-camera";

interface Group {
  key: string;
  label: string;
  level: number;
  members: number[]; // camera indexes
  children: Group[] | null; // null: a site (its children are cameras)
}

/** Districts (by name) > sites (by name) > cameras (by id), from the camera list. Pure: tested in vitest. */
export function groupCameras(store: Pick<CameraStore, "count" | "cols">): Group[] {
  const ix = indexFor(store.cols);
  const districts = new Map<string, Map<string, number[]>>();
  for (let i = 0; i < store.count; i++) {
    const d = store.cols.district[i] ?? "";
    const s = store.cols.site[i] ?? "";
    let sites = districts.get(d);
    if (!sites) districts.set(d, (sites = new Map()));
    let cams = sites.get(s);
    if (!cams) sites.set(s, (cams = []));
    cams.push(i);
  }
  const byLabel = (a: Group, b: Group) => a.label.localeCompare(b.label, undefined, { numeric: true });
  const out: Group[] = [];
  for (const [d, sites] of districts) {
    const children: Group[] = [];
    const all: number[] = [];
    for (const [s, cams] of sites) {
      cams.sort((a, b) => store.cols.id[a].localeCompare(store.cols.id[b], undefined, { numeric: true }));
      children.push({ key: `s:${d}/${s}`, label: ix.siteName(cams[0]) || s, level: 2, members: cams, children: null });
      for (const c of cams) all.push(c);
    }
    children.sort(byLabel);
    out.push({ key: `d:${d}`, label: ix.districtName(all[0]) || d, level: 1, members: all, children });
  }
  return out.sort(byLabel);
}

export class CameraTree {
  readonly el: HTMLElement;
  private readonly open = new Set<string>();
  private groups: Group[];
  private readonly badges = new Map<string, { group: Group; el: HTMLElement }>();
  private readonly leaves = new Map<number, HTMLElement>();
  private readonly off: () => void;

  constructor(
    private readonly store: CameraStore,
    private readonly onPick: (id: string) => void,
  ) {
    this.groups = groupCameras(store);
    this.el = h("ul", { role: "tree", class: "camera-tree", "data-testid": "camera-tree", "aria-label": t("finder.tree.label") });
    this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.render();
    this.off = store.onChange((changed) => this.refresh(changed));
  }

  destroy(): void {
    this.off();
    this.el.remove();
  }

  /** Open the groups on the way to a camera (tests and the "show in tree" of other screens). */
  reveal(id: string): void {
    const i = this.store.index.get(id);
    if (i === undefined) return;
    this.open.add(`d:${this.store.cols.district[i]}`);
    this.open.add(`s:${this.store.cols.district[i]}/${this.store.cols.site[i]}`);
    this.render();
  }

  private render(): void {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
    this.badges.clear();
    this.leaves.clear();
    this.el.replaceChildren(...this.groups.map((g) => this.groupItem(g)));
    const first = this.el.querySelector<HTMLElement>("[role=treeitem]");
    const again = focused ? this.el.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`) : null;
    (again ?? first)?.setAttribute("tabindex", "0");
    if (again) again.focus();
  }

  private groupItem(g: Group): HTMLElement {
    const expanded = this.open.has(g.key);
    const counts = h("span", { class: "tree-counts" });
    this.badges.set(g.key, { group: g, el: counts });
    this.fillCounts(counts, g.members);
    const row = h(
      "span",
      { class: "tree-row" },
      h("span", { class: "tree-toggle", "aria-hidden": "true" }), // the arrow is drawn by finder.css
      h("span", { class: "tree-label" }, g.label),
      counts,
    );
    const li = h(
      "li",
      {
        role: "treeitem",
        tabindex: "-1",
        "aria-expanded": String(expanded),
        "aria-level": g.level,
        "data-key": g.key,
        "data-testid": g.level === 1 ? "tree-district" : "tree-site",
        "data-name": g.label,
      },
      row,
    );
    row.addEventListener("click", () => this.toggle(g.key));
    if (expanded) {
      const kids = g.children ? g.children.map((c) => this.groupItem(c)) : g.members.map((i) => this.cameraItem(i));
      li.append(h("ul", { role: "group" }, ...kids));
    }
    return li;
  }

  private cameraItem(i: number): HTMLElement {
    const id = this.store.id(i);
    const name = this.store.name(i);
    const dot = h("span", { class: "tree-dot" });
    const li = h(
      "li",
      {
        role: "treeitem",
        tabindex: "-1",
        "aria-level": 3,
        draggable: "true",
        "data-key": `c:${id}`,
        "data-testid": "tree-camera",
        "data-camera": id,
        title: t("finder.tree.drag"),
      },
      h("span", { class: "tree-row" }, dot, h("b", {}, id), name !== id ? h("span", {}, name) : ""),
    );
    this.leaves.set(i, dot);
    this.paintLeaf(i);
    li.addEventListener("dragstart", (e) => {
      e.dataTransfer?.setData(CAMERA_MIME, id);
      e.dataTransfer?.setData("text/plain", id);
      if (e.dataTransfer) e.dataTransfer.effectAllowed = "copy";
    });
    li.addEventListener("dblclick", () => this.onPick(id));
    return li;
  }

  private paintLeaf(i: number): void {
    const dot = this.leaves.get(i);
    if (!dot) return;
    const st = this.store.stateName(i);
    dot.style.background = STATE_COLOURS[st];
    dot.title = t(`finder.state.${st}`);
    dot.dataset.state = st;
  }

  private fillCounts(el: HTMLElement, members: number[]): void {
    const n = new Array<number>(STATES.length).fill(0);
    for (const i of members) n[this.store.state[i]]++;
    el.replaceChildren(h("span", { class: "tree-total", "data-testid": "tree-count" }, String(members.length)));
    n.forEach((k, s) => {
      if (!k) return;
      const b = h("span", { class: "tree-badge", "data-state": STATES[s], title: t(`finder.state.${STATES[s]}`) }, String(k));
      b.style.background = STATE_COLOURS[STATES[s]];
      el.append(b);
    });
  }

  private refresh(changed: number[]): void {
    for (const { group, el } of this.badges.values()) this.fillCounts(el, group.members);
    for (const i of changed) this.paintLeaf(i);
  }

  private toggle(key: string): void {
    if (this.open.has(key)) this.open.delete(key);
    else this.open.add(key);
    for (const el of this.el.querySelectorAll<HTMLElement>("[tabindex='0']")) el.setAttribute("tabindex", "-1");
    const prev = document.activeElement;
    this.render();
    const again = this.el.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
    if (again) {
      for (const el of this.el.querySelectorAll<HTMLElement>("[tabindex='0']")) el.setAttribute("tabindex", "-1");
      again.setAttribute("tabindex", "0");
      if (prev && this.el.contains(prev as Node)) again.focus();
      else if (prev === document.body) again.focus();
    }
  }

  private visibleItems(): HTMLElement[] {
    return [...this.el.querySelectorAll<HTMLElement>("[role=treeitem]")];
  }

  private move(to: HTMLElement | undefined): void {
    if (!to) return;
    for (const el of this.el.querySelectorAll<HTMLElement>("[tabindex='0']")) el.setAttribute("tabindex", "-1");
    to.setAttribute("tabindex", "0");
    to.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const cur = (e.target as HTMLElement).closest<HTMLElement>("[role=treeitem]");
    if (!cur) return;
    const items = this.visibleItems();
    const k = items.indexOf(cur);
    const key = cur.dataset.key ?? "";
    const isGroup = cur.hasAttribute("aria-expanded");
    const expanded = cur.getAttribute("aria-expanded") === "true";
    let handled = true;
    if (e.key === "ArrowDown") this.move(items[k + 1]);
    else if (e.key === "ArrowUp") this.move(items[k - 1]);
    else if (e.key === "Home") this.move(items[0]);
    else if (e.key === "End") this.move(items[items.length - 1]);
    else if (e.key === "ArrowRight") {
      if (isGroup && !expanded) this.toggle(key);
      else if (isGroup) this.move(items[k + 1]);
    } else if (e.key === "ArrowLeft") {
      if (isGroup && expanded) this.toggle(key);
      else this.move(cur.parentElement?.closest<HTMLElement>("[role=treeitem]") ?? undefined);
    } else if (e.key === "Enter" || e.key === " ") {
      if (isGroup) this.toggle(key);
      else if (cur.dataset.camera) this.onPick(cur.dataset.camera);
    } else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation(); // the wall's layout keys (1 4 9 6) are not for the tree
    }
  }
}
