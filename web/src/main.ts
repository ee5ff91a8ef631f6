// Control-room single page app. Routes by hash: #/login #/map #/live?n=4&cams=a,b #/playback?cams=a,b&t=ms
// #/exports?camera=a&from=ms&to=ms #/incidents?all=1&id=n #/reports?period=24h|7d|custom&from=ms&to=ms #/users #/cameras (admins). Each screen mounts into <main> and returns its cleanup.
import "./style.css";
import { api, setUnauthorisedHandler, type Me, type Role } from "./api";
import { resetCameras } from "./cameras";
import { setMe } from "./session";
import { clear, go, h, parseHash } from "./dom";
import { mountAuditor } from "./auditor";
import { mountDiscover } from "./discover";
import { mountExports } from "./exports";
import { mountIncidents } from "./incidents";
import { mountReports } from "./reports";
import { mountStaleBanner } from "./stale-banner";
import { mountLogin } from "./login";
import { mountMap } from "./map";
import { mountPlayback } from "./playback";
import { recorderWarning } from "./recorder-health";
import "./stats";
import { setTimeZone, zoneLabel } from "./time";
import { mayManageUsers, mountUsers } from "./users";
import { mountWall } from "./wall";

const app = document.getElementById("app")!;
const main = h("main", {});
const userEl = h("span", { class: "user", "data-testid": "current-user" });
const zoneEl = h("span", { class: "zone", "data-testid": "city-zone" });
const cityEl = h("span", { class: "city" });
const links: Record<string, HTMLAnchorElement> = {
  map: h("a", { href: "#/map", "data-testid": "nav-map" }, "Map"),
  live: h("a", { href: "#/live", "data-testid": "nav-live" }, "Live wall"),
  playback: h("a", { href: "#/playback", "data-testid": "nav-playback" }, "Playback"),
  exports: h("a", { href: "#/exports", "data-testid": "nav-exports" }, "Exports"),
  incidents: h("a", { href: "#/incidents", "data-testid": "nav-incidents" }, "Incidents"),
  reports: h("a", { href: "#/reports", "data-testid": "nav-reports" }, "Reports"),
  users: h("a", { href: "#/users", "data-testid": "nav-users", hidden: true }, "Users"),
  cameras: h("a", { href: "#/cameras", "data-testid": "nav-cameras", hidden: true }, "Cameras"),
  audit: h("a", { href: "#/audit", "data-testid": "nav-audit", hidden: true }, "Audit log"),
};
// Screens only some roles have (the server refuses the others anyway): the log to auditors, users to admins.
function showMenuFor(role: string | null): void {
  links.audit.hidden = role !== "auditor";
  links.users.hidden = !mayManageUsers(role as Role | null);
  links.cameras.hidden = role !== "admin"; // discovering and importing cameras (cameras.discover, cameras.import)
}
const logout = h("button", { "data-testid": "logout", onclick: () => void doLogout() }, "Sign out");
const recorderEl = h("span", { class: "recorder-warning error", "data-testid": "recorder-warning", role: "alert" });
recorderEl.hidden = true;
const header = h("header", {}, h("b", { class: "brand" }, "camgrid"), cityEl, h("nav", {}, ...Object.values(links)), recorderEl, zoneEl, userEl, logout);

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
  showMenuFor(null);
  resetCameras();
  go("login");
}

setUnauthorisedHandler(() => {
  if (me) {
    me = null;
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
    document.title = `camgrid · ${city.name}`;
  } catch {
    /* the timezone from login is used */
  }
  zoneEl.textContent = zoneLabel();
}

function signedIn(m: Me): void {
  me = m;
  setMe(m);
  showMenuFor(m.role);
  setTimeZone(m.timezone);
  userEl.textContent = `${m.username} (${m.role})`;
  zoneEl.textContent = zoneLabel();
  void pollRecorder();
  void loadCity().then(route);
}

function route(): void {
  cleanup?.();
  cleanup = null;
  clear(main);
  const { route: r, params } = parseHash(location.hash);
  if (!me && r !== "login") {
    wanted = location.hash || "#/map";
    go("login");
    return;
  }
  header.hidden = r === "login";
  for (const [k, a] of Object.entries(links)) a.classList.toggle("active", k === r);
  main.dataset.screen = r;
  try {
    if (r === "login")
      cleanup = mountLogin(main, (m) => {
        signedIn(m);
        location.hash = wanted.startsWith("#/login") ? "#/map" : wanted;
      });
    else if (r === "live") cleanup = mountWall(main, params);
    else if (r === "playback") cleanup = mountPlayback(main, params);
    else if (r === "exports") cleanup = mountExports(main, params);
    else if (r === "incidents") cleanup = mountIncidents(main, params);
    else if (r === "reports") cleanup = mountReports(main, params);
    else if (r === "users" && mayManageUsers(me?.role)) cleanup = mountUsers(main);
    else if (r === "cameras" && me?.role === "admin") cleanup = mountDiscover(main);
    else if (r === "audit") cleanup = mountAuditor(main, params);
    else cleanup = mountMap(main, params);
  } catch (e) {
    main.append(h("div", { class: "error" }, `this screen failed: ${(e as Error).message}`));
    console.error(e);
  }
}

window.addEventListener("hashchange", route);

api
  .me()
  .then((m) => {
    me = m;
    setMe(m);
    showMenuFor(m.role);
    setTimeZone(m.timezone);
    userEl.textContent = `${m.username} (${m.role})`;
    void pollRecorder();
    return loadCity();
  })
  .catch(() => {
    me = null;
  })
  .finally(route);
