// Incidents (issue 6): the open list from GET /api/incidents?open=1 kept current by {"type":"incident"} events of
// WS /api/events (the camera store's socket), operator actions (acknowledge, comment, accept/reject suggestions).
// Used by the #/incidents screen and, compact, on the map screen.
import { ApiError, request, type Incident, type Suggestion } from "./api";
import { cameras, STATES, type CameraStore } from "./cameras";
import { clear, go, h } from "./dom";
import { describeIncident, incidentOfEvent, sortIncidents, type LiveState } from "./incident-text";
import { fmtHM, timeEl, utcTitle } from "./time";
import { num, t } from "./i18n";
import { tamperBlock } from "./tamper";

export const incidentApi = {
  list: (openOnly: boolean) =>
    request<Incident[]>("GET", `/api/incidents?open=${openOnly ? 1 : 0}`),
  ack: (id: number, text: string) =>
    request<Incident>("POST", `/api/incidents/${id}/ack`, { text }),
  comment: (id: number, text: string) =>
    request<Incident>("POST", `/api/incidents/${id}/comment`, { text }),
  decide: (id: number, accept: boolean) => request<{ status: Suggestion["status"] }>("POST", `/api/suggestions/${id}`, { accept }),
};

/** The incidents known to this page: loaded once, then updated by events. Resolved ones stay for 10 minutes. */
export class IncidentBook {
  items = new Map<number, Incident>();
  error: string | null = null;
  private listeners = new Set<() => void>();
  private unsub: (() => void) | null = null;
  private unsubCams: (() => void) | null = null;
  private store: CameraStore | null = null;
  private timer = 0;

  constructor(private openOnly = true) {}

  async start(): Promise<void> {
    const s = await cameras().catch(() => null);
    if (s) {
      const offIncident = s.onIncident((ev) => this.put(incidentOfEvent(ev)));
      const offResync = s.onResync(() => void this.resync());
      this.unsub = () => {
        offIncident();
        offResync();
      };
    }
    this.store = s;
    // A camera incident's text follows its camera ("back since 08:05" once it records again, before it closes).
    if (s)
      this.unsubCams = s.onChange((changed) => {
        const subjects = new Set([...this.items.values()].filter((i) => i.resolved_ms === null).flatMap((i) => (i.kind === "camera" ? [i.subject] : i.cameras)));
        if (changed.some((c) => subjects.has(s.id(c)))) this.changed();
      });
    try {
      for (const i of await incidentApi.list(this.openOnly)) if (!this.items.has(i.id)) this.items.set(i.id, i);
      this.error = null;
    } catch (e) {
      this.error = e instanceof ApiError && e.status === 403 ? t("incidents.forbidden") : (e as Error).message;
    }
    this.timer = window.setInterval(() => this.prune(), 60_000);
    this.changed();
  }

  put(i: Incident): void {
    this.touched?.add(i.id);
    this.items.set(i.id, i);
    this.changed();
  }

  /** Events were lost (never-stale.md): reload the list; an incident an event changed meanwhile keeps the event's. */
  private touched: Set<number> | null = null;
  async resync(): Promise<void> {
    const touched = (this.touched = new Set());
    try {
      const fresh = await incidentApi.list(this.openOnly);
      const ids = new Set(fresh.map((i) => i.id));
      for (const i of fresh) if (!touched.has(i.id)) this.items.set(i.id, i);
      for (const id of [...this.items.keys()]) if (this.openOnly && !ids.has(id) && !touched.has(id)) this.items.delete(id);
    } catch {
      /* the next reconnect tries again */
    } finally {
      if (this.touched === touched) this.touched = null;
    }
    this.changed();
  }

  private prune(): void {
    const cutoff = Date.now() - 10 * 60_000;
    let any = false;
    for (const [k, i] of this.items)
      if (this.openOnly && i.resolved_ms !== null && i.resolved_ms < cutoff) {
        this.items.delete(k);
        any = true;
      }
    if (any) this.changed();
  }

  /** The camera store's state of a camera (null when unknown). */
  liveOf(id: string): LiveState | null {
    const i = this.store?.index.get(id);
    if (!this.store || i === undefined) return null;
    return { state: STATES[this.store.state[i]] ?? "unknown", sinceMs: this.store.since[i] };
  }

  list(): Incident[] {
    return sortIncidents([...this.items.values()]);
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  stop(): void {
    this.unsub?.();
    this.unsubCams?.();
    window.clearInterval(this.timer);
    this.listeners.clear();
  }
}

function pct(x: number): string {
  return `${num(Math.round(x * 100))}%`;
}

/** One incident as a card; actions POST and put the answer back into the book. */
export function incidentCard(inc: Incident, book: IncidentBook, compact: boolean, onError: (m: string) => void): HTMLElement {
  const open = inc.resolved_ms === null;
  const summary = h("span", { class: "inc-summary" }, describeIncident(inc, fmtHM, book.liveOf(inc.subject), (id) => book.liveOf(id)));
  summary.title = t("incidents.openedUtc", { utc: utcTitle(inc.opened_ms) });
  const act = (p: Promise<Incident>) =>
    p.then((i) => book.put(i)).catch((e) => onError((e as Error).message));
  const commentIn = h("input", { type: "text", placeholder: t("incidents.commentHint"), "aria-label": t("incidents.commentHint"), maxlength: 2000 });
  const ack = h(
    "button",
    { "data-testid": "incident-ack", disabled: !!inc.acknowledged_by, onclick: () => act(incidentApi.ack(inc.id, commentIn.value.trim())) },
    inc.acknowledged_by ? t("incidents.acknowledgedBy", { user: inc.acknowledged_by }) : t("incidents.acknowledge"),
  );
  const commentBtn = h(
    "button",
    {
      "data-testid": "incident-comment",
      onclick: () => {
        const text = commentIn.value.trim();
        if (!text) return commentIn.focus();
        act(incidentApi.comment(inc.id, text)).then(() => (commentIn.value = ""));
      },
    },
    t("incidents.comment"),
  );
  const el = h(
    "div",
    {
      class: `incident kind-${inc.kind}${open ? " open" : " resolved"}`,
      "data-testid": "incident",
      "data-id": inc.id,
      "data-kind": inc.kind,
      "data-subject": inc.subject,
      "data-open": open ? "true" : "false",
    },
    h("div", { class: "inc-head" }, h("i", { class: `inc-kind` }, t(`incidents.kind.${inc.kind}`)), summary),
  );
  if (compact) {
    el.append(h("div", { class: "inc-actions" }, ack, h("button", { onclick: () => go("incidents", { id: inc.id }) }, t("incidents.details"))));
    return el;
  }
  el.append(
    h(
      "div",
      { class: "inc-meta" },
      `${t("incidents.opened")} `,
      timeEl(inc.opened_ms, "since"),
      inc.resolved_ms !== null ? h("span", {}, ` · ${t("incidents.resolved")} `, timeEl(inc.resolved_ms, "since")) : "",
      ` · ${t("incidents.confidence", { pct: pct(inc.confidence) })}`,
      inc.reason ? ` · ${inc.reason}` : "",
    ),
  );
  const tampered = tamperBlock(inc, onError);
  if (tampered) el.append(tampered);
  if (inc.cameras.length)
    el.append(h("div", { class: "inc-cams" }, t("incidents.cameras", { list: inc.cameras.slice(0, 12).join(", ") }) + (inc.cameras.length > 12 ? ` … (+${num(inc.cameras.length - 12)})` : "")));
  if (inc.unexplained.length)
    el.append(h("div", { class: "inc-cams warn" }, t("incidents.unexplained", { list: inc.unexplained.slice(0, 12).join(", ") })));
  for (const s of inc.suggestions) {
    const row = h(
      "div",
      { class: "inc-suggestion", "data-testid": "incident-suggestion", "data-id": s.id, "data-status": s.status },
      `${t("incidents.suggestion", { camera: s.camera_id, field: s.field, registry: s.registry_value, suggested: s.suggested_value })} `,
    );
    if (s.status === "open") {
      const decide = (accept: boolean) =>
        incidentApi
          .decide(s.id, accept)
          .then((r) => {
            s.status = r.status;
            book.put({ ...inc });
          })
          .catch((e) => onError((e as Error).message));
      row.append(
        h("button", { "data-testid": "suggestion-accept", onclick: () => decide(true) }, t("incidents.accept")),
        h("button", { "data-testid": "suggestion-reject", onclick: () => decide(false) }, t("incidents.reject")),
      );
    } else row.append(h("b", {}, t(`incidents.suggestionStatus.${s.status}`)));
    el.append(row);
  }
  if (inc.actions.length)
    el.append(
      h(
        "ul",
        { class: "inc-log" },
        ...inc.actions.map((a) =>
          h("li", {}, timeEl(a.t_ms, "since"), ` ${a.actor} ${t(`incidents.action.${a.action}`)}${a.text ? `: ${a.text}` : ""}`),
        ),
      ),
    );
  el.append(h("div", { class: "inc-actions" }, commentIn, commentBtn, ack));
  return el;
}

/** The incident list (full on #/incidents, compact on the map). Returns its element and cleanup. */
export function incidentList(book: IncidentBook, compact: boolean): { el: HTMLElement; destroy: () => void } {
  const list = h("div", { class: "inc-list" });
  const msg = h("div", { class: "inc-msg" });
  const head = h("div", { class: "inc-title" }, h("b", {}, t("incidents.title")), " ", h("span", { "data-testid": "incident-count" }, ""));
  const el = h("section", { class: `incident-panel${compact ? " compact" : ""}`, "data-testid": "incident-panel" }, head, msg, list);
  let focused = "";
  const render = () => {
    const items = book.list();
    const open = items.filter((i) => i.resolved_ms === null).length;
    (head.lastChild as HTMLElement).textContent = t("incidents.openCount", { n: open });
    msg.textContent = book.error ?? (items.length ? "" : t("incidents.none"));
    // On the map, a role without incidents.read sees nothing rather than an error box.
    if (compact) el.hidden = !!book.error && !items.length;
    // Keep a half-typed comment: skip re-rendering while an input inside has focus (re-render on blur).
    const active = document.activeElement;
    if (active && list.contains(active) && active.tagName === "INPUT") {
      focused = "pending";
      return;
    }
    clear(list);
    for (const i of compact ? items.slice(0, 8) : items) list.append(incidentCard(i, book, compact, (m) => (msg.textContent = m)));
    if (compact && items.length > 8) list.append(h("a", { href: "#/incidents" }, t("incidents.more", { n: items.length - 8 })));
  };
  list.addEventListener("focusout", () => {
    if (focused) {
      focused = "";
      setTimeout(render, 0);
    }
  });
  const off = book.onChange(render);
  render();
  return { el, destroy: off };
}

export function mountIncidents(root: HTMLElement, params: URLSearchParams): () => void {
  const book = new IncidentBook(params.get("all") !== "1");
  const all = h("input", { type: "checkbox", checked: params.get("all") === "1", "data-testid": "incident-show-all" });
  all.addEventListener("change", () => go("incidents", { all: all.checked ? "1" : undefined }));
  const { el, destroy } = incidentList(book, false);
  root.append(h("div", { class: "screen incidents-screen" }, h("div", { class: "toolbar" }, h("label", {}, all, ` ${t("incidents.includeResolved")}`)), el));
  void book.start().then(() => {
    const want = params.get("id");
    if (want) el.querySelector(`[data-id="${CSS.escape(want)}"]`)?.scrollIntoView();
  });
  return () => {
    destroy();
    book.stop();
  };
}
