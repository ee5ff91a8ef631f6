// Keyboard shortcuts per screen: each screen registers what its keys do (keys as shown, and the catalog key of what
// they do), and "?" opens a dialog listing the current screen's shortcuts and the global ones; Escape closes it.
import { h } from "./dom";
import { t } from "./i18n";

export interface Shortcut {
  /** The keys as KeyboardEvent.key names them, e.g. ["1", "4", "9", "6"]; named keys (NAMED) are shown translated. */
  keys: string[];
  /** Catalog key of what they do (t(action)). */
  action: string;
}

const registry = new Map<string, Shortcut[]>();
/** Keys shown by a catalog word or sign (shell.key.<name>) rather than as typed. */
const NAMED = new Set(["Space", "Escape", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Enter", "Shift"]);

export function keyLabel(key: string): string {
  return NAMED.has(key) ? t(`shell.key.${key}`) : key;
}
/** Shortcuts that work on every screen. */
export const GLOBAL = "*";

/** Register (replace) the shortcuts of a screen, by its route name ("live", "playback", ...). */
export function registerShortcuts(screen: string, list: Shortcut[]): void {
  registry.set(screen, list.slice());
}

/** The shortcuts in force on a screen: its own, then the global ones. */
export function shortcutsOf(screen: string): Shortcut[] {
  return [...(screen === GLOBAL ? [] : (registry.get(screen) ?? [])), ...(registry.get(GLOBAL) ?? [])];
}

/** True when a key press is meant for a text field, not a shortcut. */
export function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLElement && target.isContentEditable)
  );
}

let open: HTMLDialogElement | null = null;

export function helpOpen(): boolean {
  return open !== null;
}

export function closeHelp(): void {
  open?.close();
}

/** The help dialog for a screen (one at a time). */
export function showHelp(screen: string): HTMLDialogElement {
  closeHelp();
  const list = shortcutsOf(screen);
  const close = h("button", { class: "close", "data-testid": "shortcut-help-close", "aria-label": t("shell.help.close") }, t("shell.help.close_icon"));
  const body = list.length
    ? h(
        "table",
        { class: "shortcut-table" },
        h("tbody", {}, ...list.map((s) => h("tr", { "data-testid": "shortcut", "data-action": s.action },
          h("td", {}, ...s.keys.flatMap((k, i) => [i ? " " : "", h("kbd", {}, keyLabel(k))])),
          h("td", {}, t(s.action)),
        ))),
      )
    : h("p", {}, t("shell.help.none"));
  const dlg = h(
    "dialog",
    { class: "shortcut-help", "data-testid": "shortcut-help", "aria-label": t("shell.help.title") },
    h("div", { class: "panel-head" }, h("b", {}, t("shell.help.title")), close),
    body,
  );
  close.addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => {
    dlg.remove();
    if (open === dlg) open = null;
  });
  document.body.append(dlg);
  dlg.showModal(); // a modal dialog: Escape closes it (the browser's own handling)
  open = dlg;
  return dlg;
}

/** "?" anywhere (but in a text field) opens the help of the screen currentScreen() names. */
export function installHelpKey(currentScreen: () => string): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== "?" || typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    if (open) closeHelp();
    else showHelp(currentScreen());
  };
  window.addEventListener("keydown", onKey);
  return () => window.removeEventListener("keydown", onKey);
}
