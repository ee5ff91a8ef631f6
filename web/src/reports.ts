// Reports (issue 6, issue 16): availability over time per district (line plot), feeder reliability ranking (bars),
// the hours of the day when power fails (bars) and the availability table per district, feeder, site, uplink or
// camera (tabs), each downloadable as CSV; plain SVG, no chart library. Period: last 24 h, last 7 days or a custom
// city-time range. One definition of availability (the server's health.reports.availability: only the time a camera
// existed and was not in maintenance) feeds the table, the chart's legend and the CSV, so they agree.
import { request, type AvailabilityReport, type AvailabilityRow, type PowerCutReport, type SeriesReport } from "./api";
import { availabilityFloor, cameraHours, DAY, fmtAvailability, grouping, GROUPINGS, HOUR, niceTicks, pickStep, scale, SERIES_COLOURS, type ReportGrouping } from "./chart-math";
import { go, h } from "./dom";
import { digitsOf, num as fmtNum, t } from "./i18n";
import "./styles/reports.css";
import { dateTimeInput } from "./datetime-input";
import { fmtFull, fmtHM, timeZone, utcTitle } from "./time";
import { parseZoned } from "./timeline-math";

type Series = SeriesReport;
type PowerCuts = PowerCutReport;
type AvailRow = AvailabilityRow;
type Avail = AvailabilityReport;

const SVG = "http://www.w3.org/2000/svg";
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...kids: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of kids) el.append(c);
  return el;
}
const title = (t: string) => s("title", {}, t);

function fmtDay(ms: number): string {
  return fmtFull(ms).slice(5, 10);
}

function lineChart(data: Series, W = 900, H = 300): SVGSVGElement {
  const m = { l: 48, r: 120, t: 10, b: 28 };
  const keys = Object.keys(data.series).sort();
  const all = keys.flatMap((k) => data.series[k].filter((v): v is number => v != null));
  const t0 = data.t_ms[0] ?? 0;
  const t1 = (data.t_ms[data.t_ms.length - 1] ?? t0) + (data.step_ms || 0);
  const lo = availabilityFloor(all);
  const x = scale(t0, t1, m.l, W - m.r);
  const y = scale(lo, 1, H - m.b, m.t);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": t("reports.chart_label") });
  for (const v of niceTicks(lo, 1, 5)) {
    svg.append(s("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: "grid" }), s("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, `${Math.round(v * 100)}%`));
  }
  const span = t1 - t0;
  const tStep = span <= 2 * DAY ? (span <= 12 * HOUR ? HOUR : 3 * HOUR) : DAY;
  const nx = Math.min(12, Math.max(2, Math.round(span / tStep)));
  for (let i = 0; i <= nx; i++) {
    const t = t0 + (span * i) / nx;
    svg.append(s("text", { x: x(t), y: H - 8, "text-anchor": "middle", class: "tick" }, span > 2 * DAY ? fmtDay(t) : fmtHM(t), title(utcTitle(t))));
  }
  keys.forEach((k, n) => {
    const col = SERIES_COLOURS[n % SERIES_COLOURS.length];
    let d = "";
    let pen = false;
    data.series[k].forEach((v, i) => {
      if (v == null) {
        pen = false;
        return;
      }
      const px = x(data.t_ms[i] + (data.step_ms || 0) / 2);
      d += `${pen ? "L" : "M"}${px.toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    // The legend states the whole period's availability (the table's number), not the last bucket's.
    const whole = data.period?.[k] ?? null;
    svg.append(
      s("path", { d, class: "series", stroke: col, "data-key": k }, title(k)),
      s("text", { x: W - m.r + 6, y: m.t + 14 + n * 16, fill: col, class: "legend", "data-testid": "report-legend", "data-key": k, "data-value": fmtAvailability(whole) }, `${k} ${fmtAvailability(whole)}`),
    );
  });
  // Hover: the values of every series at the pointer.
  const hover = s("line", { x1: 0, x2: 0, y1: m.t, y2: H - m.b, class: "hover", visibility: "hidden" });
  const tip = s("text", { x: 0, y: m.t + 12, class: "tick hover-text", visibility: "hidden" });
  svg.append(hover, tip);
  svg.addEventListener("mousemove", (e) => {
    const r = svg.getBoundingClientRect();
    const px = ((e.clientX - r.left) / r.width) * W;
    if (px < m.l || px > W - m.r || !data.t_ms.length) return;
    const i = Math.max(0, Math.min(data.t_ms.length - 1, Math.floor(((px - m.l) / (W - m.r - m.l)) * (t1 - t0) / (data.step_ms || 1))));
    hover.setAttribute("x1", String(px));
    hover.setAttribute("x2", String(px));
    hover.setAttribute("visibility", "visible");
    const vals = keys.map((k) => `${k} ${data.series[k][i] == null ? "—" : `${((data.series[k][i] as number) * 100).toFixed(1)}%`}`).join("  ");
    tip.textContent = `${fmtFull(data.t_ms[i])}  ${vals}`;
    tip.setAttribute("x", String(m.l + 4));
    tip.setAttribute("visibility", "visible");
  });
  svg.addEventListener("mouseleave", () => {
    hover.setAttribute("visibility", "hidden");
    tip.setAttribute("visibility", "hidden");
  });
  return svg;
}

function hBars(rows: { label: string; value: number; note: string }[], W = 900): SVGSVGElement {
  const rowH = 22;
  const m = { l: 90, r: 140, t: 4 };
  const H = Math.max(40, m.t + rows.length * rowH + 4);
  const max = Math.max(1, ...rows.map((r) => r.value));
  const x = scale(0, max, m.l, W - m.r);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" });
  rows.forEach((r, i) => {
    const y = m.t + i * rowH;
    svg.append(
      s("text", { x: m.l - 6, y: y + 15, "text-anchor": "end", class: "tick" }, r.label),
      s("rect", { x: m.l, y: y + 3, width: Math.max(1, x(r.value) - m.l), height: rowH - 6, class: "bar bad", "data-feeder": r.label }, title(`${r.label}: ${r.note}`)),
      s("text", { x: x(r.value) + 6, y: y + 15, class: "tick" }, r.note),
    );
  });
  if (!rows.length) svg.append(s("text", { x: 10, y: 24, class: "tick" }, t("reports.no_power_cuts")));
  return svg;
}

function hourBars(hours: number[], W = 900, H = 200): SVGSVGElement {
  const m = { l: 36, r: 10, t: 10, b: 26 };
  const max = Math.max(1, ...hours);
  const bw = (W - m.l - m.r) / 24;
  const y = scale(0, max, H - m.b, m.t);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": t("reports.hours_label") });
  for (const v of niceTicks(0, max, 4)) svg.append(s("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: "grid" }), s("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, fmtNum(v)));
  hours.forEach((v, hr) => {
    const x = m.l + hr * bw;
    svg.append(
      s("rect", { x: x + 2, y: y(v), width: bw - 4, height: Math.max(0, H - m.b - y(v)), class: "bar warn", "data-hour": hr, "data-value": v }, title(t(v === 1 ? "reports.hour_cut_one" : "reports.hour_cuts", { hour: String(hr).padStart(2, "0"), n: v }))),
      s("text", { x: x + bw / 2, y: H - 8, "text-anchor": "middle", class: "tick" }, digitsOf(String(hr).padStart(2, "0"))),
    );
  });
  return svg;
}

function table(a: Avail, by: ReportGrouping): HTMLTableElement {
  const causes = Object.keys(a.rows[0]?.outage_min ?? a.city?.outage_min ?? {});
  const num = (v: string, key: string) => h("td", { class: "num", "data-col": key }, v);
  const row = (r: AvailRow, cls = "") =>
    h(
      "tr",
      { class: cls, "data-testid": "report-row", "data-key": r.key, "data-availability": fmtAvailability(r.availability) },
      h("td", {}, cls === "total" ? t("common.cityTotal") : r.key), // the whole city's row: a word, not a key
      num(String(r.cameras), "cameras"),
      h("td", { class: "num", "data-col": "availability" }, h("span", { class: "avail-bar", style: `--v:${((r.availability ?? 0) * 100).toFixed(1)}%` }), ` ${fmtAvailability(r.availability)}`),
      num(cameraHours(r.camera_min), "camera_hours"),
      num(cameraHours(r.expected_min), "expected_camera_hours"),
      num(cameraHours(r.down_min), "down_camera_hours"),
      ...causes.map((c) => num(cameraHours((r.outage_min as Record<string, number>)[c] ?? 0), `${c}_camera_hours`)),
    );
  return h(
    "table",
    { class: "report-table", "data-testid": "report-table", "data-by": by },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, t(`reports.group.${by}`)),
        h("th", {}, t("reports.col.cameras")),
        h("th", { title: t("reports.col.availability_note") }, t("reports.col.availability")),
        h("th", {}, t("reports.col.camera_hours")),
        h("th", {}, t("reports.col.expected_hours")),
        h("th", {}, t("reports.col.down_hours")),
        ...causes.map((c) => h("th", {}, t("reports.col.cause_hours", { cause: t(`reports.cause.${c}`) }))),
      ),
    ),
    h("tbody", {}, ...a.rows.map((r) => row(r)), a.city ? row({ ...a.city, key: "city" }, "total") : ""),
  );
}

function box(testid: string, heading: string, note: string): { el: HTMLElement; body: HTMLElement } {
  const body = h("div", { class: "report-body" }, t("common.loading"));
  return { el: h("section", { class: "report", "data-testid": testid }, h("h3", {}, heading, h("span", { class: "muted" }, note)), body), body };
}

export function mountReports(root: HTMLElement, params: URLSearchParams): () => void {
  const now = Date.now();
  const period = params.get("period") ?? "24h";
  const by = grouping(params.get("by"));
  let fromMs = period === "7d" ? now - 7 * DAY : now - DAY;
  let toMs = now;
  if (period === "custom") {
    fromMs = Number(params.get("from")) || fromMs;
    toMs = Number(params.get("to")) || toMs;
  }
  const keep = period === "custom" ? { from: fromMs, to: toMs } : {};
  const pick = (p: string) => h("button", { class: period === p ? "active" : "", "data-testid": `report-period-${p}`, onclick: () => go("reports", { period: p, by }) }, t(p === "24h" ? "reports.last_24h" : "reports.last_7d"));
  // 24-hour ISO in the city's zone (datetime-input.ts), not the browser's locale picker.
  const fromDt = dateTimeInput({ value: fromMs, testid: "report-from" });
  const toDt = dateTimeInput({ value: toMs, testid: "report-to" });
  const fromIn = fromDt.input;
  const toIn = toDt.input;
  const apply = h("button", {
    "data-testid": "report-apply",
    onclick: () => {
      const f = parseZoned(timeZone(), fromIn.value);
      const to = parseZoned(timeZone(), toIn.value);
      if (Number.isFinite(f) && Number.isFinite(to) && to > f) go("reports", { period: "custom", from: f, to, by });
    },
  }, t("reports.show"));
  const avail = box("report-availability-chart", t("reports.chart_title"), t("reports.chart_note"));
  const rank = box("report-feeder-ranking", t("reports.ranking_title"), t("reports.ranking_note"));
  const hours = box("report-hours-chart", t("reports.hours_title"), t("reports.hours_note", { zone: timeZone() }));
  const q = `from_ms=${Math.floor(fromMs)}&to_ms=${Math.ceil(toMs)}`;
  const csvHref = `/api/reports/availability.csv?${q}&by=${by}`;
  const tabs = h(
    "div",
    { class: "report-tabs", role: "tablist" },
    ...GROUPINGS.map((g) =>
      h("button", { role: "tab", class: g === by ? "active" : "", "aria-selected": g === by ? "true" : "false", "data-testid": `report-by-${g}`, onclick: () => go("reports", { period, by: g, ...keep }) }, t(`reports.by.${g}`)),
    ),
    h("a", { class: "report-csv", href: csvHref, download: `availability-${by}.csv`, "data-testid": "report-csv" }, t("reports.csv")),
  );
  const tab = box("report-table-box", t(`reports.table_title.${by}`), t("reports.table_note"));
  tab.el.insertBefore(tabs, tab.body);
  root.append(
    h(
      "div",
      { class: "screen reports-screen" },
      h("div", { class: "toolbar" }, t("reports.period"), " ", pick("24h"), pick("7d"), h("label", {}, ` ${t("reports.from")} `, fromDt.el), h("label", {}, ` ${t("reports.to")} `, toDt.el), apply, h("span", { class: "muted" }, ` ${fmtFull(fromMs)} – ${fmtFull(toMs)} (${timeZone()})`)),
      h("div", { class: "reports" }, avail.el, tab.el, rank.el, hours.el),
    ),
  );
  const fail = (b: HTMLElement) => (e: unknown) => b.replaceChildren(h("div", { class: "error" }, (e as Error).message));
  request<Series>("GET", `/api/reports/availability-series?${q}&step_ms=${pickStep(fromMs, toMs)}&by=district`)
    .then((d) => avail.body.replaceChildren(d.t_ms.length ? lineChart(d) : t("reports.no_data")))
    .catch(fail(avail.body));
  request<PowerCuts>("GET", `/api/reports/power-cuts?${q}`)
    .then((d) => {
      rank.body.replaceChildren(
        hBars(d.feeders.slice(0, 20).map((f) => ({ label: f.feeder, value: f.minutes, note: t(f.cuts === 1 ? "reports.feeder_note_one" : "reports.feeder_note", { min: f.minutes.toFixed(0), n: f.cuts }) }))),
        d.feeders.length > 20 ? h("div", { class: "muted" }, t("reports.more_feeders", { n: d.feeders.length - 20 })) : "",
      );
      hours.body.replaceChildren(hourBars(d.hour_of_day?.length === 24 ? d.hour_of_day : new Array(24).fill(0)));
    })
    .catch((e) => {
      fail(rank.body)(e);
      fail(hours.body)(e);
    });
  request<Avail>("GET", `/api/reports/availability?${q}&by=${by}`)
    .then((d) => tab.body.replaceChildren(table(d, by)))
    .catch(fail(tab.body));
  return () => {};
}
