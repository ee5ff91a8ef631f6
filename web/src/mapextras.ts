// Map-screen additions: the compact incident list, the halo around cameras on feeders of open power incidents,
// and the Plans control. The halo is a small GeoJSON circle layer under the camera layer holding only the
// affected cameras (one linear pass over the registry's feeder column per change: ~1 ms for 62,000 cameras).
import type { Map as MlMap } from "maplibre-gl";
import { cameras } from "./cameras";
import { h } from "./dom";
import { t } from "./i18n";
import { darkFeeders } from "./incident-text";
import { IncidentBook, incidentList } from "./incidents";
import { planControl } from "./plans";

export const HALO_COLOUR = "#ffb400";

export function mountMapExtras(map: MlMap, wrap: HTMLElement, styleReady: Promise<void>): () => void {
  const book = new IncidentBook(true);
  const list = incidentList(book, true);
  const plans = planControl(map, styleReady);
  const haloInfo = h("div", { class: "halo-info", "data-testid": "incident-halo", "data-cameras": "0", "data-feeders": "" });
  const box = h("div", { class: "map-extras" }, plans.el, list.el, haloInfo);
  wrap.append(box);
  let alive = true;
  let lastKey = "";

  const updateHalo = async () => {
    const feeders = darkFeeders(book.items.values());
    const key = [...feeders].sort().join(",");
    if (key === lastKey) return;
    const s = await cameras().catch(() => null);
    await styleReady;
    if (!alive || !s) return;
    lastKey = key;
    const feats: GeoJSON.Feature[] = [];
    const col = s.cols.feeder ?? [];
    if (feeders.size)
      for (let i = 0; i < s.count; i++) {
        const f = col[i];
        if (f != null && feeders.has(f) && Number.isFinite(s.lon[i]))
          feats.push({ type: "Feature", geometry: { type: "Point", coordinates: [s.lon[i], s.lat[i]] }, properties: { feeder: f } });
      }
    const data: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: feats };
    const src = map.getSource("incident-halo") as { setData?: (d: GeoJSON.FeatureCollection) => void } | undefined;
    if (src?.setData) src.setData(data);
    else {
      map.addSource("incident-halo", { type: "geojson", data });
      map.addLayer(
        {
          id: "incident-halo",
          type: "circle",
          source: "incident-halo",
          paint: {
            "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 4, 16, 11],
            "circle-color": "rgba(255,180,0,0.18)",
            "circle-stroke-color": HALO_COLOUR,
            "circle-stroke-width": 2,
          },
        },
        map.getLayer("cameras") ? "cameras" : undefined,
      );
    }
    haloInfo.dataset.cameras = String(feats.length);
    haloInfo.dataset.feeders = key;
    haloInfo.textContent = feats.length ? t("map.halo", { count: feats.length, feeders: key }) : "";
  };
  const off = book.onChange(() => void updateHalo());
  void book.start();
  return () => {
    alive = false;
    off();
    list.destroy();
    plans.destroy();
    book.stop();
  };
}
