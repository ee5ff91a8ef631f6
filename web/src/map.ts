// Map screen: the base map drawn only from GET /api/map/base (no tiles, glyphs or sprites) and every camera
// drawn by one WebGL custom layer from typed arrays (cameralayer.ts), clustered by zoom (mapcluster.ts). Live state
// changes and filters rewrite one byte per camera; there is no per-camera DOM and no GeoJSON for the cameras, except
// labels and view cones at street zoom for what is in view (mapview.ts). Design: docs/design/map-at-city-scale.md.
import maplibregl, { MercatorCoordinate, type StyleSpecification } from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import "./styles/map.css";
import { api, type City, type District } from "./api";
import { CameraLayer, HIDDEN } from "./cameralayer";
import { CameraStore, STATES, STATE_COLOURS, cameras, syntheticColumns } from "./cameras";
import { diagnosticsSection } from "./diagnostics";
import { clear, go, h } from "./dom";
import { LivePlayer } from "./live";
import { mountMapExtras } from "./mapextras";
import { audioControls } from "./audio";
import { onvifSummary } from "./camera-onvif";
import { maintenanceControls } from "./maintenance";
import { maskButton } from "./maskeditor";
import { hooks, stats } from "./stats";
import { timeEl } from "./time";
import { num, t } from "./i18n";
import { STACK_ZOOM } from "./mapcluster";
import { StreetDetail, draggableCamera } from "./mapview";

/** What the tests read of the clusters drawn (window.camgrid.mapClusters). */
export interface ClusterInfo {
  lon: number;
  lat: number;
  count: number;
  byState: Record<string, number>;
}

declare module "./stats" {
  interface CamgridHooks {
    /** Map screen: the clusters drawn in view (count, count per state), or null off the map. */
    mapClusters?: () => ClusterInfo[] | null;
    /** Map screen: page coordinates of the cluster holding a camera, or null. */
    clusterXY?: (cameraId: string) => [number, number] | null;
  }
}

function lonOf(x: number): number {
  return x * 360 - 180;
}

function latOf(y: number): number {
  return (Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI;
}

/** The current language's digits 0-9 (for the cluster counts drawn by WebGL). */
function localDigits(): string[] {
  const f = new Intl.NumberFormat(document.documentElement.lang || undefined, { useGrouping: false });
  return Array.from({ length: 10 }, (_, d) => f.format(d));
}

export const OSM_ATTRIBUTION = "© OpenStreetMap contributors";

function baseStyle(): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#1d2329" } }],
  };
}

/** A state as shown, with the recorder's reason when it gave one. */
function stateText(state: string, reason: string | null | undefined): string {
  const name = t(`map.state.${state}`);
  return reason ? t("map.state.reason", { state: name, reason }) : name;
}

export function mountMap(root: HTMLElement, params: URLSearchParams): () => void {
  const mapDiv = h("div", { class: "map", "data-testid": "map" });
  const countEl = h("span", { "data-testid": "camera-count" }, "0");
  const districtSel = h("select", { "data-testid": "filter-district", "aria-label": t("map.district") }, h("option", { value: "" }, t("map.district.all")));
  const stateCounts = STATES.map((s) => h("span", { class: "state-count", "data-testid": `state-count-${s}` }, ""));
  const stateBoxes = STATES.map((s) =>
    h("input", { type: "checkbox", checked: true, value: s, "data-testid": `filter-state-${s}` }),
  );
  const status = h("span", { class: "status", "data-testid": "map-status" }, t("map.loading"));
  const panel = h("aside", { class: "panel", "data-testid": "camera-panel", hidden: true });
  const filters = h(
    "div",
    { class: "toolbar" },
    h("label", {}, t("map.district"), " ", districtSel),
    ...STATES.map((s, k) =>
      h("label", { class: "state-filter" }, stateBoxes[k], h("i", { class: "dot", style: `background:${STATE_COLOURS[s]}` }), t(`map.state.${s}`), " ", stateCounts[k]),
    ),
    h("span", { class: "count" }, countEl, " ", t("map.shown")),
    status,
  );
  root.append(h("div", { class: "screen map-screen" }, filters, h("div", { class: "map-wrap" }, mapDiv, panel)));

  const map = new maplibregl.Map({
    container: mapDiv,
    style: baseStyle(),
    center: [85.32, 27.7],
    zoom: 12,
    attributionControl: { compact: false, customAttribution: OSM_ATTRIBUTION },
    fadeDuration: 0,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    maxPitch: 0,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
  hooks.map = map;
  const layer = new CameraLayer(STATES.map((s) => STATE_COLOURS[s]), localDigits());
  const detail = new StreetDetail(map, layer, (id) => openPanel(id));

  let store: CameraStore | null = null;
  let districts: District[] = [];
  let alive = true;
  let livePanel: LivePlayer | null = null;
  let unsub: (() => void) | null = null;
  let cityBounds: [[number, number], [number, number]] | null = null;
  const styleReady = new Promise<void>((r) => {
    const done = () => {
      if (!map.getLayer("cameras")) map.addLayer(layer);
      detail.addLayers();
      r();
    };
    if (map.loaded()) done();
    else map.once("load", done);
  });
  const extrasCleanup = mountMapExtras(map, mapDiv.parentElement!, styleReady);

  const keepFn = (s: CameraStore): ((i: number) => boolean) => {
    const d = districtSel.value;
    const dKeys = new Set<string>();
    if (d) {
      dKeys.add(d);
      const dd = districts.find((x) => String(x.id) === d);
      if (dd) dKeys.add(String(dd.name));
    }
    const allowed = new Uint8Array(STATES.length);
    stateBoxes.forEach((b, k) => (allowed[k] = b.checked ? 1 : 0));
    const allStates = allowed.every((x) => x === 1);
    if (!d && allStates) return () => true;
    return (i) => (!d || dKeys.has(s.districtKey[i])) && (allStates || allowed[s.state[i]] === 1);
  };

  /** Recompute which cameras are shown (filters) and the count label. */
  const rebuild = (): number => {
    if (!store) return 0;
    const keep = keepFn(store);
    const shown = layer.states.length === store.count ? layer.states : new Uint8Array(store.count);
    let n = 0;
    for (let i = 0; i < store.count; i++) {
      const ok = keep(i) && Number.isFinite(store.lon[i]) && Number.isFinite(store.lat[i]);
      shown[i] = ok ? store.state[i] : HIDDEN;
      if (ok) n++;
    }
    if (shown !== layer.states) layer.setData(store.lon, store.lat, shown);
    else layer.statesChanged();
    countEl.textContent = num(n);
    updateStateCounts();
    refreshDetail();
    return n;
  };

  /** Cameras per state (in the chosen district, whatever the state filter), shown beside each checkbox. */
  const updateStateCounts = () => {
    if (!store) return;
    const d = districtSel.value;
    const keys = new Set([d, String(districts.find((x) => String(x.id) === d)?.name ?? d)]);
    const c = STATES.map(() => 0);
    for (let i = 0; i < store.count; i++) if (!d || keys.has(store.districtKey[i])) c[store.state[i]]++;
    stateCounts.forEach((el, k) => (el.textContent = `(${c[k]})`));
  };

  /** Zoom to the cameras of the chosen district (back to the city for "all"). */
  const fitDistrict = () => {
    if (!store) return;
    const d = districtSel.value;
    if (!d) {
      if (cityBounds) map.fitBounds(cityBounds, { padding: 20, duration: 300 });
      return;
    }
    const keys = new Set([d, String(districts.find((x) => String(x.id) === d)?.name ?? d)]);
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < store.count; i++) {
      if (!keys.has(store.districtKey[i])) continue;
      const x = store.lon[i], y = store.lat[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (x0 <= x1) map.fitBounds([[x0, y0], [x1, y1]], { padding: 60, duration: 300, maxZoom: 17 });
  };

  /** Install a registry on the map and measure the time to the first presented frame with all its cameras. */
  const install = async (s: CameraStore): Promise<number | null> => {
    await styleReady;
    if (!alive) return null;
    unsub?.();
    store = s;
    const t0 = performance.now();
    const drawn = new Promise<number>((res) => (layer.onDrawn = () => res(performance.now() - t0)));
    layer.states = new Uint8Array(0);
    const n = rebuild();
    const ms = await drawn;
    stats.mapFirstRenderMs = ms;
    stats.mapCameras = n;
    status.textContent = t("map.status", { count: s.count, ms: Math.round(ms) });
    unsub = s.onChange((changed) => {
      const keep = keepFn(s);
      let n2 = Number(countEl.textContent) || 0;
      for (const i of changed) {
        const was = layer.states[i] !== HIDDEN;
        const ok = keep(i);
        layer.states[i] = ok ? s.state[i] : HIDDEN;
        n2 += (ok ? 1 : 0) - (was ? 1 : 0);
      }
      countEl.textContent = num(n2);
      layer.statesChanged();
      updateStateCounts();
      refreshDetail();
      const open = panel.hidden ? undefined : s.index.get(panel.dataset.camera ?? "");
      if (open !== undefined && changed.includes(open)) {
        const el = panel.querySelector(".state");
        if (el) {
          el.className = `state state-${s.stateName(open)}`;
          el.textContent = stateText(s.stateName(open), s.reason[open]);
        }
      }
    });
    return ms;
  };

  /** The cluster (of the level drawn) under a point, or -1. */
  const pick = (p: maplibregl.LngLat): number => {
    const m = MercatorCoordinate.fromLngLat(p);
    return layer.pick(m.x, m.y, map.getZoom());
  };
  let detailTimer = 0;
  let detailForced = false;
  /** Labels and cones follow the view once it has been still for 150 ms (a pan fires moveend on every frame) and
   *  has left what was built around it; filters and states rebuild them (`force`), at most every 150 ms. */
  const refreshDetail = (force = true) => {
    detailForced ||= force;
    window.clearTimeout(detailTimer);
    detailTimer = window.setTimeout(() => {
      detailTimer = 0;
      const f = detailForced;
      detailForced = false;
      if (alive) detail.update(store, f);
    }, 150);
  };
  map.on("moveend", () => refreshDetail(false));
  map.on("zoomstart", () => detail.closeSpider());
  /** A click on a cluster: one camera opens its panel; cameras at one point fan out; a wider cluster zooms in. */
  const clickCluster = (k: number) => {
    if (!store) return;
    const members = layer.membersOf(k);
    if (members.length === 1) {
      openPanel(store.id(members[0]));
      return;
    }
    const [x0, y0, x1, y1] = layer.extentOf(members);
    const spanPx = Math.max(x1 - x0, y1 - y0) * 512 * 2 ** Math.max(map.getZoom(), STACK_ZOOM + 2);
    if (map.getZoom() >= STACK_ZOOM || spanPx < 4) {
      const ids = members.map((i) => store!.id(i));
      detail.fan([lonOf((x0 + x1) / 2), latOf((y0 + y1) / 2)], ids, store);
      return;
    }
    map.fitBounds([[lonOf(x0), latOf(y1)], [lonOf(x1), latOf(y0)]], { padding: 80, duration: 300, maxZoom: STACK_ZOOM + 2, minZoom: map.getZoom() + 1 });
  };
  let hoverT = 0;
  map.on("mousemove", (e) => {
    const now = performance.now();
    if (now - hoverT < 50) return;
    hoverT = now;
    map.getCanvas().style.cursor = store && pick(e.lngLat) >= 0 ? "pointer" : "";
  });
  map.on("click", (e) => {
    if (!store) return;
    const k = pick(e.lngLat);
    if (k >= 0) clickCluster(k);
    else detail.closeSpider();
  });

  districtSel.addEventListener("change", () => {
    rebuild();
    fitDistrict();
  });
  for (const b of stateBoxes) b.addEventListener("change", rebuild);

  const closePanel = () => {
    livePanel?.destroy();
    livePanel = null;
    panel.hidden = true;
    clear(panel);
  };

  const openPanel = (id: string) => {
    closePanel();
    panel.hidden = false;
    panel.dataset.camera = id;
    const body = h("div", {}, t("map.loading.camera"));
    const handle = draggableCamera(h("b", { class: "camera-drag", "data-testid": "panel-camera", title: t("map.panel.drag") }, id), id);
    panel.append(h("div", { class: "panel-head" }, handle, h("button", { class: "close", onclick: closePanel, title: t("map.panel.close") }, "×")), body);
    livePanel = new LivePlayer(id, store?.nameOf(id) ?? id, { compact: true });
    api
      .camera(id)
      .then((c) => {
        clear(body);
        const row = (k: string, v: Node | string | number | null | undefined) => h("tr", {}, h("th", {}, k), h("td", {}, v == null || v === "" ? "—" : typeof v === "object" ? v : String(v)));
        body.append(
          h(
            "table",
            { class: "details", "data-testid": "camera-details" },
            row(t("map.panel.name"), c.name),
            row(t("map.panel.state"), h("span", { class: `state state-${c.state}` }, stateText(c.state, c.reason))),
            row(t("map.panel.maintenance"), maintenanceControls(c, (w) => store?.setMaintenance(id, w.on ? w.since_ms : null))),
            row(t("map.panel.audio"), audioControls(c)),
            row(t("map.panel.onvif"), onvifSummary(c)),
            row(t("map.panel.since"), timeEl(c.since_ms, "since")),
            row(t("map.panel.district"), c.district as string),
            row(t("map.panel.site"), c.site),
            row(t("map.panel.feeder"), c.feeder),
            row(t("map.panel.uplink"), c.uplink),
            row(t("map.panel.codec"), c.codec),
            row(t("map.panel.recorded_by"), c.recorded_by),
            row(t("map.panel.view"), c.heading_deg == null ? null : t("map.panel.view.value", { heading: c.heading_deg, fov: c.fov_deg ?? "?" })),
            row(t("map.panel.range"), c.range_m == null ? null : t("map.panel.range.value", { range: c.range_m })),
            row(t("map.panel.position"), `${c.lat.toFixed(5)}, ${c.lon.toFixed(5)}`),
          ),
          livePanel ? livePanel.el : "",
          h(
            "div",
            { class: "buttons" },
            h("button", { "data-testid": "panel-playback", onclick: () => go("playback", { cams: id }) }, t("map.panel.playback")),
            h("button", { onclick: () => go("live", { n: 1, cams: id }) }, t("map.panel.live")),
            h("button", { onclick: () => go("exports", { camera: id }) }, t("map.panel.export")),
            maskButton(id),
          ),
          diagnosticsSection(id),
        );
      })
      .catch((e) => {
        clear(body);
        body.append(h("div", { class: "error" }, t("map.panel.error", { id, error: (e as Error).message })));
      });
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      closePanel();
      detail.closeSpider();
    }
  };
  window.addEventListener("keydown", onKey);

  // Base map and city bounds.
  Promise.all([api.city(), api.base(), api.districts().catch(() => [] as District[])])
    .then(async ([city, base, ds]: [City, GeoJSON.FeatureCollection, District[]]) => {
      if (!alive) return;
      districts = ds;
      for (const d of ds) districtSel.append(h("option", { value: String(d.id) }, `${d.name} (${num(d.cameras)})`));
      const want = params.get("district");
      if (want) districtSel.value = want;
      await styleReady;
      if (!alive) return;
      map.addSource("base", { type: "geojson", data: base, attribution: city.attribution || OSM_ATTRIBUTION, maxzoom: 16 });
      const before = map.getLayer("cameras") ? "cameras" : undefined;
      map.addLayer({
        id: "buildings", type: "fill", source: "base", filter: ["==", ["get", "kind"], "building"],
        paint: { "fill-color": "#3a424b", "fill-antialias": false },
      }, before);
      map.addLayer({
        id: "streets", type: "line", source: "base", filter: ["==", ["get", "kind"], "street"],
        layout: { "line-cap": "round", "line-join": "round" },
        paint: {
          "line-color": ["match", ["get", "highway"], ["primary", "trunk", "motorway", "secondary"], "#8a7f5c", "#5d6670"],
          "line-width": ["interpolate", ["linear"], ["zoom"], 12, 0.6, 16, 3, 19, 10],
        },
      }, before);
      const [a, b, c, d] = city.bounds;
      if ([a, b, c, d].every(Number.isFinite)) {
        cityBounds = [[a, b], [c, d]];
        map.fitBounds(cityBounds, { padding: 20, duration: 0 });
      }
    })
    .catch((e) => (status.textContent = t("map.base.error", { error: (e as Error).message })));

  cameras()
    .then((s) => install(s))
    .catch((e) => (status.textContent = t("map.cameras.error", { error: (e as Error).message })));

  hooks.syntheticCameras = async (n: number) => {
    const b = map.getBounds();
    const s = new CameraStore(syntheticColumns(n, [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]));
    return install(s);
  };

  hooks.cameraXY = (id: string) => {
    const i = store?.index.get(id);
    if (i === undefined || !store || layer.states[i] === HIDDEN) return null;
    const p = map.project([store.lon[i], store.lat[i]]);
    const r = mapDiv.getBoundingClientRect();
    return [r.left + p.x, r.top + p.y];
  };

  hooks.mapClusters = () =>
    layer.clustersInView().map((c) => ({
      lon: lonOf(c.x),
      lat: latOf(c.y),
      count: c.count,
      byState: Object.fromEntries(STATES.map((s, k) => [s, c.byState[k]])),
    }));

  hooks.clusterXY = (id: string) => {
    const i = store?.index.get(id);
    const lv = layer.current;
    if (i === undefined || !lv || lv.of[i] < 0) return null;
    const k = lv.of[i];
    const p = map.project([lonOf(lv.x[k] + layer.ox), latOf(lv.y[k] + layer.oy)]);
    const r = mapDiv.getBoundingClientRect();
    return [r.left + p.x, r.top + p.y];
  };

  hooks.panBenchmark = (ms: number) =>
    new Promise<number>((resolve) => {
      let renders = 0;
      let frames = 0;
      const onRender = () => renders++;
      map.on("render", onRender);
      const t0 = performance.now();
      const step = (now: number) => {
        const dt = now - t0;
        if (dt >= ms) {
          map.off("render", onRender);
          resolve((Math.min(frames, renders) * 1000) / dt);
          return;
        }
        frames++;
        const a = (dt / 2000) * Math.PI * 2; // a circle every 2 s: stays over the city
        map.panBy([Math.cos(a) * 8, Math.sin(a) * 8], { duration: 0 });
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });

  return () => {
    alive = false;
    window.clearTimeout(detailTimer);
    detail.destroy();
    hooks.mapClusters = () => null;
    hooks.clusterXY = () => null;
    extrasCleanup();
    window.removeEventListener("keydown", onKey);
    unsub?.();
    closePanel();
    hooks.map = null;
    hooks.cameraXY = () => null;
    map.remove();
  };
}
