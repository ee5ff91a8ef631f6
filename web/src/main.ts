// Control-room single page app. Routes by hash: #/login #/map #/live?n=4&cams=a,b #/playback?cams=a,b&t=ms
// #/exports?camera=a&from=ms&to=ms #/incidents?all=1&id=n #/reports?period=24h|7d|custom&from=ms&to=ms #/users #/cameras
// #/audit #/planner. Each screen mounts into <main> and returns its cleanup. The menu shows the screens of the user's role as
// the server lists them (GET /api/auth/me "screens", from access/screens.py); a screen opened by its address that the
// role may not use shows "not available for your role" instead of a screen of 403s (docs/design/control-room-shell.md).
import "./style.css";
import "./styles/shell.css";
import { api, setUnauthorisedHandler, type Me } from "./api";
import { resetCameras } from "./cameras";
import { setMe } from "./session";
import { clear, go, h, parseHash } from "./dom";
import { t } from "./i18n";
import { mountAuditor } from "./auditor";
import { mountDiscover } from "./discover";
import { mountExports } from "./exports";
import { mountIncidents } from "./incidents";
import { mountReports } from "./reports";
import { mountStaleBanner } from "./stale-banner";
import { mountLogin } from "./login";
import { mountMap } from "./map";
import { askNotificationPermission, notificationsSupported, startIncidentAlerts, unlockSound, type IncidentAlerts } from "./notify";
import { mountPlanner } from "./planner";
import { mountPlayback } from "./playback";
import { recorderWarning } from "./recorder-health";
import { getSetting, setSetting, setSettingsUser } from "./settings";
import { closeHelp, GLOBAL, installHelpKey, registerShortcuts, showHelp } from "./shortcuts";
import "./stats";
import { setTimeZone, zoneLabel } from "./time";
import { onLangChange } from "./i18n";
import { applyStartPrefs, loadUserPrefs, settingsMenu } from "./langprefs";
import { mountUsers } from "./users";
import { mountWall } from "./wall";

// Mount points other parts of issue 16 add here (the stale-screen banner, the language set-up): keep this block.
// Languages (docs/design/languages.md): before anyone signs in, the language this browser showed last.
applyStartPrefs();

const app = document.getElementById("app")!;
const main = h("main", {});
const userEl = h("span", { class: "user", "data-testid": "current-user" });
const zoneEl = h("span", { class: "zone", "data-testid": "city-zone" });
const cityEl = h("span", { class: "city" });

type Mount = (root: HTMLElement, params: URLSearchParams) => () => void;
// Every screen, in menu order. Which of them a user sees is the server's answer (me.screens), never decided here.
const SCREENS: Record<string, Mount> = {
  map: mountMap,
  live: mountWall,
  playback: mountPlayback,
  exports: mountExports,
  incidents: mountIncidents,
  reports: mountReports,
  users: (root) => mountUsers(root),
  cameras: (root) => mountDiscover(root),
  audit: mountAuditor,
  planner: (root) => mountPlanner(root),
};
const badge = h("span", { class: "nav-badge", "data-testid": "incident-badge", "aria-live": "polite", hidden: true });
const links: Record<string, HTMLAnchorElement> = {};
// The planner screen keeps its words in its own catalog area (planner.json).
function navLabel(k: string): string {
  return k === "planner" ? t("planner.nav") : t(`shell.nav.${k}`);
}
for (const k of Object.keys(SCREENS)) {
  links[k] = h("a", { href: `#/${k}`, "data-testid": `nav-${k}`, hidden: true }, navLabel(k));
  links[k].addEventListener("click", () => header.classList.remove("menu-open"));
}
links.incidents.append(badge);

const mayOpen = (screen: string) => me?.screens.includes(screen) ?? false;

function showMenuFor(m: Me | null): void {
  for (const [k, a] of Object.entries(links)) a.hidden = !(m?.screens.includes(k) ?? false);
  startAlerts(m);
}

// New-incident badge, tone and notification (notify.ts), for roles that may read incidents.
let alerts: IncidentAlerts | null = null;
function setBadge(n: number): void {
  badge.textContent = String(n);
  badge.dataset.count = String(n);
  badge.hidden = n === 0;
  links.incidents.title = t("shell.badge.title", { n });
}
function startAlerts(m: Me | null): void {
  alerts?.stop();
  alerts = null;
  setBadge(0);
  alertsBtn.hidden = !m?.permissions.includes("incidents.read");
  delete badge.dataset.ready;
  if (!alertsBtn.hidden) alerts = startIncidentAlerts(setBadge, () => (badge.dataset.ready = "1")); // ready: tests
}

// The alert settings: a small popover from the header, per user (settings.ts), both off by default.
const soundBox = h("input", { type: "checkbox", "data-testid": "setting-sound" });
const notifyBox = h("input", { type: "checkbox", "data-testid": "setting-notify" });
const alertsMsg = h("div", { class: "hint", "data-testid": "setting-notify-msg" });
const alertsPop = h(
  "div",
  { class: "alerts-pop", "data-testid": "alert-settings", hidden: true },
  h("label", {}, soundBox, " ", t("shell.alerts.sound")),
  h("label", {}, notifyBox, " ", t("shell.alerts.notify")),
  alertsMsg,
);
const alertsBtn = h("button", { class: "alerts-btn", "data-testid": "alerts-button", "aria-label": t("shell.alerts.title"), title: t("shell.alerts.title"), hidden: true }, t("shell.alerts.icon"));
alertsBtn.addEventListener("click", () => {
  soundBox.checked = getSetting("incidentSound");
  notifyBox.checked = getSetting("incidentNotify");
  alertsMsg.textContent = notificationsSupported() ? "" : t("shell.alerts.unsupported");
  alertsPop.hidden = !alertsPop.hidden;
});
soundBox.addEventListener("change", () => {
  if (soundBox.checked) unlockSound(); // the click is the gesture browsers want before any sound
  setSetting("incidentSound", soundBox.checked);
});
notifyBox.addEventListener("change", () => {
  if (!notifyBox.checked) return setSetting("incidentNotify", false);
  // The browser's permission is asked here, on the user's click, never before.
  void askNotificationPermission().then((ok) => {
    notifyBox.checked = ok;
    setSetting("incidentNotify", ok);
    alertsMsg.textContent = ok ? "" : t("shell.alerts.denied");
  });
});

const logout = h("button", { "data-testid": "logout", onclick: () => void doLogout() }, t("shell.signout"));
const recorderEl = h("span", { class: "recorder-warning error", "data-testid": "recorder-warning", role: "alert" });
recorderEl.hidden = true;
const nav = h("nav", { id: "main-menu", "data-testid": "main-menu" }, ...Object.values(links));
// Narrow screens: the menu folds behind this button (styles/shell.css shows it below 760 px).
const menuBtn = h("button", { class: "menu-btn", "data-testid": "menu-button", "aria-controls": "main-menu", "aria-expanded": "false" }, t("shell.menu.button"));
menuBtn.addEventListener("click", () => {
  const open = header.classList.toggle("menu-open");
  menuBtn.setAttribute("aria-expanded", String(open));
});
const helpBtn = h("button", { class: "help-btn", "data-testid": "help-button", title: t("shell.help.button_title"), "aria-label": t("shell.help.title") }, t("shell.help.button"));
helpBtn.addEventListener("click", () => showHelp(currentScreen));
const header = h(
  "header",
  {},
  menuBtn,
  h("b", { class: "brand" }, t("shell.brand")),
  cityEl,
  nav,
  recorderEl,
  zoneEl,
  userEl,
  h("span", { class: "alerts" }, alertsBtn, alertsPop),
  settingsMenu(),
  helpBtn,
  logout,
);

// A new language, calendar or digits: the header's words again and the screen mounted again, in place (no reload).
function relabel(): void {
  for (const [k, a] of Object.entries(links)) a.firstChild!.textContent = navLabel(k);
  logout.textContent = t("shell.signout");
  menuBtn.textContent = t("shell.menu.button");
  helpBtn.textContent = t("shell.help.button");
  helpBtn.title = t("shell.help.button_title");
  helpBtn.setAttribute("aria-label", t("shell.help.title"));
  alertsBtn.textContent = t("shell.alerts.icon");
  alertsBtn.title = t("shell.alerts.title");
  alertsBtn.setAttribute("aria-label", t("shell.alerts.title"));
  alertsPop.replaceChildren(
    h("label", {}, soundBox, " ", t("shell.alerts.sound")),
    h("label", {}, notifyBox, " ", t("shell.alerts.notify")),
    alertsMsg,
  );
  if (me) userEl.textContent = t("shell.user", { user: me.username, role: t(`common.role.${me.role}`) });
  zoneEl.textContent = zoneLabel();
}
onLangChange(() => {
  relabel();
  void pollRecorder();
  if (main.dataset.screen) route();
});

// Shortcuts of the screens (the "?" dialog lists the current screen's). Screens may register their own instead.
registerShortcuts(GLOBAL, [
  { keys: ["?"], action: "shell.keys.help" },
  { keys: ["Escape"], action: "shell.keys.close" },
]);
registerShortcuts("live", [{ keys: ["1", "4", "9", "6"], action: "shell.keys.wall_layout" }]);
registerShortcuts("map", [{ keys: ["Escape"], action: "shell.keys.map_close" }]);
registerShortcuts("playback", [
  { keys: ["Space"], action: "shell.keys.play_pause" },
  { keys: [",", "."], action: "shell.keys.frame_step" },
  { keys: ["ArrowLeft", "ArrowRight"], action: "shell.keys.seek" },
  { keys: ["+", "-"], action: "shell.keys.zoom" },
]);
let currentScreen = "map";
installHelpKey(() => currentScreen);

async function pollRecorder(): Promise<void> {
  if (me) {
    const health = await api.recorder().catch(() => null);
    const text = recorderWarning(health);
    recorderEl.textContent = text;
    recorderEl.hidden = text === "";
  }
}
setInterval(() => void pollRecorder(), 10_000);
app.append(header, main);
mountStaleBanner(header); // "this screen may be out of date" while the events socket is down or catching up

let me: Me | null = null;
let cleanup: (() => void) | null = null;
let wanted = "#/map";

async function doLogout(): Promise<void> {
  await api.logout().catch(() => {});
  me = null;
  setMe(null);
  setSettingsUser(null);
  showMenuFor(null);
  resetCameras();
  go("login");
}

setUnauthorisedHandler(() => {
  if (me) {
    me = null;
    setSettingsUser(null);
    showMenuFor(null);
    resetCameras();
  }
  if (!location.hash.startsWith("#/login")) {
    wanted = location.hash;
    go("login");
  }
});

async function loadCity(): Promise<void> {
  try {
    const city = await api.city();
    setTimeZone(city.timezone);
    cityEl.textContent = city.name;
    cityEl.title = city.name; // shortened with an ellipsis when the menu needs the room
    document.title = t("shell.title", { city: city.name });
  } catch {
    /* the timezone from login is used */
  }
  zoneEl.textContent = zoneLabel();
}

function adopt(m: Me): void {
  me = m;
  setMe(m);
  setSettingsUser(m.username);
  setTimeZone(m.timezone);
  showMenuFor(m);
  userEl.textContent = t("shell.user", { user: m.username, role: t(`common.role.${m.role}`) });
  zoneEl.textContent = zoneLabel();
  void pollRecorder();
}

function signedIn(m: Me): Promise<void> {
  adopt(m);
  // Route only once, from the hashchange the caller makes after this: routing here too mounted the screen twice
  // (a camera panel opened in between closed by itself).
  return loadUserPrefs().then(loadCity);
}

/** What a role that may not use a screen sees there: a plain statement and the way to its first screen. */
function mountNotAllowed(root: HTMLElement, screen: string): () => void {
  const first = me?.screens[0] ?? "map";
  root.append(
    h(
      "div",
      { class: "screen not-allowed", "data-testid": "not-allowed", "data-screen": screen },
      h("h2", {}, t("shell.denied.title")),
      h("p", {}, t("shell.denied.text", { screen: navLabel(screen), role: me ? t(`common.role.${me.role}`) : "" })),
      h("a", { href: `#/${first}`, "data-testid": "not-allowed-home" }, t("shell.denied.home", { screen: navLabel(first) })),
    ),
  );
  return () => {};
}

function route(): void {
  cleanup?.();
  cleanup = null;
  closeHelp();
  clear(main);
  header.classList.remove("menu-open");
  menuBtn.setAttribute("aria-expanded", "false");
  alertsPop.hidden = true;
  let { route: r, params } = parseHash(location.hash);
  if (!me && r !== "login") {
    wanted = location.hash || "#/map";
    go("login");
    return;
  }
  if (r !== "login" && !(r in SCREENS)) r = "map"; // an unknown address: the map, as before
  header.hidden = r === "login";
  for (const [k, a] of Object.entries(links)) a.classList.toggle("active", k === r);
  main.dataset.screen = r;
  currentScreen = r;
  try {
    if (r === "login")
      cleanup = mountLogin(main, (m) => {
        void signedIn(m).then(() => {
          location.hash = wanted.startsWith("#/login") ? "#/map" : wanted;
        });
      });
    else if (!mayOpen(r)) cleanup = mountNotAllowed(main, r);
    else cleanup = SCREENS[r](main, params);
  } catch (e) {
    main.append(h("div", { class: "error" }, t("shell.failed", { message: (e as Error).message })));
    console.error(e);
  }
}

window.addEventListener("hashchange", route);

api
  .me()
  .then((m) => {
    adopt(m);
    return loadUserPrefs().then(loadCity);
  })
  .catch(() => {
    me = null;
  })
  .finally(route);
