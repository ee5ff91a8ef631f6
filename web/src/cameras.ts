// The camera registry as the browser holds it: the columnar GET /api/cameras answer plus typed arrays for the
// hot fields, kept current by WS /api/events. 62,000 cameras cost a few MB and no per-camera objects.
import { api, wsUrl, type CameraEvent, type CameraState, type CamerasColumns, type EventsMessage, type IncidentEvent } from "./api";
import type { CamgridHooks } from "./stats";
import { eventsAfter, reconnectDelayMs, setTrust, trust } from "./trust";

// A socket silent this long is dead even if the browser has not noticed (the server pings every 15 s).
const SILENT_MS = 40_000;
type Numbered<T> = T & { eid?: number };

// What the map shows: the recorder's states, and "maintenance" for a camera an operator took out of service for
// repair (whatever the recorder says about it: its outages open no incident, so it must not look like one).
export const STATES = ["recording", "offline", "unknown", "planned", "maintenance"] as const;
export type State = CameraState | "maintenance";
export const STATE_COLOURS: Record<State, string> = {
  recording: "#2ecc71",
  offline: "#e74c3c",
  unknown: "#95a5a6",
  planned: "#3498db",
  maintenance: "#8e7cc3", // not grey: "unknown" is grey, and a camera under repair is known to be off
};
export const MAINTENANCE = STATES.indexOf("maintenance");

export function stateCode(s: string): number {
  const i = (STATES as readonly string[]).indexOf(s);
  return i < 0 ? 2 : i;
}

export class CameraStore {
  cols: CamerasColumns;
  count: number;
  index = new Map<string, number>();
  lon: Float64Array;
  lat: Float64Array;
  state: Uint8Array;
  since: Float64Array;
  /** When the camera went into maintenance (ms), NaN while in service. */
  maintenanceSince: Float64Array;
  /** The recorder's own state, kept while a camera in maintenance is shown as such. */
  private recorderState: Uint8Array;
  reason: (string | null)[];
  districtKey: string[];
  private listeners = new Set<(changed: number[]) => void>();
  private incidentListeners = new Set<(ev: IncidentEvent) => void>();
  private resyncListeners = new Set<() => void>();
  private ws: WebSocket | null = null;
  private closed = false;
  /** The server process's events epoch and the last event applied: where a reconnect resumes. */
  epoch: string;
  eventId: number;
  /** Camera events that arrived while a snapshot was being fetched; null when none is. */
  private buffered: Numbered<CameraEvent>[] | null = null;
  private pending: number[] = [];
  private flushTimer = 0;

  constructor(cols: CamerasColumns) {
    this.cols = cols;
    this.epoch = cols.epoch ?? "";
    this.eventId = cols.event_id ?? -1;
    const n = cols.count ?? cols.id.length;
    this.count = n;
    this.lon = Float64Array.from(cols.lon);
    this.lat = Float64Array.from(cols.lat);
    this.state = new Uint8Array(n);
    this.recorderState = new Uint8Array(n);
    this.since = new Float64Array(n);
    this.maintenanceSince = new Float64Array(n);
    this.reason = cols.reason ? cols.reason.slice() : new Array(n).fill(null);
    this.districtKey = new Array(n);
    for (let i = 0; i < n; i++) {
      this.index.set(String(cols.id[i]), i);
      this.recorderState[i] = stateCode(cols.state[i]);
      this.since[i] = cols.since_ms?.[i] ?? NaN;
      this.maintenanceSince[i] = cols.maintenance_since_ms?.[i] ?? NaN;
      this.state[i] = this.shown(i);
      const d = cols.district?.[i];
      this.districtKey[i] = d == null ? "" : String(d);
    }
  }

  id(i: number): string {
    return String(this.cols.id[i]);
  }

  name(i: number): string {
    return this.cols.name?.[i] ?? this.id(i);
  }

  private shown(i: number): number {
    return Number.isFinite(this.maintenanceSince[i]) ? MAINTENANCE : this.recorderState[i];
  }

  /** The camera went into maintenance at ``sinceMs`` (null: back in service), as this browser just set it. */
  setMaintenance(id: string, sinceMs: number | null): void {
    const i = this.index.get(id);
    if (i === undefined) return;
    this.maintenanceSince[i] = sinceMs ?? NaN;
    this.state[i] = this.shown(i);
    this.changed(i);
  }

  stateName(i: number): State {
    return STATES[this.state[i]];
  }

  nameOf(id: string): string {
    const i = this.index.get(id);
    return i === undefined ? id : this.name(i);
  }

  onChange(fn: (changed: number[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Follow {"type":"incident",...} events from the same socket (incidents.ts). */
  onIncident(fn: (ev: IncidentEvent) => void): () => void {
    this.incidentListeners.add(fn);
    return () => this.incidentListeners.delete(fn);
  }

  /** Apply one {"type":"camera",...} event; listeners are told in batches (at most every 250 ms). */
  apply(ev: CameraEvent): void {
    const i = this.index.get(String(ev.id));
    if (i === undefined) return;
    this.recorderState[i] = stateCode(ev.state);
    this.state[i] = this.shown(i);
    this.reason[i] = ev.reason || null;
    this.since[i] = ev.since_ms;
    this.changed(i);
  }

  private changed(i: number): void {
    this.pending.push(i);
    if (!this.flushTimer) {
      this.flushTimer = window.setTimeout(() => {
        this.flushTimer = 0;
        const changed = this.pending;
        this.pending = [];
        for (const fn of this.listeners) fn(changed);
      }, 250);
    }
  }

  /** Told when the events could not be replayed and a snapshot replaced the states (incidents.ts refetches). */
  onResync(fn: () => void): () => void {
    this.resyncListeners.add(fn);
    return () => this.resyncListeners.delete(fn);
  }

  /** Take the states of a snapshot (GET /api/cameras) for every camera this store knows; only changes are told. */
  applySnapshot(cols: CamerasColumns): void {
    for (let k = 0; k < cols.id.length; k++) {
      const i = this.index.get(String(cols.id[k]));
      if (i === undefined) continue; // a camera added since the page loaded appears on the next load
      const rs = stateCode(cols.state[k]);
      const since = cols.since_ms?.[k] ?? NaN;
      const maint = cols.maintenance_since_ms?.[k] ?? NaN;
      const reason = cols.reason?.[k] || null;
      if (rs === this.recorderState[i] && Object.is(since, this.since[i]) && Object.is(maint, this.maintenanceSince[i]) && reason === this.reason[i])
        continue;
      this.recorderState[i] = rs;
      this.since[i] = since;
      this.maintenanceSince[i] = maint;
      this.reason[i] = reason;
      this.state[i] = this.shown(i);
      this.changed(i);
    }
  }

  /**
   * Follow WS /api/events from the last event applied (?since=&epoch=), reconnecting quickly after a blip. The server
   * replays what was missed, or says "resync": then a snapshot is fetched while later events are kept aside, and
   * only those after the snapshot's event_id are applied on top, in order. "hello" means current: trusted again.
   */
  connect(): void {
    let attempt = 0;
    let watchdog = 0;
    const open = () => {
      if (this.closed) return;
      const q = this.eventId >= 0 && this.epoch ? `?since=${this.eventId}&epoch=${encodeURIComponent(this.epoch)}` : "";
      const ws = new WebSocket(wsUrl(`/api/events${q}`));
      this.ws = ws;
      let current = false; // "hello" seen on this socket
      const alive = () => {
        window.clearTimeout(watchdog);
        watchdog = window.setTimeout(() => ws.close(), SILENT_MS);
      };
      ws.onopen = () => {
        attempt = 0;
        alive();
        if (trust().state === "down") setTrust("resyncing");
      };
      ws.onmessage = (m) => {
        if (typeof m.data !== "string" || this.ws !== ws) return;
        alive();
        let ev: Numbered<EventsMessage>;
        try {
          ev = JSON.parse(m.data) as Numbered<EventsMessage>;
        } catch {
          return; // ignore a malformed event
        }
        if (ev.type === "camera") {
          if (this.buffered) this.buffered.push(ev);
          else this.apply(ev);
        } else if (ev.type === "incident") {
          for (const fn of this.incidentListeners) fn(ev);
        } else if (ev.type === "resync") {
          void this.resync(ws, () => current);
          return;
        } else if (ev.type === "hello") {
          current = true;
          this.epoch = ev.epoch;
          if (!this.buffered) setTrust("live");
        }
        if (!this.buffered && ev.eid !== undefined && ev.eid > this.eventId) this.eventId = ev.eid;
      };
      ws.onclose = () => {
        window.clearTimeout(watchdog);
        if (this.ws === ws) this.ws = null;
        this.buffered = null;
        if (this.closed) return;
        setTrust("down");
        window.setTimeout(open, reconnectDelayMs(attempt++));
      };
    };
    open();
  }

  private async resync(ws: WebSocket, current: () => boolean): Promise<void> {
    setTrust("resyncing");
    this.buffered = [];
    let snap: CamerasColumns;
    try {
      snap = await api.cameras();
    } catch {
      if (this.ws === ws) ws.close(); // reconnect from the same position and try again
      return;
    }
    const held = this.buffered;
    if (this.ws !== ws || held === null) return; // the socket went meanwhile: its reconnect starts over
    this.buffered = null;
    this.applySnapshot(snap);
    this.epoch = snap.epoch;
    this.eventId = snap.event_id;
    for (const ev of eventsAfter(held, snap.event_id)) {
      this.apply(ev);
      if (ev.eid !== undefined) this.eventId = ev.eid;
    }
    for (const fn of this.resyncListeners) fn();
    const hooks = testHooks();
    if (hooks) hooks.snapshots = (hooks.snapshots ?? 0) + 1;
    if (current()) setTrust("live");
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
    this.ws = null;
    setTrust("live"); // signed out: nothing on screen claims to be live
  }
}

let store: Promise<CameraStore> | null = null;

/** window.camgrid (stats.ts) when the app runs; not imported here, so that unit tests can load this module. */
function testHooks(): CamgridHooks | undefined {
  return typeof window === "undefined" ? undefined : window.camgrid;
}

export function cameras(): Promise<CameraStore> {
  if (!store) {
    store = api.cameras().then((cols) => {
      const s = new CameraStore(cols);
      s.connect();
      const hooks = testHooks();
      if (hooks) {
        hooks.trust = trust;
        hooks.cameraState = (id: string) => {
          const i = s.index.get(id);
          return i === undefined ? null : s.stateName(i);
        };
      }
      return s;
    });
    store.catch(() => {
      store = null;
    });
  }
  return store;
}

export function resetCameras(): void {
  store?.then((s) => s.close()).catch(() => {});
  store = null;
}

/** A synthetic registry inside the bounds (for the 62,000-camera benchmark when no such city is running). */
export function syntheticColumns(n: number, bounds: [number, number, number, number]): CamerasColumns {
  const [x0, y0, x1, y1] = bounds;
  const c: CamerasColumns = {
    count: n, id: [], name: [], lon: [], lat: [], district: [], site: [], feeder: [], uplink: [], state: [],
    reason: [], since_ms: [], maintenance_since_ms: [], epoch: "", event_id: -1, street: [], streets: ["", "Synthetic Marg"],
    site_names: {}, district_names: {},
  };
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  for (let i = 0; i < n; i++) {
    c.id.push(`syn-${i}`);
    c.name.push(`synthetic ${i}`);
    c.lon.push(x0 + rnd() * (x1 - x0));
    c.lat.push(y0 + rnd() * (y1 - y0));
    c.district.push(`d${i % 20}`);
    c.site.push(`syn-site-${Math.floor(i / 4)}`);
    c.street.push(i % 2);
    c.feeder.push("");
    c.uplink.push("");
    const r = rnd();
    c.state.push(r < 0.9 ? "recording" : r < 0.97 ? "offline" : "unknown");
    c.reason.push(""); // synthetic: no recorder, so no reason to give
    c.since_ms.push(Date.now() - Math.floor(rnd() * 3600_000));
    c.maintenance_since_ms.push(null);
  }
  return c;
}
