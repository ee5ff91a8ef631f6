// The auditor's screen (issue 13, docs/design/auditor-screen.md): search the audit log by person, camera, action and
// time; every entry shown is checked here in the browser (its canonical bytes hashed, its inclusion path folded to
// the root of a checkpoint whose Ed25519 signature by the log's key is verified); consistency between any two
// checkpoints; the monthly transparency report per district with plots; the log as a download for offline
// `camgrid audit verify`. No video: the auditor role holds no live, playback or download permission.
import { request } from "./api";
import type { components } from "./api-types";
import { parseVerifierKey, ed25519Engine, verifyCheckpoints, verifyEntry, type VerifierKey } from "./audit-verify";
import { niceTicks, scale, SERIES_COLOURS } from "./chart-math";
import { h } from "./dom";
import { fmtFull, timeZone } from "./time";
import { dateTimeInput, formatDateTime } from "./datetime-input";
import { message, t } from "./i18n";

type S = components["schemas"];
type Entry = S["AuditEntryOut"];

const SVG = "http://www.w3.org/2000/svg";
/** A transparency report's column (live_views, deleted_gb, ...) in the user's language (an unknown one as it is). */
const column = (c: string): string => (message("en", `common.auditColumn.${c}`) ? t(`common.auditColumn.${c}`) : c.replace(/_/g, " "));
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...kids: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of kids) el.append(c);
  return el;
}

/** Grouped bars: one group per month, one bar per district, for one column of the transparency report. */
export function monthBars(months: S["TransparencyMonth"][], column: string, W = 900, H = 260): SVGSVGElement {
  const m = { l: 44, r: 130, t: 10, b: 26 };
  const districts = [...new Set(months.flatMap((mo) => mo.rows.map((r) => r.district)))].sort();
  const value = (mo: S["TransparencyMonth"], d: string) => mo.rows.find((r) => r.district === d)?.counts[column] ?? 0;
  const max = Math.max(1, ...months.flatMap((mo) => districts.map((d) => value(mo, d))));
  const y = scale(0, max, H - m.b, m.t);
  const gw = (W - m.l - m.r) / Math.max(1, months.length);
  const bw = Math.max(2, (gw - 6) / Math.max(1, districts.length));
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": t("shell.audit.chart_label", { column }) });
  for (const v of niceTicks(0, max, 4))
    svg.append(s("line", { x1: m.l, x2: W - m.r, y1: y(v), y2: y(v), class: "grid" }), s("text", { x: m.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, String(v)));
  months.forEach((mo, i) => {
    const x0 = m.l + i * gw + 3;
    districts.forEach((d, k) => {
      const v = value(mo, d);
      svg.append(s("rect", { x: x0 + k * bw, y: y(v), width: bw - 1, height: Math.max(0, H - m.b - y(v)), fill: SERIES_COLOURS[k % SERIES_COLOURS.length], class: "bar", "data-month": mo.month, "data-district": d, "data-value": v }, s("title", {}, `${d} ${mo.month}: ${v}`)));
    });
    svg.append(s("text", { x: x0 + gw / 2 - 3, y: H - 8, "text-anchor": "middle", class: "tick" }, mo.month));
  });
  districts.forEach((d, k) => svg.append(s("text", { x: W - m.r + 8, y: m.t + 14 + k * 16, fill: SERIES_COLOURS[k % SERIES_COLOURS.length], class: "legend" }, d)));
  if (!districts.length) svg.append(s("text", { x: m.l + 10, y: m.t + 24, class: "tick" }, t("shell.audit.chart_empty")));
  return svg;
}

function section(testid: string, heading: string, ...kids: (Node | string)[]): HTMLElement {
  return h("section", { class: "report", "data-testid": testid }, h("h3", {}, heading), ...kids);
}

export function mountAuditor(root: HTMLElement, params: URLSearchParams): () => void {
  let alive = true;
  let key: VerifierKey | null = null;
  const keyEl = h("div", { class: "muted", "data-testid": "audit-key" }, t("shell.audit.key_loading"));
  const whoIn = h("input", { placeholder: t("shell.audit.person"), value: params.get("who") ?? "", "data-testid": "audit-who", size: 12 });
  const camIn = h("input", { placeholder: t("shell.audit.camera"), value: params.get("camera") ?? "", "data-testid": "audit-camera", size: 12 });
  const actIn = h("input", { placeholder: t("shell.audit.action"), value: params.get("action") ?? "", "data-testid": "audit-action", size: 14 });
  // 24-hour ISO date-times in the city's zone (datetime-input.ts), not the browser's locale and zone.
  const fromIn = dateTimeInput({ testid: "audit-from", seconds: false, label: t("shell.audit.from") });
  const toIn = dateTimeInput({ testid: "audit-to", seconds: false, label: t("shell.audit.to") });
  const status = h("span", { class: "muted", "data-testid": "audit-status" });
  const tbody = h("tbody", {});
  const more = h("button", { "data-testid": "audit-more", hidden: true }, t("shell.audit.older"));
  let next: number | null = null;
  let generation = 0; // a newer search makes the answers of older ones stale

  const keyReady = request<S["CheckpointList"]>("GET", "/api/audit/checkpoints?limit=200").then(async (ck) => {
    key = await parseVerifierKey(ck.key.verifier);
    keyEl.replaceChildren(
      t("shell.audit.key_label"),
      " ",
      h("code", {}, ck.key.name),
      t("shell.audit.key_id", { id: ck.key.key_id }),
      h("code", { "data-testid": "audit-fingerprint" }, ck.key.fingerprint),
      t("shell.audit.key_public"),
      h("code", {}, ck.key.public_key),
    );
    const sizes = ck.checkpoints.map((c) => c.size);
    oldIn.value = String(sizes[sizes.length - 1] ?? "");
    newIn.value = String(sizes[0] ?? "");
    sizesList.replaceChildren(...sizes.map((n) => h("option", { value: String(n) })));
    return key;
  });

  async function check(e: Entry, cell: HTMLElement): Promise<void> {
    cell.textContent = t("shell.audit.checking");
    try {
      const k = key ?? (await keyReady);
      const p = await request<S["InclusionOut"]>("GET", `/api/audit/entries/${e.index}/proof`);
      const r = await verifyEntry(e, p, k);
      if (!alive) return;
      cell.className = r.ok ? "audit-ok" : "audit-bad error";
      cell.dataset.result = r.ok ? "ok" : "failed";
      cell.textContent = r.ok ? t("shell.audit.verified", { size: p.size }) : t("shell.audit.failed", { why: r.why });
      cell.title = t("shell.audit.checked_with", { why: r.why, engine: ed25519Engine() });
    } catch (err) {
      cell.className = "audit-bad error";
      cell.dataset.result = "error";
      cell.textContent = t("shell.audit.cannot_check", { message: (err as Error).message });
    }
  }

  function row(e: Entry): HTMLTableRowElement {
    const cell = h("td", { "data-testid": `audit-check-${e.index}` });
    const recheck = h("button", { onclick: () => void check(e, cell) }, t("shell.audit.recheck"));
    const tr = h(
      "tr",
      { "data-index": e.index },
      h("td", { class: "num" }, String(e.index)),
      h("td", { title: t("shell.audit.ms_utc", { ms: e.at_ms }) }, fmtFull(e.at_ms)),
      h("td", {}, e.who),
      h("td", {}, h("code", {}, e.action)), // the code an auditor types in the action filter
      h("td", {}, e.camera ?? ""),
      h("td", {}, e.district ?? ""),
      h("td", {}, h("details", {}, h("summary", {}, t("shell.audit.bytes")), h("code", { class: "audit-data" }, e.data))),
      cell,
      h("td", {}, recheck),
    );
    void check(e, cell);
    return tr;
  }

  async function search(before: number | null): Promise<void> {
    const q = new URLSearchParams({ limit: "50" });
    if (whoIn.value.trim()) q.set("who", whoIn.value.trim());
    if (camIn.value.trim()) q.set("camera", camIn.value.trim());
    if (actIn.value.trim()) q.set("action", actIn.value.trim());
    const f = fromIn.value();
    const to = toIn.value();
    if (f !== null && !Number.isFinite(f)) return fromIn.input.focus();
    if (to !== null && !Number.isFinite(to)) return toIn.input.focus();
    if (f !== null) q.set("from_ms", String(Math.floor(f)));
    if (to !== null) q.set("to_ms", String(Math.ceil(to)));
    if (before !== null) q.set("before", String(before));
    else {
      generation++;
      tbody.replaceChildren();
    }
    const mine = generation;
    status.textContent = t("shell.audit.searching");
    try {
      const page = await request<S["AuditPage"]>("GET", `/api/audit/entries?${q}`);
      if (!alive || mine !== generation) return;
      tbody.append(...page.entries.map(row));
      next = page.next_before ?? null;
      more.hidden = next === null;
      status.textContent = t(tbody.childElementCount === 1 ? "shell.audit.entries_one" : "shell.audit.entries", { n: tbody.childElementCount });
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  }
  more.addEventListener("click", () => void search(next));
  const form = h(
    "form",
    { class: "toolbar", "data-testid": "audit-search" },
    whoIn, camIn, actIn, h("label", {}, t("shell.audit.from"), " ", fromIn.el), h("label", {}, t("shell.audit.to"), " ", toIn.el), t("shell.audit.zone", { zone: timeZone() }),
    h("button", { type: "submit", "data-testid": "audit-search-go" }, t("shell.audit.search")),
    " ",
    status,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void search(null);
  });

  // Consistency between two checkpoints.
  const sizesList = h("datalist", { id: "audit-sizes" });
  const oldIn = h("input", { type: "number", min: 1, list: "audit-sizes", "data-testid": "audit-cons-from", size: 8 });
  const newIn = h("input", { type: "number", min: 1, list: "audit-sizes", "data-testid": "audit-cons-to", size: 8 });
  const consOut = h("span", { "data-testid": "audit-cons-result" });
  const consGo = h("button", {
    "data-testid": "audit-cons-go",
    onclick: async () => {
      consOut.textContent = t("shell.audit.checking");
      try {
        const k = key ?? (await keyReady);
        const r = await request<S["ConsistencyOut"]>("GET", `/api/audit/consistency?from=${Number(oldIn.value)}&to=${Number(newIn.value)}`);
        const v = await verifyCheckpoints(r.old.note, r.new.note, r.path, k);
        consOut.className = v.ok ? "audit-ok" : "audit-bad error";
        consOut.dataset.result = v.ok ? "ok" : "failed";
        consOut.textContent = v.ok ? t("shell.audit.consistent", { why: v.why }) : t("shell.audit.failed", { why: v.why });
      } catch (err) {
        consOut.className = "error";
        consOut.dataset.result = "error";
        consOut.textContent = (err as Error).message;
      }
    },
  }, t("shell.audit.check_consistency"));

  // The monthly transparency report.
  // ISO "YYYY-MM" typed, as every other date here (the browser's month picker shows its own locale's words).
  const monthIn = h("input", { type: "text", inputmode: "numeric", pattern: "\\d{4}-\\d{2}", maxlength: 7, size: 7, placeholder: t("shell.audit.month_placeholder"), value: formatDateTime(Date.now(), timeZone()).slice(0, 7), "data-testid": "audit-month" });
  const colSel = h("select", { "data-testid": "audit-column" });
  const plot = h("div", { "data-testid": "audit-transparency-plot" });
  const table = h("div", { "data-testid": "audit-transparency-table" });
  let report: S["TransparencyOut"] | null = null;
  function draw(): void {
    if (!report) return;
    plot.replaceChildren(monthBars(report.months, colSel.value || report.columns[0]));
    const last = report.months[report.months.length - 1];
    table.replaceChildren(
      h(
        "table",
        { class: "report-table" },
        h("thead", {}, h("tr", {}, h("th", {}, t("shell.audit.district_month", { month: last.month })), ...report.columns.map((c) => h("th", {}, column(c))))),
        h("tbody", {}, ...last.rows.map((r) => h("tr", { "data-district": r.district }, h("td", {}, r.district), ...report!.columns.map((c) => h("td", { class: "num" }, c === "deleted_gb" ? (r.counts[c] ?? 0).toFixed(2) : String(r.counts[c] ?? 0)))))),
      ),
    );
  }
  async function loadReport(): Promise<void> {
    if (!/^\d{4}-\d{2}$/.test(monthIn.value)) return;
    try {
      report = await request<S["TransparencyOut"]>("GET", `/api/audit/transparency?month=${monthIn.value}&months=12`);
      if (!colSel.options.length) colSel.replaceChildren(...report.columns.map((c) => h("option", { value: c }, column(c))));
      draw();
    } catch (err) {
      plot.replaceChildren(h("div", { class: "error" }, (err as Error).message));
    }
  }
  monthIn.addEventListener("change", () => void loadReport());
  colSel.addEventListener("change", draw);

  root.append(
    h(
      "div",
      { class: "screen auditor-screen" },
      h("h2", {}, t("shell.nav.audit")),
      keyEl,
      form,
      h(
        "table",
        { class: "exports audit-table", "data-testid": "audit-results" },
        h("thead", {}, h("tr", {}, ...["index", "when", "who", "action", "camera", "district", "entry", "checked", "blank"].map((c) => h("th", {}, t(`shell.audit.col_${c}`))))),
        tbody,
      ),
      more,
      section("audit-consistency", t("shell.audit.consistency"), h("div", { class: "toolbar" }, t("shell.audit.tree_size"), " ", oldIn, t("shell.audit.arrow"), newIn, " ", consGo, " ", consOut), sizesList),
      section("audit-transparency", t("shell.audit.transparency"), h("div", { class: "toolbar" }, t("shell.audit.twelve_months"), " ", monthIn, " ", colSel), plot, table),
      section(
        "audit-export-box",
        t("shell.audit.offline"),
        h("p", {}, t("shell.audit.offline_text1"), h("code", {}, t("shell.audit.offline_command")), t("shell.audit.offline_text2")),
        h("a", { href: "/api/audit/export", download: "", class: "button", "data-testid": "audit-export" }, t("shell.audit.export")),
      ),
    ),
  );
  void keyReady.catch((err) => keyEl.replaceChildren(h("span", { class: "error" }, t("shell.audit.key_error", { message: (err as Error).message }))));
  void search(null);
  void loadReport();
  return () => {
    alive = false;
  };
}
