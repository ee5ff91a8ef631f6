// Tamper incidents (issue 17, docs/design/tamper.md): a camera incident whose reason is "tamper: <kind>" shows the
// camera's reference ("before") and the picture that raised it ("after"), fetched as JPEG stills by users who may
// watch video (the server refuses the others: the stills are then left out), and, for users who may, "Re-take
// reference" after a planned move (audited on the server).
import { request, type Incident } from "./api";
import type { components } from "./api-types";
import { h } from "./dom";
import "./styles/tamper.css";
import { t } from "./i18n";
import { me } from "./session";

type TamperReferenceOut = components["schemas"]["TamperReferenceOut"];
const PREFIX = "tamper: ";
const KINDS = ["covered", "defocused", "turned", "blinded", "frozen", "camera"] as const;

export const tamperApi = {
  retake: (camera: string) => request<TamperReferenceOut>("POST", `/api/cameras/${encodeURIComponent(camera)}/tamper/reference`),
  still: (incident: number, which: "before" | "after") => `/api/incidents/${incident}/stills/${which}`,
};

/** The tamper kind of an incident ("covered", ...), or null when it is not a tamper incident. */
export function tamperKind(inc: Pick<Incident, "kind" | "reason">): string | null {
  if (inc.kind !== "camera" || !inc.reason?.startsWith(PREFIX)) return null;
  return inc.reason.slice(PREFIX.length);
}

/** What a tamper kind means, in the user's language (an unknown kind from a newer server as it came). */
export function tamperText(kind: string): string {
  return (KINDS as readonly string[]).includes(kind) ? t(`tamper.kind.${kind}`) : kind;
}

/** The stills and the re-take button of a tamper incident; null for any other incident. */
export function tamperBlock(inc: Incident, onError: (m: string) => void): HTMLElement | null {
  const kind = tamperKind(inc);
  if (kind === null) return null;
  const still = (which: "before" | "after") => {
    const label = t(`tamper.${which}`);
    const img = h("img", { alt: t("tamper.stillAlt", { which: label, camera: inc.subject }) });
    const fig = h("figure", { class: "tamper-still", "data-testid": `tamper-still-${which}` }, img, h("figcaption", {}, label));
    // Fetched, never cached (not an <img src>: the page's image cache would show it to the next user signing in on
    // this machine without asking the server); refused (no video permission) or none kept: nothing shown.
    fetch(tamperApi.still(inc.id, which), { cache: "no-store", credentials: "same-origin" })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(String(r.status)))))
      .then((b) => {
        const url = URL.createObjectURL(b);
        img.onload = () => URL.revokeObjectURL(url);
        img.src = url;
      })
      .catch(() => fig.remove());
    return fig;
  };
  const el = h(
    "div",
    { class: "tamper", "data-testid": "tamper", "data-kind": kind },
    h("div", { class: "tamper-kind" }, tamperText(kind)),
    h("div", { class: "tamper-stills" }, still("before"), still("after")),
  );
  if (me()?.permissions.includes("tamper.reference")) {
    const note = h("span", { class: "tamper-note", role: "status" });
    const btn = h(
      "button",
      {
        "data-testid": "tamper-retake",
        title: t("tamper.retakeHint"),
        onclick: () => {
          if (!window.confirm(t("tamper.retakeConfirm", { camera: inc.subject }))) return;
          btn.disabled = true;
          tamperApi
            .retake(inc.subject)
            .then(() => (note.textContent = t("tamper.retakeDone")))
            .catch((e) => {
              btn.disabled = false;
              onError((e as Error).message);
            });
        },
      },
      t("tamper.retake"),
    );
    el.append(h("div", { class: "tamper-actions" }, btn, note));
  }
  return el;
}
