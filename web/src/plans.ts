// Planner layer (issue 5): plans written by `camgrid plan --out <home>/plans/NAME.geojson` drawn on the map.
// The first plan is filled (planned cameras coloured by phase, visibility polygons as translucent coverage,
// uncovered important points in red); a second one for comparison is outlined. Plain GeoJSON sources: a plan
// has tens to a few thousand features, nothing like the 62,000-camera layer.
import type { Map as MlMap, ExpressionSpecification } from "maplibre-gl";
import { request, type PlanInfo } from "./api";
import { h } from "./dom";
import { num, t } from "./i18n";

export type { PlanInfo };

export const PHASE_COLOURS = ["#f1c40f", "#e67e22", "#9b59b6", "#1abc9c", "#e84393", "#00cec9"];
const COMPARE_COLOUR = "#74b9ff";

function phaseColour(): ExpressionSpecification {
  const m: unknown[] = ["match", ["to-number", ["coalesce", ["get", "phase"], 1]]];
  PHASE_COLOURS.forEach((c, k) => m.push(k + 1, c));
  m.push(PHASE_COLOURS[0]);
  return m as ExpressionSpecification;
}

/** The plan's covered weight share (from its "planner.coverage.total" block, else counted from the points). */
export function planCoverage(fc: GeoJSON.FeatureCollection & { planner?: Record<string, unknown> }): {
  covered: number;
  total: number;
  cameras: number;
  phases: number;
} {
  let cameras = 0;
  let phases = 0;
  let covered = 0;
  let total = 0;
  for (const f of fc.features ?? []) {
    const p = (f.properties ?? {}) as Record<string, unknown>;
    if (p.kind === "camera" && p.status !== "existing") {
      cameras++;
      phases = Math.max(phases, Number(p.phase ?? 1) || 1);
    } else if (p.kind === "point") {
      const w = Number(p.weight ?? 1);
      total += w;
      covered += w * Math.min(1, Number(p.covered ?? 0));
    }
  }
  const t = (fc.planner as { coverage?: { total?: { weight?: number; covered_weight?: number } } } | undefined)?.coverage?.total;
  if (t && typeof t.weight === "number" && typeof t.covered_weight === "number") {
    total = t.weight;
    covered = t.covered_weight;
  }
  return { covered, total, cameras, phases };
}

const LAYERS = (id: string) => [`${id}-views`, `${id}-views-line`, `${id}-points`, `${id}-cams`];

function removePlan(map: MlMap, id: string): void {
  for (const l of LAYERS(id)) if (map.getLayer(l)) map.removeLayer(l);
  if (map.getSource(id)) map.removeSource(id);
}

function addPlan(map: MlMap, id: string, fc: GeoJSON.FeatureCollection, compare: boolean): void {
  removePlan(map, id);
  map.addSource(id, { type: "geojson", data: fc, attribution: "© OpenStreetMap contributors" });
  const before = map.getLayer("cameras") ? "cameras" : undefined;
  const isKind = (k: string): ExpressionSpecification => ["==", ["get", "kind"], k];
  if (!compare)
    map.addLayer(
      { id: `${id}-views`, type: "fill", source: id, filter: isKind("view"), paint: { "fill-color": phaseColour(), "fill-opacity": 0.22, "fill-antialias": false } },
      before,
    );
  map.addLayer(
    {
      id: `${id}-views-line`, type: "line", source: id, filter: isKind("view"),
      paint: compare
        ? { "line-color": COMPARE_COLOUR, "line-width": 1.5, "line-dasharray": [2, 1] }
        : { "line-color": phaseColour(), "line-width": 0.6, "line-opacity": 0.6 },
    },
    before,
  );
  if (!compare)
    map.addLayer(
      {
        id: `${id}-points`, type: "circle", source: id,
        filter: ["all", isKind("point"), ["<", ["to-number", ["coalesce", ["get", "covered"], 0]], 0.999]],
        paint: {
          "circle-color": "#ff4d4d",
          "circle-opacity": ["interpolate", ["linear"], ["to-number", ["coalesce", ["get", "covered"], 0]], 0, 0.9, 1, 0.3],
          "circle-radius": ["interpolate", ["linear"], ["sqrt", ["to-number", ["coalesce", ["get", "weight"], 1]]], 1, 2, 4, 6],
        },
      },
      before,
    );
  map.addLayer(
    {
      id: `${id}-cams`, type: "circle", source: id, filter: isKind("camera"),
      paint: compare
        ? { "circle-radius": 6, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": COMPARE_COLOUR, "circle-stroke-width": 2 }
        : { "circle-radius": 5, "circle-color": phaseColour(), "circle-stroke-color": "#111", "circle-stroke-width": 1 },
    },
    before,
  );
}

/** The "Plans" control of the map screen. `ready` resolves when the map style can take sources. */
export function planControl(map: MlMap, ready: Promise<void>): { el: HTMLElement; destroy: () => void } {
  const sel = h("select", { "data-testid": "plan-select", "aria-label": t("plans.plan") }, h("option", { value: "" }, t("plans.noPlan")));
  const cmp = h("select", { "data-testid": "plan-compare-select", "aria-label": t("plans.compareWith") }, h("option", { value: "" }, t("plans.compareNone")));
  const legend = h("div", { class: "plan-legend", "data-testid": "plan-legend", hidden: true });
  const msg = h("div", { class: "plan-msg" });
  const el = h("div", { class: "plan-control" }, h("b", {}, `${t("plans.title")} `), sel, " ", cmp, msg, legend);
  const cache = new Map<string, Promise<GeoJSON.FeatureCollection>>();
  let alive = true;
  const load = (name: string) => {
    let p = cache.get(name);
    if (!p) {
      p = request<GeoJSON.FeatureCollection>("GET", `/api/plans/${encodeURIComponent(name)}`);
      cache.set(name, p);
      p.catch(() => cache.delete(name));
    }
    return p;
  };
  const shown: Record<string, { name: string; fc: GeoJSON.FeatureCollection } | null> = { "plan-a": null, "plan-b": null };
  const drawLegend = () => {
    legend.replaceChildren();
    const a = shown["plan-a"];
    const b = shown["plan-b"];
    legend.hidden = !a && !b;
    const line = (label: string, swatch: HTMLElement, fc: GeoJSON.FeatureCollection, name: string) => {
      const c = planCoverage(fc);
      const share = c.total > 0 ? num((100 * c.covered) / c.total, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : "?";
      return h(
        "div",
        { class: "plan-legend-row", "data-plan": name, "data-covered-share": c.total > 0 ? (c.covered / c.total).toFixed(4) : "" },
        swatch,
        ` ${t("plans.line", { style: label, name, cameras: c.cameras, covered: Math.round(c.covered), total: Math.round(c.total), share })}`,
      );
    };
    if (a) {
      legend.append(line(t("plans.filled"), h("i", { class: "sw", style: `background:${PHASE_COLOURS[0]}` }), a.fc, a.name));
      const phases = planCoverage(a.fc).phases;
      if (phases > 1)
        legend.append(
          h("div", { class: "plan-legend-row" }, ...PHASE_COLOURS.slice(0, phases).flatMap((c, k) => [h("i", { class: "sw", style: `background:${c}` }), ` ${t("plans.phase", { n: k + 1 })} `])),
        );
      legend.append(h("div", { class: "plan-legend-row" }, h("i", { class: "sw", style: "background:#ff4d4d;border-radius:50%" }), ` ${t("plans.notCovered")}`));
    }
    if (b) legend.append(line(t("plans.outlined"), h("i", { class: "sw", style: `border:2px solid ${COMPARE_COLOUR}` }), b.fc, b.name));
  };
  const choose = async (id: "plan-a" | "plan-b", name: string) => {
    await ready;
    if (!alive) return;
    if (!name) {
      removePlan(map, id);
      shown[id] = null;
      drawLegend();
      return;
    }
    msg.textContent = t("plans.loading", { name });
    try {
      const fc = await load(name);
      if (!alive) return;
      addPlan(map, id, fc, id === "plan-b");
      shown[id] = { name, fc };
      msg.textContent = "";
    } catch (e) {
      msg.textContent = t("plans.cannotLoad", { name, why: (e as Error).message });
    }
    drawLegend();
  };
  sel.addEventListener("change", () => void choose("plan-a", sel.value));
  cmp.addEventListener("change", () => void choose("plan-b", cmp.value));
  request<PlanInfo[]>("GET", "/api/plans")
    .then((plans) => {
      for (const p of plans) {
        sel.append(h("option", { value: p.name }, p.name));
        cmp.append(h("option", { value: p.name }, p.name));
      }
      if (!plans.length) msg.textContent = t("plans.none", { command: "camgrid plan --out <home>/plans/NAME.geojson" });
    })
    .catch((e) => (msg.textContent = t("plans.unavailable", { why: (e as Error).message })));
  return {
    el,
    destroy: () => {
      alive = false;
    },
  };
}
