// Pure helpers for incidents (no DOM): the one-line summary an operator reads, their order, the dark feeders.

import type { Incident, IncidentEvent } from "./api";

export type { Incident };

/** An incident from an events-WebSocket message: the same shape as GET /api/incidents rows (times in ms). */
export function incidentOfEvent(ev: IncidentEvent): Incident {
  const { type: _type, ...inc } = ev;
  return inc;
}

const SUBJECT_NOUN: Record<string, string> = { power: "feeder", site: "site", uplink: "uplink", camera: "camera" };
const VERB: Record<string, string> = { power: "is down", site: "is down", uplink: "is down", camera: "is offline" };

/** "feeder F-12 is down: 184 cameras dark since 14:02" (hm = the city-time formatter). */
export function describeIncident(inc: Incident, hm: (ms: number) => string): string {
  const noun = SUBJECT_NOUN[inc.kind] ?? inc.kind;
  const n = inc.n_members || inc.cameras.length;
  const cams = `${n} camera${n === 1 ? "" : "s"}`;
  if (inc.resolved_ms !== null) {
    return `${noun} ${inc.subject} was down: ${cams} dark ${hm(inc.opened_ms)}–${hm(inc.resolved_ms)} (resolved)`;
  }
  if (inc.kind === "camera") return `camera ${inc.subject} ${VERB.camera} since ${hm(inc.opened_ms)}`;
  return `${noun} ${inc.subject} ${VERB[inc.kind] ?? "is down"}: ${cams} dark since ${hm(inc.opened_ms)}`;
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
