// Message catalogs: every string the control room shows comes from here, so it can be shown in the city's languages.
// Catalogs are flat JSON files web/src/locales/<lang>/<area>.json with keys "<area>.<thing>", one file per screen or
// part so that parts can grow apart. Variables are written {name} and filled by t(key, {name: value}).
// A key missing from the current language falls back to English, and a key missing from English shows the key
// itself (and a test fails on it), so a missing translation is visible but never breaks a screen.

export type Lang = "en" | "fa-AF" | "ps" | "ne";
export const LANGS: readonly Lang[] = ["en", "fa-AF", "ps", "ne"];
type Catalog = Record<string, string>;

const files = import.meta.glob("./locales/*/*.json", { eager: true, import: "default" }) as Record<string, Catalog>;
const catalogs = new Map<string, Catalog>();
for (const [path, cat] of Object.entries(files)) {
  const lang = path.split("/")[2];
  catalogs.set(lang, { ...(catalogs.get(lang) ?? {}), ...cat });
}

let current: Lang = "en";

/** The language strings are shown in. */
export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = LANGS.includes(l) ? l : "en";
}

/** Text direction of the current language. */
export function dir(): "ltr" | "rtl" {
  return current === "fa-AF" || current === "ps" ? "rtl" : "ltr";
}

/** The message for key in the current language, with {name} variables filled in. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const msg = catalogs.get(current)?.[key] ?? catalogs.get("en")?.[key] ?? key;
  return msg.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/** Every key of a language's catalogs (for the tests that check completeness). */
export function keys(l: Lang): string[] {
  return Object.keys(catalogs.get(l) ?? {});
}
