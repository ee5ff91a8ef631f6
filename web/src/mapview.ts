// Street-zoom detail for the map: each camera's name as a label and its view cone (heading, field of view, range),
// and the fan-out ("spider") of the cameras of one point. Only what is in view is built, after each move (never
// per frame), so 62,000 registered cameras cost a scan of the typed arrays, not 62,000 objects.
// Labels and fanned-out cameras are DOM (the base map has no glyphs; the DOM also shapes Dari and Pashto names and
// lets a camera be dragged onto a wall tile as "application/x-camgrid-camera").
import maplibregl, { type Map as MlMap } from "maplibre-gl";
import type { CameraLayer } from "./cameralayer";
import type { CameraStore } from "./cameras";
import { STATE_COLOURS } from "./cameras";
import { h } from "./dom";
import { t } from "./i18n";
import { mercX, mercY } from "./cameralayer";
import { buildLevel, conePolygon, rangesIn, spiderOffsets } from "./mapcluster";

const EMPTY_LEVEL = buildLevel(new Float32Array(0), new Uint8Array(0), 0, 5);

export const LABEL_ZOOM = 17;
export const CONE_ZOOM = 16;
/** Most labels shown at once (beyond, the view is not street-scale anyway). */
export const MAX_LABELS = 400;
export const MAX_CONES = 2000;
export const DEFAULT_FOV = 60;
export const DEFAULT_RANGE_M = 30;
export const CAMERA_MIME = "application/x-camgrid-camera";

/** Make an element a drag source carrying a camera id (wall tiles accept the drop). */
export function draggableCamera(el: HTMLElement, id: string): HTMLElement {
  el.draggable = true;
  el.dataset.camera = id;
  el.addEventListener("mousedown", (e) => e.stopPropagation()); // a drag of the camera, not of the map
  el.addEventListener("dragstart", (e) => {
    e.dataTransfer?.setData(CAMERA_MIME, id);
    e.dataTransfer?.setData("text/plain", id);
    if (e.dataTransfer) e.dataTransfer.effectAllowed = "copy";
  });
  return el;
}

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };

export class StreetDetail {
  /** Labels in one layer over the map, moved as one while panning (one style write per frame, not one per label). */
  private labels = new Map<string, HTMLElement>();
  private labelBox = h("div", { class: "camera-labels", "data-testid": "camera-labels" });
  /** Where the box's labels were placed: a reference point, its pixel position and the zoom then. */
  private placed: { lngLat: maplibregl.LngLat; x: number; y: number; zoom: number } | null = null;
  private onMove = () => this.follow();
  private conesShown = false;
  /** The box (lon/lat) and zoom labels and cones were last built for. */
  private built: { w: number; e: number; s: number; n: number; zoom: number } | null = null;
  private spider: maplibregl.Marker | null = null;
  spiderIds: string[] = [];

  constructor(
    private map: MlMap,
    private layer: CameraLayer,
    private open: (id: string) => void,
  ) {
    map.getCanvasContainer().append(this.labelBox);
    map.on("move", this.onMove);
  }

  /** Keep the labels on their cameras while the view moves; hidden while zooming (rebuilt once it stops). */
  private follow(): void {
    const pl = this.placed;
    if (!pl || this.labels.size === 0) return;
    if (Math.abs(this.map.getZoom() - pl.zoom) > 1e-6) {
      this.labelBox.style.visibility = "hidden";
      return;
    }
    const p = this.map.project(pl.lngLat);
    this.labelBox.style.visibility = "";
    this.labelBox.style.transform = `translate(${p.x - pl.x}px,${p.y - pl.y}px)`;
  }

  /** Add the cone source and layers (under the camera layer). */
  addLayers(): void {
    if (this.map.getSource("camera-cones")) return;
    this.map.addSource("camera-cones", { type: "geojson", data: EMPTY });
    const before = this.map.getLayer("cameras") ? "cameras" : undefined;
    this.map.addLayer(
      {
        id: "camera-cones",
        type: "fill",
        source: "camera-cones",
        minzoom: CONE_ZOOM,
        // One fill, no outline layer: at street zoom the cones are the costliest part of a frame on the CPU renderer.
        paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.28, "fill-antialias": false },
      },
      before,
    );
  }

  /** Rebuild labels and cones for the view and half a view around it. After a move (`force` false) only when the
   *  view left what was built or the zoom changed; after a filter or a state change (`force`) always. */
  update(store: CameraStore | null, force = true): void {
    const zoom = this.map.getZoom();
    const v = this.map.getBounds();
    const bt = this.built;
    if (!force && bt && Math.abs(bt.zoom - zoom) < 1e-6 && v.getWest() >= bt.w && v.getEast() <= bt.e && v.getSouth() >= bt.s && v.getNorth() <= bt.n)
      return;
    const src = this.map.getSource("camera-cones") as maplibregl.GeoJSONSource | undefined;
    if (!store || zoom < CONE_ZOOM) {
      if (this.conesShown) src?.setData(EMPTY); // an empty source set again would still reload and repaint
      this.conesShown = false;
      if (this.labels.size) this.setLabels([]);
      this.built = null;
      return;
    }
    const padX = (v.getEast() - v.getWest()) * 0.5, padY = (v.getNorth() - v.getSouth()) * 0.5;
    const w = v.getWest() - padX, e = v.getEast() + padX, s = v.getSouth() - padY, n = v.getNorth() + padY;
    this.built = { w, e, s, n, zoom };
    const heading = store.cols.heading_deg ?? [];
    const fov = store.cols.fov_deg ?? [];
    const range = store.cols.range_m ?? [];
    const cones: GeoJSON.Feature[] = [];
    const states = this.layer.states;
    for (let i = 0; i < store.count && cones.length < MAX_CONES; i++) {
      const x = store.lon[i], y = store.lat[i];
      if (x < w || x > e || y < s || y > n || states[i] === 255) continue;
      const hd = heading[i];
      if (hd == null) continue;
      const ring = conePolygon(x, y, hd, fov[i] ?? DEFAULT_FOV, range[i] ?? DEFAULT_RANGE_M);
      cones.push({
        type: "Feature",
        geometry: { type: "Polygon", coordinates: [ring] },
        properties: { camera: store.id(i), colour: STATE_COLOURS[store.stateName(i)] },
      });
    }
    src?.setData({ type: "FeatureCollection", features: cones });
    this.conesShown = true;
    if (zoom < LABEL_ZOOM) {
      if (this.labels.size) this.setLabels([]);
      return;
    }
    // One label per point on the map (the cameras of a site share one: "name +3").
    const lv = this.layer.current;
    const want: { key: string; lngLat: [number, number]; ids: string[] }[] = [];
    const box = rangesIn(lv ?? EMPTY_LEVEL, mercX(w) - this.layer.ox, mercY(n) - this.layer.oy, mercX(e) - this.layer.ox, mercY(s) - this.layer.oy);
    if (lv)
      for (const [a, z] of box)
        for (let k = a; k < z && want.length < MAX_LABELS; k++) {
          const ids = Array.from(lv.members.subarray(lv.start[k], lv.start[k + 1]), (i) => store.id(i));
          const i0 = lv.members[lv.start[k]];
          want.push({ key: ids.join(","), lngLat: [store.lon[i0], store.lat[i0]], ids });
        }
    this.setLabels(want.map((x) => ({ ...x, text: labelText(store, x.ids) })));
  }

  private setLabels(want: { key: string; lngLat: [number, number]; ids: string[]; text: string }[]): void {
    const keep = new Set(want.map((x) => x.key));
    for (const [k, el] of this.labels)
      if (!keep.has(k)) {
        el.remove();
        this.labels.delete(k);
      }
    // Every label placed afresh for the current view: the box back at rest.
    const c = this.map.getCenter();
    const p0 = this.map.project(c);
    this.placed = { lngLat: c, x: p0.x, y: p0.y, zoom: this.map.getZoom() };
    this.labelBox.style.transform = "";
    this.labelBox.style.visibility = "";
    for (const x of want) {
      let el = this.labels.get(x.key);
      if (!el) {
        el = h("div", { class: "camera-label", "data-testid": "camera-label", title: x.text, dir: "auto" }, x.text);
        draggableCamera(el, x.ids[0]);
        el.dataset.cameras = x.ids.join(",");
        el.addEventListener("click", (e) => {
          e.stopPropagation();
          if (x.ids.length === 1) this.open(x.ids[0]);
          else this.fan(x.lngLat, x.ids);
        });
        this.labels.set(x.key, el);
        this.labelBox.append(el);
      }
      const p = this.map.project(x.lngLat);
      el.style.transform = `translate(${Math.round(p.x)}px,${Math.round(p.y) + 12}px) translateX(-50%)`;
    }
  }

  /** Fan the cameras of one point out around it; each is selectable (and draggable). */
  fan(lngLat: [number, number], ids: string[], store?: CameraStore | null): void {
    this.closeSpider();
    const offs = spiderOffsets(ids.length);
    const box = h("div", { class: "spider", "data-testid": "spider", "data-count": String(ids.length) });
    ids.forEach((id, k) => {
      const [dx, dy] = offs[k];
      const len = Math.hypot(dx, dy);
      const leg = h("div", { class: "spider-leg", style: `width:${len}px;transform:rotate(${Math.atan2(dy, dx)}rad)` });
      const colour = store ? STATE_COLOURS[store.stateName(store.index.get(id) ?? 0)] : "#95a5a6";
      const name = store?.nameOf(id) ?? id;
      const btn = h(
        "button",
        {
          class: dx < 0 ? "spider-camera west" : "spider-camera",
          "data-testid": "spider-camera",
          title: t("map.spider.open", { name }),
          style: `transform:translate(${dx}px,${dy}px)`,
        },
        h("i", { class: "dot", style: `background:${colour}` }),
        h("span", { dir: "auto" }, name),
      );
      draggableCamera(btn, id);
      btn.addEventListener("click", (e) => {
        e.stopPropagation();
        this.open(id);
      });
      box.append(leg, btn);
    });
    this.spiderIds = ids;
    // The label of the point fanned out would sit under the fan: hidden until it closes.
    this.labels.get(ids.join(","))?.classList.add("fanned");
    this.spider = new maplibregl.Marker({ element: box, anchor: "center" }).setLngLat(lngLat).addTo(this.map);
  }

  closeSpider(): void {
    this.labels.get(this.spiderIds.join(","))?.classList.remove("fanned");
    this.spider?.remove();
    this.spider = null;
    this.spiderIds = [];
  }

  /** Forget what was built (the next update rebuilds). */
  invalidate(): void {
    this.built = null;
  }

  destroy(): void {
    this.closeSpider();
    this.map.off("move", this.onMove);
    this.setLabels([]);
    this.labelBox.remove();
  }
}

export function labelText(store: CameraStore, ids: string[]): string {
  const name = store.nameOf(ids[0]);
  return ids.length === 1 ? name : t("map.label.stack", { name, more: ids.length - 1 });
}
