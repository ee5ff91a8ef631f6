// A 24-hour ISO date-time field: typed "2026-12-02 08:04" or "2026-12-02 08:04:10" in the city's time zone (the
// zone of web/src/time.ts), checked as typed, with a small month calendar to pick the day. It replaces the
// browser's datetime-local, which shows the browser's locale (US: 12/02/2026, 08:04 AM) and the browser's zone.
import { h } from "./dom";
import { t } from "./i18n";
import { timeZone } from "./time";
import { formatZonedInput, zonedToUtc } from "./timeline-math";

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

function daysIn(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/**
 * UTC ms of "YYYY-MM-DD[ HH:MM[:SS]]" in zone; null for a blank text; NaN when malformed or out of range
 * (month 13, 31 April, 24:00).
 */
export function parseDateTime(text: string, zone: string): number | null {
  const s = text.trim();
  if (s === "") return null;
  const m = PATTERN.exec(s);
  if (!m) return NaN;
  const [y, mo, d, hh, mi, ss] = [+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)];
  if (y < 1970 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || hh > 23 || mi > 59 || ss > 59) return NaN;
  return zonedToUtc(zone, y, mo, d, hh, mi, ss);
}

/** "YYYY-MM-DD HH:MM:SS" (or without seconds) of ms in zone. */
export function formatDateTime(ms: number, zone: string, seconds = true): string {
  const s = formatZonedInput(zone, ms).replace("T", " ");
  return seconds ? s : s.slice(0, 16);
}

/** Weeks (Monday first) of a month as day numbers, 0 for the blanks. */
export function monthGrid(y: number, m: number): number[][] {
  const first = (new Date(Date.UTC(y, m - 1, 1)).getUTCDay() + 6) % 7;
  const cells = [...new Array<number>(first).fill(0), ...Array.from({ length: daysIn(y, m) }, (_, i) => i + 1)];
  while (cells.length % 7) cells.push(0);
  const weeks: number[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

export interface DateTimeInput {
  el: HTMLElement;
  input: HTMLInputElement;
  /** UTC ms, null when blank, NaN when what is typed is not a date-time. */
  value(): number | null;
  set(ms: number | null): void;
}

export interface DateTimeOptions {
  value?: number | null;
  onChange?: (ms: number | null) => void;
  testid?: string;
  /** Show seconds when formatting a value (typing them is always allowed). */
  seconds?: boolean;
  label?: string;
}

const pad = (n: number) => String(n).padStart(2, "0");

export function dateTimeInput(opts: DateTimeOptions = {}): DateTimeInput {
  const seconds = opts.seconds ?? true;
  const input = h("input", {
    type: "text",
    class: "dt-input",
    inputmode: "numeric",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: t(seconds ? "shell.datetime.placeholder_s" : "shell.datetime.placeholder"),
    size: seconds ? 19 : 16,
    maxlength: 19,
    "data-testid": opts.testid,
    "aria-label": opts.label,
  });
  const error = h("span", { class: "dt-error error", role: "alert", "data-testid": opts.testid ? `${opts.testid}-error` : undefined });
  const pick = h("button", { type: "button", class: "dt-pick", "aria-label": t("shell.datetime.calendar"), title: t("shell.datetime.calendar"), "data-testid": opts.testid ? `${opts.testid}-calendar` : undefined }, t("shell.datetime.calendar_icon"));
  const pop = h("div", { class: "dt-popover", hidden: true });
  const el = h("span", { class: "dt" }, input, pick, pop, error);
  el.title = t("shell.datetime.hint", { zone: timeZone() });

  const value = () => parseDateTime(input.value, timeZone());
  const check = (): number | null => {
    const v = value();
    const bad = v !== null && !Number.isFinite(v);
    input.classList.toggle("invalid", bad);
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    input.setCustomValidity(bad ? t("shell.datetime.invalid") : "");
    error.textContent = bad ? t("shell.datetime.invalid") : "";
    return v;
  };
  const changed = () => {
    const v = check();
    if (v === null || Number.isFinite(v)) opts.onChange?.(v);
  };
  input.addEventListener("input", () => void check());
  input.addEventListener("change", changed);

  // The calendar: the month of what is typed (or today in the city), a click sets the day and keeps the time.
  let shown: [number, number] = [1970, 1];
  const drawCalendar = () => {
    const [y, m] = shown;
    const typed = /^(\d{4})-(\d{2})-(\d{2})/.exec(input.value.trim());
    const sel = typed && +typed[1] === y && +typed[2] === m ? +typed[3] : 0;
    const nav = (dm: number) => () => {
      const k = y * 12 + (m - 1) + dm;
      shown = [Math.floor(k / 12), (k % 12) + 1];
      drawCalendar();
    };
    pop.replaceChildren(
      h("div", { class: "dt-head" },
        h("button", { type: "button", "aria-label": t("shell.datetime.prev_month"), onclick: nav(-1) }, t("shell.datetime.prev_icon")),
        h("b", { "data-testid": "dt-month" }, `${y}-${pad(m)}`),
        h("button", { type: "button", "aria-label": t("shell.datetime.next_month"), onclick: nav(1) }, t("shell.datetime.next_icon"))),
      h("table", { class: "dt-grid" }, h("tbody", {}, ...monthGrid(y, m).map((w) => h("tr", {}, ...w.map((d) =>
        h("td", {}, d ? h("button", {
          type: "button", class: d === sel ? "active" : "", "data-day": d,
          onclick: () => {
            const rest = /[ T](\d{2}:\d{2}(?::\d{2})?)$/.exec(input.value.trim())?.[1] ?? "00:00";
            input.value = `${y}-${pad(m)}-${pad(d)} ${rest}`;
            pop.hidden = true;
            changed();
            input.focus();
          },
        }, String(d)) : "")))))),
    );
  };
  pick.addEventListener("click", () => {
    if (!pop.hidden) {
      pop.hidden = true;
      return;
    }
    const v = value();
    const at = v !== null && Number.isFinite(v) ? v : Date.now();
    const d = formatDateTime(at, timeZone());
    shown = [+d.slice(0, 4), +d.slice(5, 7)];
    drawCalendar();
    pop.hidden = false;
  });
  pop.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      pop.hidden = true;
      pick.focus();
    }
  });

  const set = (ms: number | null) => {
    input.value = ms === null || !Number.isFinite(ms) ? "" : formatDateTime(ms, timeZone(), seconds);
    check();
  };
  set(opts.value ?? null);
  return { el, input, value: check, set };
}
