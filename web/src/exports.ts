// Exports: camera, time range (city time) and a reason -> POST /api/exports. Before asking (and again before the
// download) the screen lists the gaps inside the range with their reasons (GET /api/exports/coverage). A ready
// export downloads as one package (a zip: clip, README.html on how to verify it, signed manifest, key); the list
// shows status and the SHA-256 of every file, and the manifest stays readable on its own (auditors).
import { ApiError, api, exportFileUrl, request, type ExportInfo } from "./api";
import type { components } from "./api-types";
import { cameraInput } from "./camera-picker";
import { dateTimeInput } from "./datetime-input";
import { clear, h } from "./dom";
import { t } from "./i18n";
import "./styles/reports.css";
import { me } from "./session";
import { fmtHMS, timeEl, timeZone, zoneLabel } from "./time";
import { HOUR, parseZoned } from "./timeline-math";

type Coverage = components["schemas"]["CoverageOut"];
const POLL_TRIES = 1800; // pending exports wait for a person: keep polling (every 1 s) for half an hour
const MAX_RANGE = 6 * HOUR;

export function packageUrl(id: string | number): string {
  return `/api/exports/${encodeURIComponent(String(id))}/package`;
}

const coverageOf = (camera: string, fromMs: number, toMs: number) =>
  request<Coverage>("GET", `/api/exports/coverage?camera=${encodeURIComponent(camera)}&from_ms=${Math.floor(fromMs)}&to_ms=${Math.ceil(toMs)}`);

/** How a camera is chosen: one small function, so the finder's picker can replace the typed id in one line. */
function cameraField(initial: string, onChange: () => void): { el: HTMLElement; value: () => string } {
  const input = cameraInput({ name: "camera", required: true, value: initial, testid: "export-camera" });
  input.addEventListener("change", onChange);
  return { el: input, value: () => input.value.trim() };
}

/** The gaps inside a range, each with its reason and the incident behind it ("power on F-02"). */
function coverageList(c: Coverage, testid: string): HTMLElement {
  const gapText = (g: Coverage["gaps"][number]) =>
    g.incident ? t("exports.gap_incident", { reason: g.reason || t("exports.gap_unknown"), kind: g.incident.kind, subject: g.incident.subject }) : g.reason || t("exports.gap_unknown");
  const secs = Math.round(c.recorded_ms / 1000);
  const total = Math.round((c.to_ms - c.from_ms) / 1000);
  return h(
    "div",
    { class: `export-coverage${c.gaps.length ? " has-gaps" : ""}`, "data-testid": testid, "data-gaps": String(c.gaps.length) },
    h("div", {}, t("exports.recorded", { secs, total })),
    c.gaps.length
      ? h(
          "ul",
          { class: "export-gaps" },
          ...c.gaps.map((g) =>
            h("li", { "data-testid": "export-gap", "data-from": String(g.from_ms), "data-to": String(g.to_ms), "data-reason": g.reason }, t("exports.gap", { from: fmtHMS(g.from_ms), to: fmtHMS(g.to_ms), why: gapText(g) })),
          ),
        )
      : h("div", { class: "muted" }, t("exports.no_gaps")),
  );
}

function filesCell(x: ExportInfo): HTMLElement {
  const box = h("div", { class: "files" });
  const who = me();
  if (x.status === "ready" && x.files.length && who && (who.role === "operator" || who.role === "supervisor"))
    box.append(h("div", { class: "package" }, h("a", { href: packageUrl(x.id), download: `${x.id}.zip`, "data-testid": "export-package" }, t("exports.package"))));
  for (const f of x.files) {
    box.append(
      h(
        "div",
        { class: "file", "data-testid": "export-file", "data-name": f.name, "data-sha256": f.sha256 ?? "" },
        f.name === "manifest.json" ? h("a", { href: exportFileUrl(x.id, f.name), download: f.name, "data-testid": `download-${f.name}` }, f.name) : h("span", {}, f.name),
        ` ${t("exports.bytes", { n: f.bytes.toLocaleString() })} `,
        f.sha256 ? h("code", { class: "sha", title: t("exports.sha256") }, f.sha256) : h("span", { class: "muted" }, f.name === "manifest.json" ? t("exports.holds_digests") : ""),
      ),
    );
  }
  if (x.files.length === 0) box.append(x.status === "pending" ? t("exports.no_files_until") : t("exports.no_files"));
  return box;
}

function statusLine(x: ExportInfo): HTMLElement {
  const detail = x.decision_reason;
  const waiting = x.status === "pending" ? ` — ${t("exports.waiting")}` : "";
  const by = x.decided_by ? ` ${t("exports.by", { who: x.decided_by })}` : "";
  return h("span", { class: `status status-${x.status}` }, t(`exports.status.${x.status}`), by, waiting, detail ? ` — ${detail}` : "");
}

/** Four-eyes: a supervisor (not the requester) approves or refuses a pending export. */
function decisionButtons(x: ExportInfo, after: (x: ExportInfo | null, err?: string) => void): HTMLElement | string {
  const who = me();
  // export.approve is the supervisors' alone (access/policy.py): an admin would only meet a 403.
  if (x.status !== "pending" || !who || who.role !== "supervisor" || x.requested_by === who.username) return "";
  const decide = (d: "approve" | "refuse") => {
    const reason = d === "refuse" ? (window.prompt(t("exports.why_refused")) ?? "") : "";
    if (d === "refuse" && !reason.trim()) return;
    api
      .decideExport(x.id, d, reason.trim())
      .then((y) => after(y))
      .catch((e) => after(null, t("exports.decision_failed", { d, detail: (e as ApiError).detail ?? (e as Error).message })));
  };
  return h(
    "span",
    { class: "decision" },
    h("button", { "data-testid": "export-approve", onclick: () => decide("approve") }, t("exports.approve")),
    h("button", { "data-testid": "export-refuse", onclick: () => decide("refuse") }, t("exports.refuse")),
  );
}

export function mountExports(root: HTMLElement, params: URLSearchParams): () => void {
  const tz = timeZone();
  const now = Date.now();
  const from = Number(params.get("from")) || now - HOUR / 4;
  const to = Number(params.get("to")) || now - 60_000;
  const preview = h("div", { class: "export-preview", "data-testid": "export-preview" });
  let previewTimer = 0;
  const schedulePreview = () => {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(showPreview, 250);
  };
  const cam = cameraField(params.get("camera") ?? "", schedulePreview);
  // Until the shell's 24-hour date-time component (datetime-input.ts) lands: the browser's own input, city time.
  // 24-hour ISO in the city's zone (datetime-input.ts), not the browser's locale picker.
  const fromDt = dateTimeInput({ value: from, testid: "export-from" });
  const toDt = dateTimeInput({ value: to, testid: "export-to" });
  const fromIn = fromDt.input;
  const toIn = toDt.input;
  fromIn.required = toIn.required = true;
  for (const el of [fromIn, toIn]) el.addEventListener("change", schedulePreview);
  const reason = h("textarea", { name: "reason", required: true, rows: 2, cols: 50, placeholder: t("exports.reason_placeholder"), "data-testid": "export-reason" });
  const submit = h("button", { type: "submit", "data-testid": "export-submit" }, t("exports.submit"));
  const result = h("div", { class: "export-result-box" });
  const list = h("tbody", {});
  const form = h(
    "form",
    { class: "export-form", "data-testid": "export-form" },
    h("label", {}, `${t("exports.camera")} `, cam.el),
    h("label", {}, `${t("exports.from", { zone: zoneLabel() })} `, fromDt.el),
    h("label", {}, `${t("exports.to")} `, toDt.el),
    h("label", {}, `${t("exports.reason")} `, reason),
    preview,
    submit,
  );
  root.append(
    h(
      "div",
      { class: "screen exports-screen" },
      h("h2", {}, t("exports.title")),
      form,
      result,
      h("h2", {}, t("exports.list_title")),
      h(
        "table",
        { class: "exports", "data-testid": "export-list" },
        h(
          "thead",
          {},
          h("tr", {}, ...["id", "camera", "requested", "contained", "asked", "status", "files"].map((k) => h("th", {}, t(`exports.col.${k}`)))),
        ),
        list,
      ),
    ),
  );
  let alive = true;
  let pollTimer = 0;

  function showPreview(): void {
    const c = cam.value();
    const f = parseZoned(tz, fromIn.value);
    const e = parseZoned(tz, toIn.value);
    if (!c || !Number.isFinite(f) || !Number.isFinite(e) || e <= f || e - f > MAX_RANGE) return clear(preview);
    coverageOf(c, f, e)
      .then((cov) => alive && preview.replaceChildren(coverageList(cov, "export-coverage")))
      .catch((err) => alive && preview.replaceChildren(h("div", { class: "muted" }, t("exports.no_coverage", { detail: (err as ApiError).detail ?? (err as Error).message }))));
  }

  const showResult = (x: ExportInfo) => {
    clear(result);
    const gaps = h("div", { class: "export-result-gaps" });
    result.append(
      h(
        "div",
        { class: "export-result", "data-testid": "export-result", "data-status": x.status, "data-id": String(x.id) },
        h("div", {}, t("exports.export_of", { id: String(x.id), camera: x.camera }), " ", statusLine(x)),
        h("div", {}, `${t("exports.requested")} `, timeEl(x.from_ms), " – ", timeEl(x.to_ms)),
        x.actual_from_ms != null ? h("div", {}, `${t("exports.contains")} `, timeEl(x.actual_from_ms), " – ", timeEl(x.actual_to_ms), ` ${t("exports.keyframes")}`) : "",
        gaps,
        filesCell(x),
      ),
    );
    // The gaps inside the clip, shown before anyone downloads it.
    coverageOf(x.camera, x.from_ms, x.to_ms)
      .then((cov) => alive && gaps.replaceChildren(coverageList(cov, "export-result-coverage")))
      .catch(() => undefined);
  };

  const poll = (id: string | number, tries = 0) => {
    pollTimer = window.setTimeout(() => {
      api
        .exportOne(id)
        .then((x) => {
          if (!alive) return;
          if (x.status !== "pending" || tries === 0) showResult(x);
          if (x.status === "pending" && tries < POLL_TRIES) poll(id, tries + 1);
          else loadList();
        })
        .catch(() => alive && tries < POLL_TRIES && poll(id, tries + 1));
    }, 1000);
  };

  const fail = (msg: string) => {
    clear(result);
    result.append(h("div", { class: "export-result error", "data-testid": "export-result", "data-status": "error" }, msg));
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = parseZoned(tz, fromIn.value);
    const tt = parseZoned(tz, toIn.value);
    if (!cam.value()) return fail(t("exports.choose_camera"));
    if (!Number.isFinite(f) || !Number.isFinite(tt)) return fail(t("exports.both_times"));
    if (tt <= f) return fail(t("exports.end_after_start"));
    if (!reason.value.trim()) return fail(t("exports.give_reason"));
    submit.disabled = true;
    api
      .createExport(cam.value(), f, tt, reason.value.trim())
      .then((x) => {
        showResult(x);
        if (x.status === "pending") poll(x.id, 1);
        loadList();
      })
      .catch((err) => {
        const e2 = err as ApiError;
        fail(e2.status === 404 ? t("exports.no_recording", { camera: cam.value(), detail: e2.detail }) : t("exports.failed", { detail: e2.detail ?? e2.message }));
      })
      .finally(() => (submit.disabled = false));
  });

  const loadList = () => {
    api
      .exports()
      .then((xs) => {
        if (!alive) return;
        clear(list);
        for (const x of xs) {
          list.append(
            h(
              "tr",
              { "data-testid": "export-row", "data-id": String(x.id), "data-status": x.status },
              h("td", {}, String(x.id)),
              h("td", {}, x.camera),
              h("td", {}, timeEl(x.from_ms), " – ", timeEl(x.to_ms)),
              h("td", {}, x.actual_from_ms != null ? timeEl(x.actual_from_ms) : "—", " – ", x.actual_to_ms != null ? timeEl(x.actual_to_ms) : "—"),
              h("td", {}, x.requested_by, ": ", x.reason),
              h("td", {}, statusLine(x), " ", decisionButtons(x, (_y, err) => (err ? fail(err) : loadList()))),
              h("td", {}, filesCell(x)),
            ),
          );
        }
        if (xs.length === 0) list.append(h("tr", {}, h("td", { colspan: 7 }, t("exports.none_yet"))));
      })
      .catch((e) => {
        clear(list);
        list.append(h("tr", {}, h("td", { colspan: 7, class: "error" }, t("exports.cannot_list", { detail: (e as Error).message }))));
      });
  };
  loadList();
  showPreview();
  return () => {
    alive = false;
    window.clearTimeout(pollTimer);
    window.clearTimeout(previewTimer);
  };
}
