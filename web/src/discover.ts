// The admins' cameras screen: "Discover cameras" (docs/design/onvif.md, "Discovery and set-up"). The admin probes
// addresses (or the local network) for ONVIF cameras with their login, sees what each one is (maker, model,
// firmware, streams, masks, events, Profile G, clock offset), completes each new row's site, district, feeder,
// uplink and position from the registry's lists, and imports the rows through the registry's atomic import. The
// password typed here goes to the server for the discovery and with the imported rows; the server never sends it
// back, and this screen never shows it.
import { ApiError, request } from "./api";
import type { components } from "./api-types";
import { clear, h } from "./dom";
import { t } from "./i18n";

type Schemas = components["schemas"];
export type DiscoveryReport = Schemas["DiscoveryReport"];
export type Proposed = Schemas["ProposedCamera"];
export type Topology = Schemas["TopologyOut"];
export type CameraRow = Schemas["CameraIn"];
type ImportSummary = Schemas["ImportSummary"];
type DiscoverBody = Schemas["DiscoverIn"];

export const discoverApi = {
  discover: (body: DiscoverBody) => request<DiscoveryReport>("POST", "/api/cameras/discover", body),
  topology: () => request<Topology>("GET", "/api/cameras/topology"),
  importRows: (rows: CameraRow[]) => request<ImportSummary>("POST", "/api/cameras/import", { rows }),
};

/** "10.1.2.3, 10.1.2.0/28 10.1.3.9" -> the entries, without repeats. */
export function parseAddresses(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((a) => a.trim()).filter((a) => a !== ""))];
}

export function streamText(p: Proposed): string {
  return (p.streams ?? []).map((s) => t("discover.stream", { name: s.name || t("discover.streamName"), w: s.width, h: s.height, encoding: s.encoding, fps: s.fps })).join(" · ");
}

export function capabilityText(p: Proposed): string {
  return [p.masks ? t("discover.masks") : t("discover.noMasks"), p.events ? t("discover.events") : t("discover.noEvents"), p.profile_g ? t("discover.profileG") : t("discover.noProfileG")].join(t("discover.listSep"));
}

export function offsetText(ms: number | null | undefined): string {
  if (ms == null) return t("common.unknown");
  const s = ms / 1000;
  return `${s >= 0 ? "+" : ""}${t("camera-onvif.seconds", { s: s.toFixed(1) })}`;
}

/** The row the import takes, from a proposal and the admin's completion (null when something is missing). */
export function completeRow(p: Proposed, fill: { site: string; district: string; feeder: string; uplink: string; lat: string; lon: string; id: string; name: string }, password: string): CameraRow | null {
  const lat = Number(fill.lat);
  const lon = Number(fill.lon);
  if (!fill.id || !fill.name || !fill.site || !fill.district || !fill.feeder || !fill.uplink) return null;
  if (fill.lat.trim() === "" || fill.lon.trim() === "" || !Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  const row: CameraRow = {
    id: fill.id, name: fill.name, lat, lon, district: fill.district, site: fill.site, feeder: fill.feeder, uplink: fill.uplink,
    rtsp_url: p.rtsp_url, sub_rtsp_url: p.sub_rtsp_url ?? "", onvif_url: p.onvif_url, username: p.username ?? "", password,
    transport: "auto",
  };
  return row;
}

function select(testid: string, options: { id: string; name: string }[], placeholder: string): HTMLSelectElement {
  const sel = h("select", { "data-testid": testid }, h("option", { value: "" }, placeholder));
  for (const o of options) sel.append(h("option", { value: o.id }, o.name && o.name !== o.id ? `${o.id} (${o.name})` : o.id));
  return sel;
}

export function mountDiscover(root: HTMLElement): () => void {
  let alive = true;
  let topology: Topology = { districts: [], sites: [], feeders: [], uplinks: [] };
  const status = h("div", { class: "status-line", "data-testid": "discover-status", role: "status" });
  const error = h("div", { class: "error", "data-testid": "discover-error", role: "alert" });
  const addresses = h("input", { type: "text", size: 40, placeholder: t("discover.addresses"), "data-testid": "discover-addresses" });
  const multicast = h("input", { type: "checkbox", "data-testid": "discover-multicast" });
  const port = h("input", { type: "number", min: 1, max: 65535, value: 3702, size: 6, "data-testid": "discover-port" });
  const username = h("input", { type: "text", placeholder: t("discover.username"), autocomplete: "off", "data-testid": "discover-username" });
  const password = h("input", { type: "password", placeholder: t("discover.password"), autocomplete: "new-password", "data-testid": "discover-password" });
  const run = h("button", { type: "submit", "data-testid": "discover-run" }, t("discover.run"));
  const form = h("form", { class: "users-form", "data-testid": "discover-form" }, addresses, h("label", {}, multicast, ` ${t("discover.localNetwork")}`), ` ${t("discover.port")} `, port, username, password, run);
  const proposedBody = h("tbody", {});
  const others = h("div", { "data-testid": "discover-others" });
  const importBtn = h("button", { "data-testid": "discover-import", disabled: true }, t("discover.import"));
  const completions: { p: Proposed; tr: HTMLElement; get: () => CameraRow | null }[] = [];

  const fail = (e: unknown) => {
    error.textContent = e instanceof ApiError ? e.detail : (e as Error).message;
  };

  const proposedRow = (p: Proposed) => {
    const id = h("input", { type: "text", value: p.id, size: 18, "data-testid": "row-id" });
    const name = h("input", { type: "text", value: p.name, size: 16, "data-testid": "row-name" });
    const site = select("row-site", topology.sites, t("discover.site"));
    const district = select("row-district", topology.districts, t("discover.district"));
    const feeder = select("row-feeder", topology.feeders, t("discover.feeder"));
    const uplink = select("row-uplink", topology.uplinks, t("discover.uplink"));
    const lat = h("input", { type: "text", size: 8, placeholder: t("discover.lat"), "data-testid": "row-lat" });
    const lon = h("input", { type: "text", size: 8, placeholder: t("discover.lon"), "data-testid": "row-lon" });
    // A known site brings its district, feeder, uplink and position (the admin may still change them).
    site.addEventListener("change", () => {
      const s = topology.sites.find((x) => x.id === site.value);
      if (!s) return;
      district.value = s.district;
      feeder.value = s.feeder;
      uplink.value = s.uplink;
      if (!lat.value) lat.value = String(s.lat);
      if (!lon.value) lon.value = String(s.lon);
    });
    const tr = h(
      "tr",
      { "data-testid": "proposed-row", "data-onvif": p.onvif_url },
      h("td", {}, id, h("br", {}), name),
      h("td", { "data-testid": "row-device" }, h("b", {}, `${p.maker} ${p.model}`), h("br", {}), t("discover.firmware", { v: p.firmware || "?" }), h("br", {}), t("discover.serial", { v: p.serial || "?" })),
      h("td", { "data-testid": "row-streams" }, streamText(p), h("br", {}), h("small", {}, p.rtsp_url)),
      h("td", { "data-testid": "row-capabilities" }, capabilityText(p)),
      h("td", { "data-testid": "row-clock" }, offsetText(p.clock_offset_ms)),
      h("td", {}, site, " ", district, h("br", {}), feeder, " ", uplink, h("br", {}), lat, " ", lon),
    );
    completions.push({
      p,
      tr,
      get: () =>
        completeRow(p, { id: id.value.trim(), name: name.value.trim(), site: site.value, district: district.value, feeder: feeder.value, uplink: uplink.value, lat: lat.value, lon: lon.value }, password.value),
    });
    return tr;
  };

  const show = (report: DiscoveryReport) => {
    clear(proposedBody);
    clear(others);
    completions.length = 0;
    for (const p of report.proposed) proposedBody.append(proposedRow(p));
    for (const k of report.known)
      others.append(h("div", { "data-testid": "known-row" }, k.known_as ? t("discover.knownAs", { url: k.onvif_url, id: k.known_as }) : t("discover.known", { url: k.onvif_url })));
    for (const f of report.failed) others.append(h("div", { "data-testid": "failed-row", class: "error" }, `${f.onvif_url}: ${f.error}`));
    importBtn.disabled = report.proposed.length === 0;
    const where = report.probed ? t("discover.addressCount", { n: report.probed }) : t("discover.theLocalNetwork");
    status.textContent = t("discover.probed", { where, found: report.found, proposed: report.proposed.length, known: report.known.length, failed: report.failed.length });
    proposedBody.dataset.loaded = String(report.proposed.length);
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    error.textContent = "";
    status.textContent = t("discover.discovering");
    run.disabled = true;
    const body: DiscoverBody = {
      username: username.value.trim(), password: password.value, port: Number(port.value) || 3702,
      multicast: multicast.checked, timeout_s: 3, call_timeout_s: 5,
    };
    if (!multicast.checked) body.addresses = parseAddresses(addresses.value);
    discoverApi
      .discover(body)
      .then((report) => {
        if (alive) show(report);
      })
      .catch((e) => {
        status.textContent = "";
        fail(e);
      })
      .finally(() => {
        run.disabled = false;
      });
  });

  importBtn.addEventListener("click", () => {
    error.textContent = "";
    const ready = completions.map((c) => ({ c, row: c.get() })).filter((x) => x.row !== null && x.c.tr.dataset.imported !== "true");
    if (ready.length === 0) {
      error.textContent = t("discover.incomplete");
      return;
    }
    discoverApi
      .importRows(ready.map((x) => x.row as CameraRow))
      .then((summary) => {
        for (const x of ready) x.c.tr.dataset.imported = "true";
        status.textContent = t("discover.imported", { added: summary.added, updated: summary.updated, unchanged: summary.unchanged });
      })
      .catch(fail);
  });

  root.append(
    h(
      "div",
      { class: "screen users-screen", "data-testid": "discover-panel" },
      h("h2", {}, t("discover.title")),
      form,
      status,
      error,
      h(
        "table",
        { class: "exports", "data-testid": "proposed-list" },
        h("thead", {}, h("tr", {}, h("th", {}, t("discover.col.id")), h("th", {}, t("discover.col.device")), h("th", {}, t("discover.col.streams")), h("th", {}, t("discover.col.can")), h("th", {}, t("discover.col.clock")), h("th", {}, t("discover.col.where")))),
        proposedBody,
      ),
      importBtn,
      others,
    ),
  );
  discoverApi
    .topology()
    .then((topo) => {
      topology = topo;
    })
    .catch(fail);
  return () => {
    alive = false;
  };
}
