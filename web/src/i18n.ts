// Message catalogs: every string the control room shows comes from here, so it can be shown in the city's languages.
// Catalogs are flat JSON files web/src/locales/<lang>/<area>.json with keys "<area>.<thing>", one file per screen or
// part so that parts can grow apart. Variables are written {name} and filled by t(key, {name: value}).
// A key missing from the current language falls back to English, and a key missing from English shows the key
// itself (and a test fails on it), so a missing translation is visible but never breaks a screen.
// The language, calendar and digits are the user's setting (GET/PUT /api/me/settings, docs/design/languages.md):
// applyPrefs() switches them without a reload: <html lang dir> changes and every onLangChange listener runs.

export type Lang = "en" | "fa-AF" | "ps" | "ne";
export const LANGS: readonly Lang[] = ["en", "fa-AF", "ps", "ne"];
export type Calendar = "gregory" | "persian";
export const CALENDARS: readonly Calendar[] = ["gregory", "persian"];
/** latn 0-9, arabext ۰-۹ (Persian digits, also used for Pashto), deva ०-९ (Nepali). */
export type Digits = "latn" | "arabext" | "deva";
export const DIGITS: readonly Digits[] = ["latn", "arabext", "deva"];
export interface Prefs {
  lang: Lang;
  calendar: Calendar;
  digits: Digits;
}
type Catalog = Record<string, string>;

const files = import.meta.glob("./locales/*/*.json", { eager: true, import: "default" }) as Record<string, Catalog>;
const catalogs = new Map<string, Catalog>();
for (const [path, cat] of Object.entries(files)) {
  const lang = path.split("/")[2];
  catalogs.set(lang, { ...(catalogs.get(lang) ?? {}), ...cat });
}

let current: Lang = "en";
let calendar: Calendar = "gregory";
let digits: Digits = "latn";
const listeners = new Set<() => void>();

/** The language strings are shown in. */
export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = LANGS.includes(l) ? l : "en";
}

/** The calendar dates are shown in (time.ts). */
export function calendarPref(): Calendar {
  return calendar;
}

/** The digits numbers and dates are written with. */
export function digitsPref(): Digits {
  return digits;
}

/** The usual calendar and digits of a language, for a user who has not chosen. */
export function defaultsFor(l: Lang): Prefs {
  if (l === "fa-AF" || l === "ps") return { lang: l, calendar: "persian", digits: "arabext" };
  if (l === "ne") return { lang: l, calendar: "gregory", digits: "deva" };
  return { lang: "en", calendar: "gregory", digits: "latn" };
}

/** A user who has not chosen: the first of the browser's languages that we have other than English, else the city's
 *  default (config `language`), else English. A browser's English is often only the machine's default, so it does
 *  not outrank the city's language; a browser set to Dari, Pashto or Nepali was set so on purpose. */
export function pickLang(browser: readonly string[], cityDefault: string | null | undefined): Lang {
  for (const b of browser) {
    const low = b.toLowerCase();
    const base = low.split("-")[0];
    if (base === "fa" || base === "prs") return "fa-AF";
    const same = LANGS.find((l) => l !== "en" && (l.toLowerCase() === low || l.split("-")[0] === base));
    if (same) return same;
  }
  return LANGS.find((l) => l === cityDefault) ?? "en";
}

/** Switch language, calendar and digits now: sets <html lang dir> and re-renders through the listeners. */
export function applyPrefs(p: Partial<Prefs>): void {
  if (p.lang) setLang(p.lang);
  if (p.calendar && CALENDARS.includes(p.calendar)) calendar = p.calendar;
  if (p.digits && DIGITS.includes(p.digits)) digits = p.digits;
  numFmt = null;
  if (typeof document !== "undefined") {
    document.documentElement.lang = current;
    document.documentElement.dir = dir();
  }
  for (const fn of [...listeners]) fn();
}

/** Run fn after every applyPrefs (returns the unsubscribe). */
export function onLangChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const rtl = () => current === "fa-AF" || current === "ps";

/** Text direction of the current language. */
export function dir(): "ltr" | "rtl" {
  return current === "fa-AF" || current === "ps" ? "rtl" : "ltr";
}

let numFmt: Intl.NumberFormat | null = null;

/** A number in the user's digits (no grouping change for English: 12345 stays 12345 in latn). */
export function num(n: number, opts: Intl.NumberFormatOptions = {}): string {
  if (Object.keys(opts).length > 0) return new Intl.NumberFormat(`en-u-nu-${digits}`, { useGrouping: false, ...opts }).format(n);
  numFmt ??= new Intl.NumberFormat(`en-u-nu-${digits}`, { useGrouping: false, maximumFractionDigits: 20 });
  return numFmt.format(n);
}

/** The digits 0-9 of a string written in the user's digits (ids, times already formatted with latin digits). */
export function digitsOf(s: string): string {
  if (digits === "latn") return s;
  const zero = digits === "arabext" ? 0x06f0 : 0x0966;
  return s.replace(/[0-9]/g, (d) => String.fromCharCode(zero + d.charCodeAt(0) - 48));
}

/** The message for key in the current language, with {name} variables filled in (numbers in the user's digits). */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const msg = catalogs.get(current)?.[key] ?? catalogs.get("en")?.[key] ?? key;
  return msg.replace(/\{(\w+)\}/g, (m, name: string) => {
    if (!(name in vars)) return m;
    const v = vars[name];
    // In right-to-left text a variable (an id, a path, a name in Latin letters) is isolated (FSI…PDI, as Fluent
    // does) so that its own direction cannot reorder the sentence around it.
    if (typeof v === "number") return num(v);
    if (/^[0-9]+$/.test(v)) return digitsOf(v); // a number already written out ("07", milliseconds "437")
    return rtl() ? `\u2068${v}\u2069` : v;
  });
}

/** Every key of a language's catalogs (for the tests that check completeness). */
export function keys(l: Lang): string[] {
  return Object.keys(catalogs.get(l) ?? {});
}

/** The raw message of a key in a language, or undefined (tests). */
export function message(l: Lang, key: string): string | undefined {
  return catalogs.get(l)?.[key];
}
