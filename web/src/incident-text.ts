// Pure helpers for incidents (no DOM): the one-line summary an operator reads, their order, the dark feeders.

import type { Incident, IncidentEvent } from "./api";
import { t } from "./i18n";

export type { Incident };

/** An incident from an events-WebSocket message: the same shape as GET /api/incidents rows (times in ms). */
export function incidentOfEvent(ev: IncidentEvent): Incident {
  const { type: _type, ...inc } = ev;
  return inc;
}

/** What the camera store knows of an incident's camera right now (state name, since when, in ms). */
export interface LiveState {
  state: string;
  sinceMs: number;
}

const NOUN_KEY: Record<string, string> = { power: "feeder", site: "site", uplink: "uplink", camera: "camera" };

/** "feeder F-12 is down: 184 cameras dark since 14:02" (hm = the city-time formatter). A camera incident whose camera
 * is recording again (``live``, from the camera store) says "back since 08:05" while it waits to close: it never
 * says "is offline" for a camera that is back. */
export function describeIncident(
  inc: Incident,
  hm: (ms: number) => string,
  live?: LiveState | null,
  liveOf?: (id: string) => LiveState | null,
): string {
  const noun = NOUN_KEY[inc.kind] ? t(`reports.incident.${NOUN_KEY[inc.kind]}`) : inc.kind;
  const n = inc.n_members || inc.cameras.length;
  const cams = t(n === 1 ? "reports.incident.cameras_one" : "reports.incident.cameras", { n });
  if (inc.resolved_ms !== null) {
    return t("reports.incident.resolved", { noun, subject: inc.subject, cams, from: hm(inc.opened_ms), to: hm(inc.resolved_ms) });
  }
  if (inc.kind === "camera") {
    const what = cameraReason(inc.reason);
    // a camera incident with a reason (a tamper, an unverified mask) is about its picture, not its link: it never
    // says "offline" or "back" (the camera may record all along)
    if (what !== null) return t("reports.incident.camera_reason", { subject: inc.subject, what, since: hm(inc.opened_ms) });
    const back = backSince(inc, live);
    if (back !== null) return t("reports.incident.camera_back", { subject: inc.subject, since: hm(inc.opened_ms), back: hm(back) });
    return t("reports.incident.camera_offline", { subject: inc.subject, since: hm(inc.opened_ms) });
  }
  const back = liveOf ? groupBackSince(inc, liveOf) : null;
  if (back !== null) return t("reports.incident.group_back", { noun, subject: inc.subject, cams, since: hm(inc.opened_ms), back: hm(back) });
  return t("reports.incident.group_down", { noun, subject: inc.subject, cams, since: hm(inc.opened_ms) });
}

const TAMPER_KINDS = ["covered", "defocused", "turned", "blinded", "frozen", "camera"];

/** What a camera incident's reason ("tamper: covered", "mask_unverified: ...") says, in the user's language; null
 * for a camera that went dark (no reason). */
export function cameraReason(reason: string | null | undefined): string | null {
  if (!reason) return null;
  const [head, ...rest] = reason.split(": ");
  const tail = rest.join(": ");
  if (head === "tamper") return TAMPER_KINDS.includes(tail) ? t(`tamper.kind.${tail}`) : reason;
  if (head === "mask_unverified") return t("reports.incident.mask_unverified", { detail: tail });
  return reason;
}

/** When the last member of an open group incident came back (ms), or null while any is still dark or unknown. */
export function groupBackSince(inc: Incident, liveOf: (id: string) => LiveState | null): number | null {
  if (inc.kind === "camera" || inc.resolved_ms !== null || !inc.cameras.length) return null;
  if (inc.n_members && inc.cameras.length < inc.n_members) return null; // not every member is listed: cannot tell
  let back = inc.opened_ms;
  for (const c of inc.cameras) {
    const l = liveOf(c);
    if (!l || l.state !== "recording" || !Number.isFinite(l.sinceMs)) return null;
    back = Math.max(back, l.sinceMs);
  }
  return back;
}

/** When an open camera incident's camera came back (ms), or null while it is still down (or not known to be up). */
export function backSince(inc: Incident, live?: LiveState | null): number | null {
  if (inc.kind !== "camera" || inc.resolved_ms !== null || !live || live.state !== "recording") return null;
  if (cameraReason(inc.reason) !== null) return null; // about its picture: recording says nothing of it
  if (!Number.isFinite(live.sinceMs)) return null;
  return Math.max(live.sinceMs, inc.opened_ms);
}

/** Open incidents first, then newest first. */
export function sortIncidents(list: Incident[]): Incident[] {
  return list.slice().sort((a, b) => {
    const ao = a.resolved_ms === null ? 0 : 1;
    const bo = b.resolved_ms === null ? 0 : 1;
    return ao - bo || b.opened_ms - a.opened_ms || b.id - a.id;
  });
}

/** Feeders of open power incidents (to shade their cameras on the map). */
export function darkFeeders(list: Iterable<Incident>): Set<string> {
  const out = new Set<string>();
  for (const i of list) if (i.kind === "power" && i.resolved_ms === null) out.add(i.subject);
  return out;
}
