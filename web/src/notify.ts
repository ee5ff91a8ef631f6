// New-incident alerts for the whole control room: the open-incident count on the Incidents menu entry (the user's
// scope: the server cuts the list and the events), and, when the user turned them on (off by default, per user,
// settings.ts), a short tone and a browser notification for each incident that opens while the page is open.
import type { Incident } from "./api";
import { describeIncident } from "./incident-text";
import { IncidentBook } from "./incidents";
import { t } from "./i18n";
import { getSetting } from "./settings";
import { fmtHM } from "./time";

/** Ids of incidents that are open in `now` and were not known before (the ones to alert about). */
export function newlyOpened(known: ReadonlySet<number>, now: Iterable<Incident>): Incident[] {
  const out: Incident[] = [];
  for (const i of now) if (i.resolved_ms === null && !known.has(i.id)) out.push(i);
  return out;
}

let audio: AudioContext | null = null;

/** Create (or resume) the audio context: call from a click, browsers keep it silent until the user acted. */
export function unlockSound(): void {
  try {
    audio ??= new AudioContext();
    void audio.resume();
  } catch {
    audio = null; // no Web Audio: no tone
  }
}

/** Two short beeps, generated (no sound file to fetch). */
export function playTone(): void {
  if (!audio) unlockSound();
  const ctx = audio;
  if (!ctx) return;
  for (const [at, hz] of [[0, 880], [0.25, 660]] as const) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.15, ctx.currentTime + at);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + at);
    osc.stop(ctx.currentTime + at + 0.22);
  }
}

export function notificationsSupported(): boolean {
  return typeof window.Notification === "function";
}

/** Ask the browser's permission (only ever from the user's click); true when granted. */
export async function askNotificationPermission(): Promise<boolean> {
  if (!notificationsSupported()) return false;
  if (Notification.permission === "granted") return true;
  if (Notification.permission === "denied") return false;
  return (await Notification.requestPermission()) === "granted";
}

function notify(inc: Incident): void {
  if (!notificationsSupported() || Notification.permission !== "granted") return;
  try {
    const n = new Notification(t("shell.notify.title"), { body: describeIncident(inc, fmtHM), tag: `incident-${inc.id}` });
    n.onclick = () => {
      window.focus();
      location.hash = `#/incidents?id=${inc.id}`;
    };
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}

export interface IncidentAlerts {
  /** Open incidents now. */
  count(): number;
  stop(): void;
}

/** Follow the open incidents; onCount on every change; alerts for the ones that open after the first list. */
export function startIncidentAlerts(onCount: (n: number) => void, onReady: () => void = () => {}): IncidentAlerts {
  const book = new IncidentBook(true);
  const known = new Set<number>();
  let ready = false;
  let open = 0;
  book.onChange(() => {
    const items = book.list();
    open = items.filter((i) => i.resolved_ms === null).length;
    onCount(open);
    const fresh = ready ? newlyOpened(known, items) : [];
    for (const i of items) known.add(i.id);
    if (fresh.length) {
      if (getSetting("incidentSound")) playTone();
      if (getSetting("incidentNotify")) for (const i of fresh.slice(0, 3)) notify(i);
    }
  });
  void book.start().then(() => {
    for (const i of book.list()) known.add(i.id);
    ready = true;
    onReady();
  });
  return { count: () => open, stop: () => book.stop() };
}
