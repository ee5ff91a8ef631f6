// Whether the screen can be trusted (docs/design/never-stale.md): "live" while the events socket is open and every
// change up to now is applied; "down" from the moment it closed; "resyncing" while a reconnected socket catches up
// (replayed events, or a snapshot plus the events after it). `sinceMs` is the first moment it stopped being live, kept
// until it is live again, so the banner says since when the screen may be wrong. Pure except for the listeners.

export type TrustState = "live" | "down" | "resyncing";
export interface Trust {
  state: TrustState;
  /** When the screen stopped being trustworthy (ms); null while live. */
  sinceMs: number | null;
}

let current: Trust = { state: "live", sinceMs: null };
const listeners = new Set<(t: Trust) => void>();

/** The next trust from the current one (pure: the since-moment survives down -> resyncing -> down). */
export function nextTrust(prev: Trust, state: TrustState, nowMs: number): Trust {
  if (state === "live") return { state, sinceMs: null };
  return { state, sinceMs: prev.sinceMs ?? nowMs };
}

export function trust(): Trust {
  return current;
}

export function setTrust(state: TrustState, nowMs = Date.now()): void {
  const next = nextTrust(current, state, nowMs);
  if (next.state === current.state && next.sinceMs === current.sinceMs) return;
  current = next;
  for (const fn of listeners) fn(current);
}

export function onTrust(fn: (t: Trust) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** An event with its id; `eid` is absent only from a server without event ids. */
export interface Numbered {
  eid?: number;
}

/** The events buffered while a snapshot was fetched that it does not already contain, in the server's order. */
export function eventsAfter<T extends Numbered>(buffered: readonly T[], snapshotEid: number): T[] {
  return buffered.filter((e) => e.eid === undefined || e.eid > snapshotEid).sort((a, b) => (a.eid ?? 0) - (b.eid ?? 0));
}

/** Reconnect delay after `attempt` failed tries: a blip is the common case, and a failed connect a second costs
 * nothing; jitter spreads the control rooms reconnecting to a restarted server. */
export function reconnectDelayMs(attempt: number, rand = Math.random()): number {
  return Math.min(500 * 2 ** attempt, 1000) + Math.floor(rand * 250);
}

declare module "./stats" {
  interface CamgridHooks {
    /** The events socket's trust (tests: the banner came and went). */
    trust?: () => Trust;
    /** The state the map shows for a camera, or null (tests). */
    cameraState?: (cameraId: string) => string | null;
    /** How many times the events could not be replayed and a snapshot was taken instead (tests). */
    snapshots?: number;
  }
}
