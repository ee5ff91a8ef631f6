// What a camera says of itself over ONVIF (docs/design/onvif.md, "Clock and events"): its events as small glyphs
// on the playback timeline (tooltip with the camera's time and ours) and its clock offset in the camera panel,
// amber beyond the tolerance.
import type { CameraDetail, CameraEventInfo, CameraEventKind } from "./api";
import { h } from "./dom";
import { fmtFull, timeZone, utcTitle } from "./time";
import { t } from "./i18n";

export const EVENT_GLYPHS = {
  tamper: "⚠",
  motion: "≋",
  video_loss: "⊘",
  storage_failure: "▣",
  other: "•",
} satisfies Record<CameraEventKind, string>;

const kindText = (k: CameraEventKind) => t(`camera-onvif.kind.${k}`);

/** "+1.5 s", "−90 s", "+2 min 5 s": a clock offset for people. */
export function offsetText(ms: number): string {
  const sign = ms < 0 ? "−" : "+";
  const a = Math.abs(ms);
  if (a < 10_000) return `${sign}${t("camera-onvif.seconds", { s: (a / 1000).toFixed(1) })}`;
  if (a < 120_000) return `${sign}${t("camera-onvif.seconds", { s: Math.round(a / 1000) })}`;
  const min = Math.floor(a / 60_000);
  return `${sign}${t("camera-onvif.minSeconds", { min, s: Math.round((a - min * 60_000) / 1000) })}`;
}

/** The marker's tooltip: what happened, at the camera's time and at ours. */
export function eventTitle(e: CameraEventInfo): string {
  const what = t(e.active ? "camera-onvif.began" : "camera-onvif.ended", { what: kindText(e.kind) });
  const cam =
    e.camera_ms == null
      ? t("camera-onvif.cameraTimeNone")
      : t("camera-onvif.cameraTime", { time: fmtFull(e.camera_ms), utc: utcTitle(e.camera_ms), offset: offsetText(e.camera_ms - e.received_ms) });
  const ours = t("camera-onvif.ourTime", { time: fmtFull(e.received_ms), zone: timeZone(), utc: utcTitle(e.received_ms) });
  return [what, cam, ours, e.topic + (e.detail ? ` · ${e.detail}` : "")].join("\n");
}

export function eventMarker(e: CameraEventInfo): HTMLElement {
  return h(
    "div",
    {
      class: `cam-event cam-event-${e.kind}${e.active ? "" : " cam-event-end"}`,
      "data-testid": "camera-event",
      "data-kind": e.kind,
      "data-active": e.active ? "true" : "false",
      "data-received-ms": e.received_ms,
      "data-camera-ms": e.camera_ms ?? "",
      title: eventTitle(e),
    },
    EVENT_GLYPHS[e.kind],
  );
}

/** The camera panel's ONVIF row: clock offset (amber when off) and the camera's own conditions. */
export function onvifSummary(c: CameraDetail): HTMLElement | string {
  const o = c.onvif;
  if (!o) return c.onvif_url ? t("camera-onvif.notRead") : "";
  const off = o.conditions.includes("clock_off");
  const clock =
    o.clock_offset_ms == null
      ? h("span", {}, t("camera-onvif.clockNotRead"))
      : h(
          "span",
          {
            class: off ? "clock-offset clock-off" : "clock-offset",
            "data-testid": "clock-offset",
            "data-offset-ms": o.clock_offset_ms,
            title: t("camera-onvif.clockTitle", { tolerance: o.clock_tolerance_ms / 1000 }) + (o.clock_measured_ms ? t("camera-onvif.clockRead", { time: fmtFull(o.clock_measured_ms) }) : ""),
          },
          t("camera-onvif.clock", { offset: offsetText(o.clock_offset_ms) }) + (off ? ` ${t("camera-onvif.off")}` : ""),
        );
  const conditions = o.conditions
    .filter((k) => k !== "clock_off")
    .map((k) => h("span", { class: "cam-condition", "data-testid": "camera-condition", "data-condition": k }, ` ${EVENT_GLYPHS[k]} ${kindText(k)}`));
  return h("span", { "data-testid": "camera-onvif" }, clock, ...conditions);
}
