// The signed-in user's control-room settings, kept per user in this browser (localStorage, one key per user).
// Other parts (the language, later server-side settings) read and write through get/set here so that there is one
// place to move them to the server.

export interface UserSettings {
  /** Play a short tone when a new incident opens. */
  incidentSound: boolean;
  /** Show a browser notification when a new incident opens (the browser's permission is asked on the click). */
  incidentNotify: boolean;
}

const DEFAULTS: UserSettings = { incidentSound: false, incidentNotify: false };
const PREFIX = "camgrid.settings.";

let user = "";
const listeners = new Set<(s: UserSettings) => void>();

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: settings last as long as the page
  }
}

let memory: Record<string, Partial<UserSettings>> = {};

function load(): Partial<UserSettings> {
  const raw = storage()?.getItem(PREFIX + user);
  if (raw == null) return memory[user] ?? {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Partial<UserSettings>) : {};
  } catch {
    return {};
  }
}

/** Whose settings are read and written from now on ("" when nobody is signed in). */
export function setSettingsUser(username: string | null | undefined): void {
  user = username ?? "";
  const all = settings();
  for (const fn of listeners) fn(all);
}

/** Every setting, defaults filled in. */
export function settings(): UserSettings {
  const stored = load();
  const out = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as (keyof UserSettings)[])
    if (typeof stored[k] === typeof DEFAULTS[k]) (out[k] as unknown) = stored[k];
  return out;
}

export function getSetting<K extends keyof UserSettings>(key: K): UserSettings[K] {
  return settings()[key];
}

export function setSetting<K extends keyof UserSettings>(key: K, value: UserSettings[K]): void {
  const next = { ...load(), [key]: value };
  memory = { ...memory, [user]: next };
  try {
    storage()?.setItem(PREFIX + user, JSON.stringify(next));
  } catch {
    /* full or disabled: kept in memory */
  }
  const all = settings();
  for (const fn of listeners) fn(all);
}

export function onSettings(fn: (s: UserSettings) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
