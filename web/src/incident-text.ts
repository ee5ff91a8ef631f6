// Pure helpers for incidents (no DOM): normalising API/WebSocket shapes and the one-line summary an operator reads.

export interface Suggestion {
  id: number;
  camera_id: string;
  field: string;
  registry_value: string;
  suggested_value: string;
  status: string;
}

export interface IncidentAction {
  id: number;
  t_ns: number;
  actor: string;
  action: string;
  text: string;
}

export interface Incident {
  id: number;
  kind: string;
  subject: string;
  opened_ms: number;
  resolved_ms: number | null;
  confidence: number;
  n_members: number;
  reason?: string | null;
  acknowledged_by?: string | null;
  cameras: string[];
  unexplained: string[];
  suggestions: Suggestion[];
  actions: IncidentAction[];
}

/** GET /api/incidents rows carry *_ns, WebSocket messages both *_ns and *_ms: one shape with milliseconds. */
export function normaliseIncident(raw: Record<string, unknown>): Incident {
  const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const opened = num(raw.opened_ms) ?? (num(raw.opened_ns) !== null ? Math.floor(num(raw.opened_ns)! / 1e6) : 0);
  const resolved =
    num(raw.resolved_ms) ?? (num(raw.resolved_ns) !== null ? Math.floor(num(raw.resolved_ns)! / 1e6) : null);
  const cams = Array.isArray(raw.cameras) ? (raw.cameras as unknown[]).map(String) : [];
  return {
    id: Number(raw.id),
    kind: String(raw.kind ?? "camera"),
    subject: String(raw.subject ?? ""),
    opened_ms: opened,
    resolved_ms: resolved,
    confidence: num(raw.confidence) ?? 0,
    n_members: num(raw.n_members) ?? cams.length,
    reason: (raw.reason as string | null | undefined) ?? null,
    acknowledged_by: (raw.acknowledged_by as string | null | undefined) ?? null,
    cameras: cams,
    unexplained: Array.isArray(raw.unexplained) ? (raw.unexplained as unknown[]).map(String) : [],
    suggestions: Array.isArray(raw.suggestions) ? (raw.suggestions as Suggestion[]) : [],
    actions: Array.isArray(raw.actions) ? (raw.actions as IncidentAction[]) : [],
  };
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
