// The planner screen (docs/design/planner-screen.md): a planner picks an area (the whole map, some districts or a
// box), a budget per year (four years), camera models and weights, and starts a plan run; the server's background
// worker solves it while the screen shows each run's progress bar with its objective, bound and gap. A run can be
// stopped when it is good enough (the best plan so far is kept), two plans compared side by side, and one imported
// as planned cameras. Everything shown comes from the server, so a reload (or another browser) sees the same runs.
import "./styles/planner.css";
import { ApiError, request } from "./api";
import type { components } from "./api-types";
import { clear, h } from "./dom";
import { num, t } from "./i18n";
import { me } from "./session";
import { timeEl } from "./time";

type Schemas = components["schemas"];
export type PlanRun = Schemas["RunOut"];
export type PlannerSetup = Schemas["PlannerSetup"];
export type RunIn = Schemas["RunIn"];
export type Compare = Schemas["CompareOut"];
type PlanSummary = Schemas["PlanSummary"];
type Imported = Schemas["ImportOut"];
type AreaKind = Schemas["PlanAreaKind"];

export const YEARS = 4;
const POLL_MS = 1000;

export const plannerApi = {
  setup: () => request<PlannerSetup>("GET", "/api/planner/setup"),
  runs: () => request<PlanRun[]>("GET", "/api/planner/runs"),
  start: (body: RunIn) => request<PlanRun>("POST", "/api/planner/runs", body),
  stop: (id: number) => request<PlanRun>("POST", `/api/planner/runs/${id}/stop`),
  importRun: (id: number) => request<Imported>("POST", `/api/planner/runs/${id}/import`),
  compare: (a: number, b: number) => request<Compare>("GET", `/api/planner/compare?a=${a}&b=${b}`),
};

export const active = (r: PlanRun): boolean => r.state === "queued" || r.state === "running";

/** Budgets of the four years as the server wants them: trailing empty years left out (at least the first). */
export function budgetsOf(values: readonly number[]): number[] {
  const out = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  while (out.length > 1 && out[out.length - 1] === 0) out.pop();
  return out;
}

/** The gap as a percentage with two decimals ("—" before the first step). */
export function gapText(gap: number | null | undefined): string {
  return gap == null ? "—" : `${num(gap * 100, { maximumFractionDigits: 2, minimumFractionDigits: 2 })} %`;
}

// The steps a run reports (plan_runs.phase, "name" or "name:k"): the city planner's and the district planner's.
const PHASES = new Set(["prepare", "sweep", "kelley", "consensus", "lagrangian", "evaluate", "moves", "border", "windows", "years", "done", "greedy", "local", "exact"]);

/** The step a run is in, in words ("" before the first; an unknown step's name as the server sent it). */
export function phaseText(phase: string | null | undefined): string {
  if (!phase) return "";
  const [name, k = ""] = phase.split(":", 2);
  return PHASES.has(name) ? t(`planphase.${name}`, { k }) : phase;
}

const value = (v: number | null | undefined): string => (v == null ? "—" : num(v, { maximumFractionDigits: 1 }));

function areaText(r: PlanRun): string {
  if (r.area_kind === "districts") return t("planner.area.someDistricts", { districts: r.districts.join(", ") });
  if (r.area_kind === "bbox" && r.bbox) return t("planner.area.aBox", { box: r.bbox.map((v) => num(v, { maximumFractionDigits: 4 })).join(", ") });
  return t("planner.area.city");
}

export function mountPlanner(root: HTMLElement): () => void {
  let alive = true;
  let timer: number | undefined;
  const perms = me()?.permissions ?? [];
  const mayRun = perms.includes("plan.run");
  const mayImport = perms.includes("plan.import");
  const status = h("div", { class: "status-line", "data-testid": "planner-status", role: "status" });
  const error = h("div", { class: "error", "data-testid": "planner-error", role: "alert" });
  const formBox = h("div", { class: "planner-form", "data-testid": "planner-form" });
  const runsBody = h("tbody", { "data-testid": "planner-runs" });
  const pickA = h("select", { "data-testid": "planner-compare-a", "aria-label": t("planner.compare.a") });
  const pickB = h("select", { "data-testid": "planner-compare-b", "aria-label": t("planner.compare.b") });
  const compareOut = h("div", { class: "planner-compare", "data-testid": "planner-compare-out" });
  const compareBtn = h("button", { "data-testid": "planner-compare", onclick: () => void compare() }, t("planner.compare.button"));

  const say = (text: string) => {
    status.textContent = text;
    error.textContent = "";
  };
  const fail = (e: unknown) => {
    error.textContent = e instanceof ApiError ? e.detail : (e as Error).message;
  };

  // --- the form -------------------------------------------------------------------------------------------------
  // What the map is (an OSM map, or a synthetic city from `camgrid plan city-gen`) and how large a district or box
  // run may be: larger areas are planned as the whole city (docs/design/planner-screen.md, "The map").
  const aboutMap = (m: PlannerSetup["map"]) =>
    h(
      "p",
      { class: "planner-map", "data-testid": "planner-map", "data-kind": m.kind },
      t(m.synthetic ? "planmap.synthetic" : "planmap.osm", { km2: num(m.km2, { maximumFractionDigits: 2 }) }),
      m.city_planner ? ` ${t("planmap.cityPlanner")}` : "",
      " ",
      t("planmap.limit", { max: num(m.max_district_km2) }),
    );

  const buildForm = (setup: PlannerSetup) => {
    clear(formBox);
    const kind = (k: AreaKind, checked: boolean) => h("input", { type: "radio", name: "planner-area", value: k, checked, "data-testid": `planner-area-${k}` });
    const kinds = { city: kind("city", true), districts: kind("districts", false), bbox: kind("bbox", false) };
    const districtBoxes = setup.districts.map((d) => h("input", { type: "checkbox", value: d.id, "data-testid": `planner-district-${d.id}` }));
    const boxIn = setup.map_bbox.map((v, i) =>
      h("input", { type: "number", step: "any", value: String(v), size: 9, "data-testid": `planner-bbox-${i}`, "aria-label": t(`planner.bbox.${i}`) }),
    );
    const budgets = Array.from({ length: YEARS }, (_, i) =>
      h("input", { type: "number", min: 0, max: setup.max_budget, step: "any", value: i === 0 ? "10" : "0", size: 6, "data-testid": `planner-budget-${i + 1}`, "aria-label": t("planner.budget.year", { n: i + 1 }) }),
    );
    const models = setup.models.map((m, i) => h("input", { type: "checkbox", value: m.name, checked: i === 0, "data-testid": `planner-model-${m.name}` }));
    const weights = Object.entries(setup.weights).map(([k, w]) => [k, h("input", { type: "number", min: 0, max: 1000, step: "any", value: String(w), size: 4, "data-testid": `planner-weight-${k}`, "aria-label": k })] as const);
    const solver = h("select", { "data-testid": "planner-solver", "aria-label": t("planner.solver.label") });
    for (const s of ["greedy", "local", "exact"]) solver.append(h("option", { value: s, selected: s === setup.solver }, t(`planner.solver.${s}`)));
    const start = h("button", { type: "submit", "data-testid": "planner-start", disabled: !mayRun || undefined }, t("planner.start"));
    const form = h(
      "form",
      {},
      h(
        "fieldset",
        {},
        h("legend", {}, t("planner.area.title")),
        aboutMap(setup.map),
        h("label", {}, kinds.city, " ", t("planner.area.city")),
        h("label", {}, kinds.districts, " ", t("planner.area.districts")),
        h("div", { class: "planner-districts" }, ...setup.districts.map((d, i) => h("label", { title: d.bbox.join(", ") }, districtBoxes[i], " ", d.id))),
        h("label", {}, kinds.bbox, " ", t("planner.area.bbox")),
        h("div", { class: "planner-bbox" }, ...boxIn),
      ),
      h("fieldset", {}, h("legend", {}, t("planner.budget.title")), ...budgets.map((b, i) => h("label", {}, t("planner.budget.year", { n: i + 1 }), " ", b))),
      h(
        "fieldset",
        {},
        h("legend", {}, t("planner.models.title")),
        ...setup.models.map((m, i) => h("label", {}, models[i], " ", t("planner.models.line", { name: m.name, fov: num(m.fov_deg), range: num(m.range_m), cost: num(m.cost) }))),
      ),
      h("details", {}, h("summary", {}, t("planner.weights.title")), h("div", { class: "planner-weights" }, ...weights.map(([k, inp]) => h("label", {}, k, " ", inp)))),
      h("label", {}, t("planner.solver.label"), " ", solver),
      " ",
      start,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const area: RunIn["area"] = kinds.districts.checked
        ? { kind: "districts", districts: districtBoxes.filter((b) => b.checked).map((b) => b.value) }
        : kinds.bbox.checked
          ? { kind: "bbox", bbox: boxIn.map((b) => Number(b.value)) }
          : { kind: "city" };
      const body: RunIn = {
        area,
        budgets: budgetsOf(budgets.map((b) => Number(b.value))),
        models: models.filter((m) => m.checked).map((m) => m.value),
        weights: Object.fromEntries(weights.map(([k, inp]) => [k, Number(inp.value)])),
        solver: solver.value as RunIn["solver"],
      };
      start.disabled = true;
      plannerApi
        .start(body)
        .then((run) => {
          say(t("planner.started", { id: run.id }));
          load();
        })
        .catch(fail)
        .finally(() => (start.disabled = !mayRun));
    });
    formBox.append(form);
  };

  // --- the runs ------------------------------------------------------------------------------------------------
  // An active run's step is a line under its bar from the start (blank until the first step), sized by the cell
  // (planner.css): its changing text never moves the table under a click.
  const row = (r: PlanRun): HTMLElement => {
    const bar = h("progress", { max: Math.max(1, r.total), value: r.done, "data-testid": `planner-progress-${r.id}`, "aria-label": t("planner.run.progress", { done: r.done, total: r.total }) });
    const actions = h("td", { class: "buttons" });
    if (mayRun && active(r))
      actions.append(
        h("button", { "data-testid": `planner-stop-${r.id}`, disabled: r.stop_requested || undefined, onclick: () => act(plannerApi.stop(r.id), t("planner.stopAsked", { id: r.id })) }, t("planner.stop")),
      );
    if (mayImport && r.has_plan && !active(r))
      actions.append(
        r.imported_ms != null
          ? h("span", { "data-testid": `planner-imported-${r.id}` }, t("planner.imported"))
          : h("button", { "data-testid": `planner-import-${r.id}`, onclick: () => importRun(r) }, t("planner.import")),
      );
    return h(
      "tr",
      { "data-testid": `planner-run-${r.id}`, "data-state": r.state },
      h("td", {}, `#${r.id}`),
      h("td", {}, r.created_by, " ", timeEl(r.created_ms, "hm")),
      h("td", {}, areaText(r)),
      h("td", {}, r.budgets.map((b) => num(b)).join(" / ")),
      h("td", {}, r.models.join(", ")),
      h("td", { "data-testid": `planner-state-${r.id}`, title: r.detail }, t(`planner.state.${r.state}`), r.detail ? h("div", { class: "hint" }, r.detail) : null),
      h("td", {}, bar, " ", t("planner.run.steps", { done: num(r.done), total: num(r.total) }), active(r) ? h("div", { class: "hint planner-phase", "data-testid": `planner-phase-${r.id}` }, phaseText(r.phase) || "\u00a0") : null),
      h("td", { "data-testid": `planner-objective-${r.id}` }, value(r.objective)),
      h("td", { "data-testid": `planner-bound-${r.id}` }, value(r.bound)),
      h("td", { "data-testid": `planner-gap-${r.id}` }, gapText(r.gap)),
      h("td", {}, r.has_plan ? num(r.cameras) : "—"),
      actions,
    );
  };

  const fillPickers = (runs: PlanRun[]) => {
    const done = runs.filter((r) => r.has_plan);
    for (const sel of [pickA, pickB]) {
      const was = sel.value;
      clear(sel);
      for (const r of done) sel.append(h("option", { value: String(r.id), selected: String(r.id) === was }, `#${r.id} · ${areaText(r)}`));
    }
    if (!pickB.value || pickB.value === pickA.value) {
      const other = done.find((r) => String(r.id) !== pickA.value);
      if (other) pickB.value = String(other.id);
    }
    compareBtn.disabled = done.length < 2;
  };

  const load = () => {
    plannerApi
      .runs()
      .then((runs) => {
        if (!alive) return;
        clear(runsBody);
        if (runs.length === 0) runsBody.append(h("tr", {}, h("td", { colspan: 12 }, t("planner.noRuns"))));
        for (const r of runs) runsBody.append(row(r));
        fillPickers(runs);
        window.clearTimeout(timer);
        if (runs.some(active)) timer = window.setTimeout(load, POLL_MS); // watch progress while anything runs
      })
      .catch(fail);
  };
  const act = (p: Promise<unknown>, done: string) =>
    p
      .then(() => {
        say(done);
        load();
      })
      .catch(fail);
  const importRun = (r: PlanRun) => {
    if (!window.confirm(t("planner.importConfirm", { id: r.id, cameras: r.cameras }))) return;
    plannerApi
      .importRun(r.id)
      .then((out) => {
        say(t("planner.importDone", { id: out.run, cameras: out.cameras }));
        load();
      })
      .catch(fail);
  };

  // --- side by side --------------------------------------------------------------------------------------------
  const column = (s: PlanSummary) => [
    `#${s.run.id} · ${areaText(s.run)}`,
    value(s.objective),
    value(s.bound),
    gapText(s.gap),
    num(s.cameras),
    s.coverage_share == null ? "—" : `${num(s.coverage_share * 100, { maximumFractionDigits: 1 })} %`,
    s.phases.map((p) => t("planner.compare.year", { n: p.phase, cameras: num(p.cameras), adds: value(p.adds) })).join("; "),
  ];
  const compare = async () => {
    try {
      const c = await plannerApi.compare(Number(pickA.value), Number(pickB.value));
      if (!alive) return;
      clear(compareOut);
      const labels = ["run", "objective", "bound", "gap", "cameras", "coverage", "years"].map((k) => t(`planner.compare.${k}`));
      const a = column(c.a);
      const b = column(c.b);
      const cats = [...new Set([...Object.keys(c.a.by_category), ...Object.keys(c.b.by_category)])].sort();
      const pct = (v: number | undefined) => (v == null ? "—" : `${num(v * 100, { maximumFractionDigits: 1 })} %`);
      compareOut.append(
        h(
          "table",
          { class: "table", "data-testid": "planner-compare-table" },
          h("tbody", {}, ...labels.map((l, i) => h("tr", {}, h("th", {}, l), h("td", { "data-testid": `planner-compare-a-${i}` }, a[i]), h("td", { "data-testid": `planner-compare-b-${i}` }, b[i]))),
            ...cats.map((k) => h("tr", {}, h("th", {}, t("planner.compare.category", { category: k })), h("td", {}, pct(c.a.by_category[k])), h("td", {}, pct(c.b.by_category[k]))))),
        ),
        h("div", { class: "hint", "data-testid": "planner-common" }, t("planner.compare.common", { n: num(c.common_sites) })),
      );
    } catch (e) {
      fail(e);
    }
  };

  clear(root);
  root.append(
    h(
      "section",
      { class: "screen planner", "data-testid": "planner" },
      h("h2", {}, t("planner.title")),
      status,
      error,
      formBox,
      h("h3", {}, t("planner.runs")),
      h(
        "div",
        { class: "planner-scroll" },
        h(
        "table",
        { class: "table planner-runs" },
        h("thead", {}, h("tr", {}, ...["id", "who", "area", "budgets", "models", "state", "progress", "objective", "bound", "gap", "cameras", "actions"].map((k) => h("th", {}, t(`planner.col.${k}`))))),
        runsBody,
        ),
      ),
      h("h3", {}, t("planner.compare.title")),
      h("div", { class: "planner-pick" }, pickA, " ", pickB, " ", compareBtn),
      h("div", { class: "planner-scroll" }, compareOut),
    ),
  );
  plannerApi
    .setup()
    .then((s) => alive && buildForm(s))
    .catch(fail);
  load();
  return () => {
    alive = false;
    window.clearTimeout(timer);
  };
}
