// Camera diagnostics in the camera panel: a "Probe" button that asks the server to open a short session of its own
// with the camera (POST /api/cameras/{id}/probe, audited) and shows what the camera really sends: codecs,
// resolution, measured frame rate and bitrate, keyframe interval, clock drift, loss, quirks, the server's methods.
// docs/design/camera-probe.md. The words shown are in TEXT (one table to translate); the formatting is pure
// (tests/diagnostics.test.ts).
import { request, type Role } from "./api";
import type { components } from "./api-types";
import { h } from "./dom";
import { me } from "./session";
import { t } from "./i18n";

export type ProbeResult = components["schemas"]["ProbeResult"];
export type ProbeTrack = components["schemas"]["Track"];

/** The probe's window the panel asks for (the server takes 1-30 s). */
export const PROBE_SECONDS = 5;
const MAY: readonly Role[] = ["operator", "supervisor", "admin"];

const ROW_KEYS = ["result", "video", "audio", "resolution", "fps", "bitrate", "keyframes", "drift", "loss", "transport", "keepalive", "quirks", "server", "methods"] as const;
export type RowKey = (typeof ROW_KEYS)[number];
// Every text from the catalog (locales/<lang>/diagnostics.json), read when shown so a language switch applies.
export const TEXT = {
  get title() { return t("diagnostics.title"); },
  get probe() { return t("diagnostics.probe"); },
  probing: (s: number) => t("diagnostics.probing", { s }),
  get hint() { return t("diagnostics.hint"); },
  get ok() { return t("diagnostics.ok"); },
  failed: (reason: string, detail: string) => t("diagnostics.failed", { reason, detail }),
  get none() { return t("common.none"); },
  unknown: "—",
  tooFewKeyframes: (n: number) => t("diagnostics.tooFewKeyframes", { n }),
  keyframes: (pictures: number, seconds: string) => t("diagnostics.keyframes", { pictures, seconds }),
  fps: (fps: string, arrival: string) => t("diagnostics.fps", { fps, arrival }),
  declared: (fps: number) => t("diagnostics.declared", { fps }),
  drift: (ppm: string, seconds: string) => t("diagnostics.drift", { ppm, seconds }),
  sdp: "SDP",
  get transport(): Record<string, string> {
    return { tcp: t("diagnostics.transport.tcp"), udp: t("diagnostics.transport.udp"), auto: t("diagnostics.transport.auto") };
  },
  get overTls() { return t("diagnostics.overTls"); },
  loss: (lost: number, total: number, reordered: number, dropped: number) => t("diagnostics.loss", { lost, total, reordered, dropped }),
  rows: Object.fromEntries(ROW_KEYS.map((k) => [k, ""])) as Record<RowKey, string>,
};
for (const k of ROW_KEYS) Object.defineProperty(TEXT.rows, k, { get: () => t(`diagnostics.row.${k}`), enumerable: true });


/** The server's permission cameras.probe (access/policy.py). */
export function mayProbe(role: Role | null | undefined): boolean {
  return role != null && MAY.includes(role);
}

function num(v: number | null | undefined, digits: number): string {
  return v == null || !Number.isFinite(v) ? TEXT.unknown : v.toFixed(digits);
}

/** "MPEG4-GENERIC/48000/2", "PCMA/8000/1", "H264/90000". */
export function trackText(t: ProbeTrack): string {
  return [t.codec || "?", t.clock_rate, t.channels].filter((x) => x != null && x !== "").join("/");
}

/** The probe as the panel's rows (label key, text), in the order shown. */
export function probeRows(r: ProbeResult): [RowKey, string][] {
  const audio = (r.tracks ?? []).filter((t) => t.kind === "audio").map(trackText);
  const total = (r.rtp_packets ?? 0) + (r.rtp_lost ?? 0);
  return [
    ["result", r.error ? TEXT.failed(r.error.reason, r.error.detail) : TEXT.ok],
    ["video", [r.codec, r.codec_string].filter(Boolean).join(" ") || TEXT.unknown],
    ["audio", audio.join(", ") || TEXT.none],
    ["resolution", r.width && r.height ? `${r.width}×${r.height}` : TEXT.unknown],
    ["fps", TEXT.fps(num(r.fps, 2), num(r.fps_arrival, 2)) + (r.declared_fps ? TEXT.declared(r.declared_fps) : "")],
    ["bitrate", r.bitrate_kbps == null ? TEXT.unknown : t("diagnostics.kbps", { rate: num(r.bitrate_kbps, 0) })],
    ["keyframes", r.gop_pictures ? TEXT.keyframes(r.gop_pictures, num(r.gop_seconds, 2)) : TEXT.tooFewKeyframes(r.keyframes ?? 0)],
    ["drift", r.drift_ppm == null ? TEXT.unknown : TEXT.drift(num(r.drift_ppm, 0), num(r.measured_s, 1))],
    ["loss", TEXT.loss(r.rtp_lost ?? 0, total, r.rtp_reordered ?? 0, r.rtp_dropped ?? 0)],
    ["transport", (TEXT.transport[r.transport] ?? r.transport) + (r.tls ? TEXT.overTls : "")],
    ["keepalive", r.keepalive || TEXT.unknown],
    ["quirks", (r.quirks ?? []).join(", ") || TEXT.none],
    ["server", r.server || TEXT.unknown],
    ["methods", (r.public ?? []).join(", ") || TEXT.unknown],
  ];
}

export function probeCamera(id: string, seconds = PROBE_SECONDS): Promise<ProbeResult> {
  return request<ProbeResult>("POST", `/api/cameras/${encodeURIComponent(id)}/probe`, { seconds });
}

/** The panel's Diagnostics section (empty for roles that may not probe). */
export function diagnosticsSection(cameraId: string): HTMLElement {
  const section = h("div", { class: "diagnostics", "data-testid": "diagnostics" });
  if (!mayProbe(me()?.role)) return section;
  const button = h("button", { "data-testid": "probe-button", title: TEXT.hint }, TEXT.probe);
  const status = h("span", { class: "muted", "data-testid": "probe-status" });
  const out = h("div", { "data-testid": "probe-result" });
  button.addEventListener("click", () => {
    button.disabled = true;
    status.textContent = TEXT.probing(PROBE_SECONDS);
    out.replaceChildren();
    probeCamera(cameraId)
      .then((r) => {
        status.textContent = "";
        const rows = probeRows(r).map(([k, v]) =>
          h("tr", { "data-testid": `probe-${k}` }, h("th", {}, TEXT.rows[k]), h("td", { class: k === "result" && r.error ? "error" : "" }, v)),
        );
        out.append(h("table", { class: "details" }, ...rows));
        if (r.sdp) out.append(h("details", {}, h("summary", {}, TEXT.sdp), h("pre", { class: "sdp" }, r.sdp)));
      })
      .catch((e) => {
        status.textContent = "";
        out.append(h("div", { class: "error", "data-testid": "probe-error" }, (e as Error).message));
      })
      .finally(() => (button.disabled = false));
  });
  section.append(h("h4", {}, TEXT.title), h("div", {}, button, " ", status), out);
  return section;
}
