// Exports: camera, time range (city time) and a reason -> POST /api/exports; the list shows status, the SHA-256
// of every file and links to clip.mp4 and manifest.json.
import { ApiError, api, exportFileUrl, type ExportInfo } from "./api";
import { cameraInput } from "./camera-picker";
import { clear, h } from "./dom";
import { me } from "./session";
import { timeEl, timeZone, zoneLabel } from "./time";
import { HOUR, formatZonedInput, parseZoned } from "./timeline-math";

const POLL_TRIES = 1800; // pending exports wait for a person: keep polling (every 1 s) for half an hour

function filesCell(x: ExportInfo): HTMLElement {
  const box = h("div", { class: "files" });
  for (const f of x.files) {
    box.append(
      h(
        "div",
        { class: "file", "data-testid": "export-file", "data-name": f.name, "data-sha256": f.sha256 ?? "" },
        h("a", { href: exportFileUrl(x.id, f.name), download: f.name, "data-testid": `download-${f.name}` }, f.name),
        ` ${f.bytes.toLocaleString()} B `,
        f.sha256 ? h("code", { class: "sha", title: "SHA-256" }, f.sha256) : h("span", { class: "muted" }, f.name === "manifest.json" ? "(holds the digests)" : ""),
      ),
    );
  }
  if (x.files.length === 0) box.append(x.status === "pending" ? "no files until approved" : "no files");
  return box;
}

function statusLine(x: ExportInfo): HTMLElement {
  const detail = x.decision_reason;
  const waiting = x.status === "pending" ? " — waiting for a second person (a supervisor of the district) to approve" : "";
  const by = x.decided_by ? ` by ${x.decided_by}` : "";
  return h("span", { class: `status status-${x.status}` }, x.status, by, waiting, detail ? ` — ${detail}` : "");
}

/** Four-eyes: a supervisor (not the requester) approves or refuses a pending export. */
function decisionButtons(x: ExportInfo, after: (x: ExportInfo | null, err?: string) => void): HTMLElement | string {
  const who = me();
  // export.approve is the supervisors' alone (access/policy.py): an admin would only meet a 403.
  if (x.status !== "pending" || !who || who.role !== "supervisor" || x.requested_by === who.username) return "";
  const decide = (d: "approve" | "refuse") => {
    const reason = d === "refuse" ? (window.prompt("Why is this export refused?") ?? "") : "";
    if (d === "refuse" && !reason.trim()) return;
    api
      .decideExport(x.id, d, reason.trim())
      .then((y) => after(y))
      .catch((e) => after(null, `${d} failed: ${(e as ApiError).detail ?? (e as Error).message}`));
  };
  return h(
    "span",
    { class: "decision" },
    h("button", { "data-testid": "export-approve", onclick: () => decide("approve") }, "Approve"),
    h("button", { "data-testid": "export-refuse", onclick: () => decide("refuse") }, "Refuse"),
  );
}

export function mountExports(root: HTMLElement, params: URLSearchParams): () => void {
  const tz = timeZone();
  const now = Date.now();
  const from = Number(params.get("from")) || now - HOUR / 4;
  const to = Number(params.get("to")) || now - 60_000;
  const cam = cameraInput({ name: "camera", required: true, value: params.get("camera") ?? "", testid: "export-camera" });
  const fromIn = h("input", { type: "datetime-local", step: 1, name: "from", required: true, value: formatZonedInput(tz, from), "data-testid": "export-from" });
  const toIn = h("input", { type: "datetime-local", step: 1, name: "to", required: true, value: formatZonedInput(tz, to), "data-testid": "export-to" });
  const reason = h("textarea", { name: "reason", required: true, rows: 2, cols: 50, placeholder: "why this clip is needed (case number, request…)", "data-testid": "export-reason" });
  const submit = h("button", { type: "submit", "data-testid": "export-submit" }, "Export");
  const result = h("div", { class: "export-result-box" });
  const list = h("tbody", {});
  const form = h(
    "form",
    { class: "export-form", "data-testid": "export-form" },
    h("label", {}, "Camera ", cam),
    h("label", {}, `From (${zoneLabel()}) `, fromIn),
    h("label", {}, "To ", toIn),
    h("label", {}, "Reason ", reason),
    submit,
  );
  root.append(
    h(
      "div",
      { class: "screen exports-screen" },
      h("h2", {}, "Export a clip"),
      form,
      result,
      h("h2", {}, "Exports"),
      h("table", { class: "exports", "data-testid": "export-list" },
        h("thead", {}, h("tr", {}, h("th", {}, "id"), h("th", {}, "camera"), h("th", {}, "requested"), h("th", {}, "contained"), h("th", {}, "asked by: reason"), h("th", {}, "status"), h("th", {}, "files (SHA-256)"))),
        list,
      ),
    ),
  );
  let alive = true;
  let pollTimer = 0;

  const showResult = (x: ExportInfo) => {
    clear(result);
    result.append(
      h(
        "div",
        { class: "export-result", "data-testid": "export-result", "data-status": x.status, "data-id": String(x.id) },
        h("div", {}, "Export ", h("b", {}, String(x.id)), " of ", x.camera, ": ", statusLine(x)),
        h("div", {}, "requested ", timeEl(x.from_ms), " – ", timeEl(x.to_ms)),
        x.actual_from_ms != null ? h("div", {}, "contains ", timeEl(x.actual_from_ms), " – ", timeEl(x.actual_to_ms), " (cut on keyframes)") : "",
        filesCell(x),
      ),
    );
  };

  const poll = (id: string | number, tries = 0) => {
    pollTimer = window.setTimeout(() => {
      api
        .exportOne(id)
        .then((x) => {
          if (!alive) return;
          showResult(x);
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
    const t = parseZoned(tz, toIn.value);
    if (!cam.value.trim()) return fail("choose a camera");
    if (!Number.isFinite(f) || !Number.isFinite(t)) return fail("enter both times");
    if (t <= f) return fail("the end must be after the start");
    if (!reason.value.trim()) return fail("give a reason: it is written into the manifest");
    submit.disabled = true;
    api
      .createExport(cam.value.trim(), f, t, reason.value.trim())
      .then((x) => {
        showResult(x);
        if (x.status === "pending") poll(x.id);
        loadList();
      })
      .catch((err) => {
        const e2 = err as ApiError;
        fail(e2.status === 404 ? `no recording in range for ${cam.value.trim()} (${e2.detail})` : `export failed: ${e2.detail ?? e2.message}`);
      })
      .finally(() => (submit.disabled = false));
  });

  const loadList = () => {
    api
      .exports()
      .then((xs) => {
        if (!alive) return;
        clear(list);
        const arr = xs;
        for (const x of arr) {
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
        if (arr.length === 0) list.append(h("tr", {}, h("td", { colspan: 7 }, "no exports yet")));
      })
      .catch((e) => {
        clear(list);
        list.append(h("tr", {}, h("td", { colspan: 7, class: "error" }, `cannot list exports: ${(e as Error).message}`)));
      });
  };
  loadList();
  return () => {
    alive = false;
    window.clearTimeout(pollTimer);
  };
}
