// What playback says about a gap: its reason in words and, when an incident covers it, the cause the incident
// knows ("power cut, feeder F-02") instead of the bare reason ("unreachable"). Strings from the playback catalog.
import type { GapInfo } from "./api";
import { t } from "./i18n";
import { fmtFull, fmtHMS, timeZone, utcTitle } from "./time";

type Cause = NonNullable<GapInfo["cause"]>;

/** A gap reason in words (a reason this build does not know is shown as sent). */
export function reasonText(reason: string): string {
  const key = `playback.reason.${reason}`;
  const s = t(key);
  return s === key ? reason : s;
}

/** "power cut, feeder F-02" / "uplink cut, uplink U-7" / "site outage, site S-3" / "camera fault". */
export function causeText(c: Cause): string {
  return t(`playback.cause.${c.kind}`, { subject: c.subject });
}

/** The short label of a gap: its incident's cause when known, else its reason (with the recorder's detail). */
export function gapLabel(g: GapInfo, withDetail = false): string {
  if (g.cause) return causeText(g.cause);
  const r = reasonText(g.reason);
  return withDetail && g.detail ? t("playback.reasonDetail", { reason: r, detail: g.detail }) : r;
}

/** The transient notice shown while playback crosses a gap: "gap 08:04:10–08:05:02 · power cut, feeder F-02". */
export function gapNotice(fromMs: number, toMs: number | null, label: string): string {
  return toMs == null
    ? t("playback.gapNoticeOpen", { from: fmtHMS(fromMs), cause: label })
    : t("playback.gapNotice", { from: fmtHMS(fromMs), to: fmtHMS(toMs), cause: label });
}

/** The gap's tooltip: cause or reason, local and UTC times, and the incident's own span. */
export function gapTooltip(g: GapInfo): string {
  const now = t("playback.gapNow");
  let text = t("playback.gapTooltip", {
    cause: gapLabel(g, true),
    from: fmtFull(g.start_ms),
    to: g.end_ms == null ? now : fmtFull(g.end_ms),
    zone: timeZone(),
    utcFrom: utcTitle(g.start_ms),
    utcTo: g.end_ms == null ? now : utcTitle(g.end_ms),
  });
  if (g.cause) {
    const c = g.cause;
    text += `\n${t("playback.gapIncident", { id: c.incident_id, from: fmtFull(c.opened_ms), to: c.resolved_ms == null ? now : fmtFull(c.resolved_ms) })}`;
    if (g.detail) text += `\n${t("playback.reasonDetail", { reason: reasonText(g.reason), detail: g.detail })}`;
  }
  return text;
}

/** The clock with milliseconds, so a frame step is visible: "2026-11-23 08:04:10.040". */
export function clockText(ms: number): string {
  const whole = Math.floor(ms / 1000) * 1000;
  return t("playback.clock", { time: fmtFull(whole), ms: String(Math.floor(ms - whole)).padStart(3, "0") });
}

/** Speed button label: 1/8×, 1/4×, 1/2×, 1× ... 16× (direction is the reverse button's). */
export function speedText(s: number): string {
  const a = Math.abs(s);
  return a >= 1 ? t("playback.speed", { n: a }) : t("playback.speedSlow", { d: Math.round(1 / a) });
}
