// The banner every screen shows while it cannot be trusted (trust.ts): since when, and that it is catching up.
import { h } from "./dom";
import { t } from "./i18n";
import { fmtHMS, utcTitle } from "./time";
import { onTrust, trust, type Trust } from "./trust";
import "./styles/stale.css";

/** Insert the banner right after `before` (the header); it follows the trust state until the page ends. */
export function mountStaleBanner(before: HTMLElement): HTMLElement {
  const el = h("div", { class: "stale-banner", role: "alert", "data-testid": "stale-banner" });
  const show = (tr: Trust) => {
    el.hidden = tr.state === "live";
    el.dataset.state = tr.state;
    if (tr.state === "live" || tr.sinceMs === null) {
      el.textContent = "";
      return;
    }
    const time = fmtHMS(tr.sinceMs);
    el.textContent = t(tr.state === "down" ? "connection.down" : "connection.resyncing", { time });
    el.title = utcTitle(tr.sinceMs);
  };
  show(trust());
  onTrust(show);
  before.after(el);
  return el;
}
