// The user's language, calendar and digits (docs/design/languages.md): a menu in the header, kept on the server per
// user (GET/PUT /api/me/settings) and applied at once, without a reload (i18n.applyPrefs re-renders the screen).
// Until the user chooses, the browser's languages and then the city's default (config `language`) decide; the
// login screen, before any user is known, uses the last language this browser showed, then the browser's.
import { request } from "./api";
import type { components } from "./api-types";
import { clear, h } from "./dom";
import { CALENDARS, DIGITS, LANGS, applyPrefs, calendarPref, defaultsFor, digitsPref, lang, onLangChange, pickLang, t, type Calendar, type Digits, type Lang, type Prefs } from "./i18n";

export type UiSettings = components["schemas"]["UiSettingsOut"];
type UiSettingsIn = components["schemas"]["UiSettingsIn"];
const REMEMBERED = "camgrid.lang";

export const settingsApi = {
  get: () => request<UiSettings>("GET", "/api/me/settings"),
  put: (s: UiSettingsIn) => request<UiSettings>("PUT", "/api/me/settings", s),
};

function browserLangs(): readonly string[] {
  return typeof navigator !== "undefined" ? (navigator.languages ?? [navigator.language]) : [];
}

/** What the screens show for a user's stored settings: theirs, else the defaults of their (or the city's) language. */
export function resolvePrefs(s: Pick<UiSettings, "language" | "calendar" | "digits" | "city_language"> | null, browser: readonly string[]): Prefs {
  const l: Lang = (s?.language as Lang | null) ?? pickLang(browser, s?.city_language ?? null);
  const d = defaultsFor(l);
  return { lang: l, calendar: (s?.calendar as Calendar | null) ?? d.calendar, digits: (s?.digits as Digits | null) ?? d.digits };
}

function remember(): void {
  try {
    localStorage.setItem(REMEMBERED, lang());
  } catch {
    /* private mode: the browser's languages decide next time */
  }
}

/** Before sign-in: the language this browser showed last, else the browser's own. */
export function applyStartPrefs(): void {
  let last: string | null = null;
  try {
    last = localStorage.getItem(REMEMBERED);
  } catch {
    last = null;
  }
  applyPrefs(defaultsFor(pickLang(last ? [last, ...browserLangs()] : browserLangs(), null)));
}

let stored: UiSettings | null = null;

/** After sign-in: the user's settings from the server. */
export async function loadUserPrefs(): Promise<void> {
  stored = await settingsApi.get().catch(() => null);
  applyPrefs(resolvePrefs(stored, browserLangs()));
  remember();
}

/** The header's settings button and menu. */
export function settingsMenu(): HTMLElement {
  const button = h("button", { type: "button", "data-testid": "settings-open", "aria-haspopup": "true" });
  const menu = h("div", { class: "settings-menu", "data-testid": "settings-menu", role: "menu" });
  menu.hidden = true;
  const box = h("span", { class: "settings" }, button, menu);
  const select = <T extends string>(testid: string, values: readonly T[], current: T, label: (v: T) => string, apply: (v: T) => Partial<Prefs>) => {
    const el = h("select", { "data-testid": testid }, ...values.map((v) => h("option", { value: v, selected: v === current }, label(v))));
    el.addEventListener("change", () => void choose(apply(el.value as T)));
    return el;
  };
  // A new language brings its own calendar and digits (Solar Hijri and Persian digits for Dari and Pashto); the user
  // may then change either.
  const render = () => {
    button.textContent = t("common.settings.button", { lang: t(`common.lang.${lang()}`) });
    button.title = t("common.settings.title");
    clear(menu);
    menu.append(
      h("label", {}, t("common.settings.language"), select("settings-lang", LANGS, lang(), (v) => t(`common.lang.${v}`), (v) => defaultsFor(v))),
      h("label", {}, t("common.settings.calendar"), select("settings-calendar", CALENDARS, calendarPref(), (v) => t(`common.calendar.${v}`), (v) => ({ calendar: v }))),
      h("label", {}, t("common.settings.digits"), select("settings-digits", DIGITS, digitsPref(), (v) => t(`common.digits.${v}`), (v) => ({ digits: v }))),
      h("div", { class: "muted", "data-testid": "settings-note" }, t("common.settings.note")),
    );
  };
  const choose = async (p: Partial<Prefs>) => {
    const next: Prefs = { lang: lang(), calendar: calendarPref(), digits: digitsPref(), ...p };
    applyPrefs(next);
    remember();
    stored = await settingsApi.put({ language: next.lang, calendar: next.calendar, digits: next.digits }).catch(() => stored);
  };
  button.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
  });
  document.addEventListener("click", (e) => {
    if (!box.contains(e.target as Node)) menu.hidden = true;
  });
  onLangChange(render);
  render();
  return box;
}
